#include "emulator/replication.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_map>

#include "emulator/region_catalog.h"
#include "emulator/request_body.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;
using storage::ReplicationJobRow;

// --- Model ------------------------------------------------------------------------------

namespace {

Status read_number(const json& config, const char* key, double& out, double min, double max) {
  const json& v = json_member(config, key);
  if (v.is_null()) return ok_status();
  if (!v.is_number() || v.get<double>() < min || v.get<double>() > max)
    return bad_request("InvalidConfiguration", std::string("replication.") + key + " must be a number between " +
                                                   std::to_string(min) + " and " + std::to_string(max) + ".",
                       std::string("replication.") + key);
  out = v.get<double>();
  return ok_status();
}

// A stable factor in [1 - jitter, 1 + jitter] for one job: the same seed, version and region
// always give the same duration.
double jitter_factor(const ReplicationModel& model, const std::string& artifact_id, const std::string& region) {
  if (model.jitter <= 0) return 1;
  std::seed_seq seq{static_cast<std::uint32_t>(model.jitter_seed), static_cast<std::uint32_t>(model.jitter_seed >> 32),
                    static_cast<std::uint32_t>(std::hash<std::string>{}(to_lower(artifact_id) + "|" + region))};
  std::mt19937 rng(seq);
  std::uniform_real_distribution<double> uniform(1 - model.jitter, 1 + model.jitter);
  return uniform(rng);
}

}  // namespace

Result<ReplicationModel> ReplicationModel::from_json(const json& config, ReplicationModel m) {
  if (config.is_null()) return m;
  if (!config.is_object()) return bad_request("InvalidConfiguration", "replication must be an object.", "replication");
  for (auto [key, out, max] : {std::tuple{"baseSecondsPerRegion", &m.base_seconds, 1e7},
                               std::tuple{"secondsPerGiB", &m.seconds_per_gib, 1e6},
                               std::tuple{"extraReplicaFactor", &m.extra_replica_factor, 10.0},
                               std::tuple{"distanceFactorPer1000Km", &m.distance_factor_per_1000km, 10.0},
                               std::tuple{"shallowFactor", &m.shallow_factor, 1.0},
                               std::tuple{"jitter", &m.jitter, 0.9},
                               std::tuple{"speed", &m.speed, 1e9}})
    if (auto st = read_number(config, key, *out, 0, max); !st) return std::move(st).error();
  const json& seed = json_member(config, "jitterSeed");
  if (seed.is_number_unsigned() || seed.is_number_integer()) m.jitter_seed = seed.get<std::uint64_t>();
  const json& factors = json_member(config, "storageTypeFactors");
  if (factors.is_object())
    for (auto& [type, value] : factors.items()) {
      double factor = 1;
      if (auto st = read_number(factors, type.c_str(), factor, 0.01, 100); !st) return std::move(st).error();
      m.storage_factors[type] = factor;
    }
  return m;
}

std::int64_t duration_ms(const ReplicationModel& model, const CopyRequest& copy) {
  if (model.instant()) return 0;
  const double copy_seconds = model.base_seconds + model.seconds_per_gib * copy.size_gib;
  auto factor = model.storage_factors.find(copy.storage_type);
  const double storage = factor == model.storage_factors.end() ? 1.0 : factor->second;
  const double mode = copy.shallow ? model.shallow_factor : 1.0;
  double seconds;
  if (copy.within_region) {
    seconds = copy_seconds * model.extra_replica_factor * std::max(1, copy.replicas) * storage * mode;
  } else {
    seconds = copy_seconds * (1 + model.extra_replica_factor * std::max(0, copy.replicas - 1)) * storage *
              (1 + model.distance_factor_per_1000km * copy.distance_km / 1000) * mode;
  }
  seconds *= jitter_factor(model, copy.artifact_id, copy.region) * copy.slow_factor;
  return static_cast<std::int64_t>(std::llround(seconds * 1000 / model.speed));
}

// --- Faults -----------------------------------------------------------------------------

void FaultPlan::add_region_fault(RegionFault fault) {
  std::lock_guard lock(mutex_);
  regions_.push_back(std::move(fault));
}

void FaultPlan::add_operation_fault(OperationFault fault) {
  std::lock_guard lock(mutex_);
  operations_.push_back(std::move(fault));
}

void FaultPlan::seed(std::uint64_t seed) {
  std::lock_guard lock(mutex_);
  random_.seed(seed);
}

void FaultPlan::clear() {
  std::lock_guard lock(mutex_);
  regions_.clear();
  operations_.clear();
}

json FaultPlan::to_json() const {
  std::lock_guard lock(mutex_);
  json regions = json::array(), operations = json::array();
  for (const RegionFault& f : regions_)
    regions.push_back({{"region", f.region},
                       {"fail", f.fail},
                       {"probability", f.probability},
                       {"slowFactor", f.slow_factor}});
  for (const OperationFault& f : operations_)
    operations.push_back({{"method", f.method},
                          {"resourceType", f.resource_type},
                          {"remaining", f.remaining},
                          {"status", f.error.status},
                          {"code", f.error.code}});
  return {{"regions", regions}, {"operations", operations}};
}

FaultPlan::Effect FaultPlan::effect_on(const std::string& region) {
  std::lock_guard lock(mutex_);
  Effect effect;
  for (const RegionFault& f : regions_) {
    if (normalize_location(f.region) != normalize_location(region)) continue;
    effect.slow_factor *= f.slow_factor;
    if (!f.fail || effect.error) continue;
    std::uniform_real_distribution<double> roll(0, 1);
    if (f.probability >= 1 || roll(random_) < f.probability)
      effect.error = ArmError{500, "InternalServerError", "Failed with internal server error.", {}, {}};
  }
  return effect;
}

std::optional<ArmError> FaultPlan::take_operation_fault(const std::string& method, const std::string& resource_type) {
  std::lock_guard lock(mutex_);
  for (auto it = operations_.begin(); it != operations_.end(); ++it) {
    if (it->method != "*" && !iequals(it->method, method)) continue;
    if (it->resource_type != "*" && !iequals(it->resource_type, resource_type)) continue;
    ArmError error = it->error;
    if (--it->remaining <= 0) operations_.erase(it);
    return error;
  }
  return std::nullopt;
}

// --- Jobs -------------------------------------------------------------------------------

namespace {

const ReplicationJobRow* find_job(const std::vector<ReplicationJobRow>& jobs, const std::string& region) {
  for (const ReplicationJobRow& j : jobs)
    if (iequals(j.region, region)) return &j;
  return nullptr;
}

double distance_between(const RegionCatalog& regions, const std::string& a, const std::string& b) {
  const Region* ra = regions.find(a);
  const Region* rb = regions.find(b);
  return ra && rb ? regions.distance_km(*ra, *rb) : 0;
}

}  // namespace

ReplicationJobRow start_job(const CopyRequest& copy, ReplicationContext& context, int replica_count) {
  FaultPlan::Effect effect = context.faults.effect_on(copy.region);
  CopyRequest slowed = copy;
  slowed.slow_factor = effect.slow_factor;
  ReplicationJobRow job;
  job.artifact_id = context.artifact_id;
  job.region = copy.region;
  job.subscription = context.subscription;
  job.state = kReplicating;
  job.started_ms = context.now_ms;
  job.due_ms = context.now_ms + duration_ms(context.model, slowed);
  job.replica_count = replica_count;
  job.storage_type = copy.storage_type;
  if (effect.error) job.error = error_to_json(*effect.error).dump();
  return job;
}

void settle_job(ReplicationJobRow& job) { job.state = job.error.empty() ? kCompleted : kFailed; }

ReplicationPlan plan_replication(const std::vector<ReplicationJobRow>& existing, const json& profile,
                                 ReplicationContext& context) {
  ReplicationPlan plan;
  const bool shallow = iequals(json_text(profile, "replicationMode"), "Shallow");
  for (const json& target : json_member(profile, "targetRegions")) {
    const Region* region = context.regions.find(json_text(target, "name"));
    const std::string name = region ? region->name : normalize_location(json_text(target, "name"));
    const int replicas = target.value("regionalReplicaCount", 1);
    const std::string storage = target.value("storageAccountType", "Standard_LRS");
    CopyRequest copy{context.artifact_id, name, context.size_gib, replicas, storage,
                     distance_between(context.regions, context.home_region, name), shallow, false, 1};
    const ReplicationJobRow* before = find_job(existing, name);
    ReplicationJobRow job;
    if (!before || before->state == kFailed || before->storage_type != storage) {
      job = start_job(copy, context, replicas);  // new region, retry, or a copy of another kind
    } else if (before->state == kCompleted && replicas > before->replica_count) {
      copy.within_region = true;
      copy.replicas = replicas - before->replica_count;
      job = start_job(copy, context, replicas);
    } else if (before->state == kReplicating && replicas != before->replica_count) {
      job = start_job(copy, context, replicas);  // the copy in flight restarts with the new count
    } else {
      job = *before;
      if (job.replica_count == replicas) {
        plan.result.push_back(job);
        continue;
      }
      job.replica_count = replicas;  // fewer replicas: removed at once
    }
    if (context.model.instant() && job.state == kReplicating) settle_job(job);
    plan.put.push_back(job);
    plan.result.push_back(job);
  }
  for (const ReplicationJobRow& j : existing)
    if (!find_job(plan.result, j.region)) plan.removed_regions.push_back(j.region);
  return plan;
}

int progress(const ReplicationJobRow& job, std::int64_t now_ms) {
  if (job.state == kCompleted) return 100;
  if (job.due_ms <= job.started_ms) return job.state == kFailed ? 0 : 99;
  const double share = static_cast<double>(std::clamp(now_ms, job.started_ms, job.due_ms) - job.started_ms) /
                       static_cast<double>(job.due_ms - job.started_ms);
  // A job still Replicating never shows 100: that is Completed's.
  return std::min(99, static_cast<int>(share * 100));
}

std::string aggregate(const std::vector<ReplicationJobRow>& jobs) {
  bool failed = false;
  for (const ReplicationJobRow& j : jobs) {
    if (j.state == kReplicating) return "";
    if (j.state == kFailed) failed = true;
  }
  return failed ? "Failed" : "Succeeded";
}

namespace {

std::string failure_detail(const ReplicationJobRow& job) {
  json error = json::parse(job.error, nullptr, false);
  if (error.is_object() && error.contains("error")) error = error["error"];
  return error.is_object() ? error.value("message", "Failed.") : "Failed.";
}

}  // namespace

ArmError replication_failure(const std::vector<ReplicationJobRow>& jobs, const RegionCatalog& regions) {
  std::string details;
  for (const ReplicationJobRow& j : jobs) {
    if (j.state != kFailed) continue;
    const Region* r = regions.find(j.region);
    details += std::string(details.empty() ? "" : ", ") + "{region:" + (r ? r->name : j.region) +
               ", detail:" + failure_detail(j) + "}";
  }
  return ArmError{200, "GalleryImageVersionReplicationFailed",
                  "Gallery replication jobs failed in one or more regions. The failing regions' details are as "
                  "follows: '" + details +
                      "'. If retry does not work, then please do an update by removing the failed regions and "
                      "update again by adding them back.",
                  {}, {}};
}

json replication_status(const json& profile, const std::vector<ReplicationJobRow>& jobs, const RegionCatalog& regions,
                        std::int64_t now_ms) {
  // Jobs by programmatic region name (how they are stored): one lookup per target region,
  // so a 50-region status costs what a 50-region GET does.
  std::unordered_map<std::string, const ReplicationJobRow*> by_region;
  by_region.reserve(jobs.size());
  for (const ReplicationJobRow& j : jobs) by_region.emplace(j.region, &j);  // stored lower-case
  json summary = json::array();
  bool any_replicating = false, any_failed = false;
  for (const json& target : json_member(profile, "targetRegions")) {
    const std::string display = json_text(target, "name");
    const Region* region = regions.find(display);
    auto found = by_region.find(region ? region->name : normalize_location(display));
    const ReplicationJobRow* job = found == by_region.end() ? nullptr : found->second;
    const std::string state = job ? job->state : kReplicating;
    any_replicating |= state == kReplicating;
    any_failed |= state == kFailed;
    json entry = {{"region", display}, {"state", state}, {"progress", job ? progress(*job, now_ms) : 0}};
    entry["details"] = state == kFailed ? failure_detail(*job) : state == kReplicating ? "Processing" : "";
    summary.push_back(std::move(entry));
  }
  const char* aggregated = any_failed ? "Failed" : any_replicating ? "InProgress" : "Completed";
  return {{"aggregatedState", aggregated}, {"summary", summary}};
}

std::int64_t status_stable_until(const std::vector<ReplicationJobRow>& jobs, std::int64_t now_ms) {
  std::int64_t until = INT64_MAX;
  for (const ReplicationJobRow& j : jobs) {
    if (j.state != kReplicating) continue;
    const std::int64_t duration = j.due_ms - j.started_ms;
    if (duration <= 0) return now_ms + 1;
    // progress() shows floor(100 x elapsed / duration): the next percent starts at the first
    // elapsed time e with 100 x e >= (shown + 1) x duration.
    const int shown = progress(j, now_ms);
    const std::int64_t next = j.started_ms + ((shown + 1) * duration + 99) / 100;
    until = std::min(until, std::max(next, now_ms + 1));
  }
  return until;
}

double source_size_gib(const json& properties) {
  double total = 0;
  const json& storage = json_member(properties, "storageProfile");
  const json& os = json_member(storage, "osDiskImage");
  if (json_member(os, "sizeInGB").is_number()) total += os["sizeInGB"].get<double>();
  for (const json& d : json_member(storage, "dataDiskImages"))
    if (json_member(d, "sizeInGB").is_number()) total += d["sizeInGB"].get<double>();
  if (total > 0) return total;
  return json_member(properties, "storageProfile").is_null() ? 1 : 30;
}

}  // namespace acg
