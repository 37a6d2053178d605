// Emulator core: transactions, store access, operations and time. Resource-specific rules
// live in resource_groups.cpp and galleries.cpp.

#include "emulator/emulator.h"

#include <algorithm>
#include <chrono>

#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

ArmError storage_error(const storage::StoreError& e) {
  switch (e.code) {
    case storage::StoreCode::disk_full:
      return ArmError{507, "InsufficientStorage",
                      "The emulator could not write its database: the disk is full (" + e.message +
                          "). Free space and retry; nothing was written.",
                      {}, {}};
    case storage::StoreCode::read_only:
      return ArmError{503, "StorageReadOnly",
                      "The emulator could not write its database: it is read-only (" + e.message +
                          "). Nothing was written.",
                      {}, {}};
    default:
      return internal_error("The emulator's database failed: " + e.message);
  }
}

// An open store transaction that rolls back unless committed: also when the code inside it
// throws (the session turns that into a 500). Left open, every later write would fail with
// "cannot start a transaction within a transaction" until a restart.
class OpenTransaction {
 public:
  explicit OpenTransaction(storage::Store& store) : store_(store) {}
  OpenTransaction(const OpenTransaction&) = delete;
  OpenTransaction& operator=(const OpenTransaction&) = delete;
  ~OpenTransaction() {
    if (!committed_) store_.rollback();
  }
  storage::StoreStatus commit() {
    storage::StoreStatus st = store_.commit();
    committed_ = st.ok();
    return st;
  }

 private:
  storage::Store& store_;
  bool committed_ = false;
};

}  // namespace

Emulator::Emulator(std::unique_ptr<storage::Store> store, const Clock& clock, IdGenerator& ids,
                   RegionCatalog regions, IdentityDirectory identities, EmulatorSettings settings)
    : store_(std::move(store)),
      clock_(clock, settings.virtual_clock),
      ids_(ids),
      regions_(std::move(regions)),
      identities_(std::move(identities)),
      settings_(settings) {
  // The timeline continues across restarts: the offset moved forward by the admin API, and
  // in virtual mode the instant it was left at.
  auto offset = store_->get_meta("clock.offset_ms");
  auto virtual_now = store_->get_meta("clock.virtual_now_ms");
  auto number = [](storage::StoreResult<std::string> text) -> std::int64_t {
    if (!text.ok() || text.value().empty()) return 0;
    try {
      return std::stoll(text.value());
    } catch (const std::exception&) {
      return 0;
    }
  };
  clock_.restore(number(offset), number(virtual_now));
  if (settings_.virtual_clock) persist_clock();
  replay_added_identities();
  load_network_rules();
  (void)ensure_initial_assignments_locked();  // no other thread can see this object yet
}

void Emulator::persist_clock() {
  (void)store_->put_meta("clock.offset_ms", std::to_string(clock_.offset_ms()));
  if (clock_.is_virtual()) (void)store_->put_meta("clock.virtual_now_ms", std::to_string(clock_.virtual_now_ms()));
}

Emulator::~Emulator() = default;

namespace {

// Reports the time from its construction to its end to the emulator's transaction observer.
class TransactionTimer {
 public:
  TransactionTimer(const Emulator::TransactionObserver& observer, bool write)
      : observer_(observer), write_(write), started_(std::chrono::steady_clock::now()) {}
  ~TransactionTimer() {
    if (observer_)
      observer_(write_, std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  }
  TransactionTimer(const TransactionTimer&) = delete;
  TransactionTimer& operator=(const TransactionTimer&) = delete;

 private:
  const Emulator::TransactionObserver& observer_;
  bool write_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

template <class T>
Result<T> Emulator::write(const std::function<Result<T>()>& fn) {
  std::lock_guard lock(mutex_);
  settle_locked();
  TransactionTimer timer(transaction_observer_, true);
  if (auto st = store_->begin(); !st.ok()) return storage_error(st.error());
  OpenTransaction transaction(*store_);
  Result<T> result = fn();
  if (!result.ok()) return result;
  if (auto st = transaction.commit(); !st.ok()) return storage_error(st.error());
  ++generation_;
  return result;
}

template <class T>
Result<T> Emulator::read(const std::function<Result<T>()>& fn) {
  std::lock_guard lock(mutex_);
  settle_locked();
  TransactionTimer timer(transaction_observer_, false);
  return fn();
}

Result<storage::StoreCounts> Emulator::counts() {
  std::lock_guard lock(mutex_);
  settle_locked();
  auto counts = store_->counts();
  if (!counts.ok()) return storage_error(counts.error());
  return std::move(counts.value());
}

// Explicit instantiations for the result types the resource files use.
template Result<WriteOutcome> Emulator::write(const std::function<Result<WriteOutcome>()>&);
template Result<DeleteOutcome> Emulator::write(const std::function<Result<DeleteOutcome>()>&);
template Result<json> Emulator::write(const std::function<Result<json>()>&);
template Result<json> Emulator::read(const std::function<Result<json>()>&);
template Result<ListPage> Emulator::read(const std::function<Result<ListPage>()>&);
template Result<std::optional<json>> Emulator::write(const std::function<Result<std::optional<json>>()>&);
template Result<std::vector<json>> Emulator::read(const std::function<Result<std::vector<json>>()>&);
template Result<bool> Emulator::write(const std::function<Result<bool>()>&);
template Result<std::vector<std::string>> Emulator::read(const std::function<Result<std::vector<std::string>>()>&);
template Result<OperationRef> Emulator::write(const std::function<Result<OperationRef>()>&);

Result<std::optional<json>> Emulator::load(const std::string& id) {
  auto row = store_->get(id);
  if (!row.ok()) return storage_error(row.error());
  if (!row.value()) return std::optional<json>{};
  json body = json::parse(row.value()->body, nullptr, false);
  if (body.is_discarded()) return internal_error("Stored resource '" + id + "' is not valid JSON.");
  return std::optional<json>{std::move(body)};
}

Status Emulator::save(const std::string& id, const std::string& type, const std::string& parent_id,
                      const std::string& name, const json& body) {
  auto st = store_->put(storage::ResourceRow{id, type, parent_id, name, body.dump(), 0});
  if (!st.ok()) return storage_error(st.error());
  return ok_status();
}

Status Emulator::erase_tree(const std::string& id) {
  auto st = store_->remove_tree(id);
  if (!st.ok()) return storage_error(st.error());
  return ok_status();
}

Result<ListPage> Emulator::page(storage::StoreResult<storage::ResourcePage> rows) {
  if (!rows.ok()) return storage_error(rows.error());
  ListPage out;
  for (const auto& row : rows.value().rows) {
    json body = json::parse(row.body, nullptr, false);
    if (!body.is_discarded()) out.items.push_back(std::move(body));
  }
  if (rows.value().next_after) out.continuation = std::to_string(*rows.value().next_after);
  return out;
}

Result<std::int64_t> Emulator::parse_continuation(const std::string& token) {
  if (token.empty()) return std::int64_t{0};
  std::int64_t value = 0;
  for (char c : token) {
    if (c < '0' || c > '9' || value > (INT64_MAX - 9) / 10)
      return bad_request("InvalidSkipToken", "The $skiptoken '" + token + "' is not valid.");
    value = value * 10 + (c - '0');
  }
  return value;
}

Status Emulator::require_subscription(const std::string& sub) {
  if (identities_.find_subscription(sub)) return ok_status();
  return not_found("SubscriptionNotFound", "The subscription '" + sub + "' could not be found.");
}

Result<json> Emulator::require_resource_group(const std::string& sub, const std::string& rg) {
  if (auto st = require_subscription(sub); !st) return std::move(st).error();
  auto group = load("/subscriptions/" + sub + "/resourceGroups/" + rg);
  if (!group) return std::move(group).error();
  if (!*group)
    return not_found("ResourceGroupNotFound", "Resource group '" + rg + "' could not be found.");
  if (group.value()->value("/properties/provisioningState"_json_pointer, "") == "Deleting")
    return conflict("ResourceGroupBeingDeleted",
                    "The resource group '" + rg +
                        "' is in deprovisioning state and cannot perform this operation.");
  return std::move(**group);
}

// --- Operations -------------------------------------------------------------------------

Result<std::optional<OperationRef>> Emulator::begin_operation(const std::string& kind,
                                                              const std::string& resource_id,
                                                              const std::string& sub,
                                                              const std::string& location,
                                                              std::optional<std::int64_t> due_ms,
                                                              const std::string& payload) {
  const std::int64_t now = clock_.now_ms();
  if (!due_ms && settings_.operation_delay_ms <= 0) return std::optional<OperationRef>{};
  const std::int64_t due = std::max(due_ms.value_or(now), now + settings_.operation_delay_ms);
  storage::OperationRow op{ids_.uuid(), kind, resource_id, location, sub, "InProgress",
                           format_arm_time(now), "", due, "", payload};
  if (auto st = store_->put_operation(op); !st.ok()) return storage_error(st.error());
  return std::optional<OperationRef>{OperationRef{op.id, sub, location}};
}

Result<OperationStatus> Emulator::get_operation(const std::string& sub, const std::string& id) {
  std::lock_guard lock(mutex_);
  settle_locked();
  auto op = store_->get_operation(id);
  if (!op.ok()) return storage_error(op.error());
  if (!op.value() || !iequals(op.value()->subscription, sub))
    return not_found("OperationNotFound", "The operation '" + id + "' could not be found.");
  const auto& row = *op.value();
  OperationStatus status{row.id, row.kind, row.status, row.start_time, row.end_time, {}, row.resource_id, {}};
  if (!row.error.empty()) status.error = error_from_json(json::parse(row.error, nullptr, false), 200);
  if (row.kind == "share" && row.status == "Succeeded" && !row.payload.empty())
    status.result = json::parse(row.payload, nullptr, false);
  return status;
}

Result<std::vector<OperationStatus>> Emulator::recent_operations(std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto rows = store_->recent_operations(static_cast<int>(std::min<std::size_t>(limit, 10000)));
  if (!rows.ok()) return storage_error(rows.error());
  std::vector<OperationStatus> out;
  for (const auto& row : rows.value()) {
    OperationStatus status{row.id, row.kind, row.status, row.start_time, row.end_time, {}, row.resource_id, {}};
    if (!row.error.empty()) status.error = error_from_json(json::parse(row.error, nullptr, false), 200);
    out.push_back(std::move(status));
  }
  return out;
}

Result<Emulator::Finish> Emulator::finish_provisioning(const storage::OperationRow& op) {
  auto stored = store_->get(op.resource_id);
  if (!stored.ok()) return storage_error(stored.error());
  if (!stored.value()) return Finish{"Canceled", std::nullopt, 0};  // deleted meanwhile
  storage::ResourceRow row = *stored.value();
  json body = json::parse(row.body, nullptr, false);
  if (body.is_discarded()) return internal_error("Stored resource is not valid JSON.");
  Finish finish{"Succeeded", std::nullopt, 0};
  if (body.value("/properties/publishingProfile/targetRegions"_json_pointer, json()).is_array()) {
    auto jobs = jobs_of(body);
    if (!jobs) return std::move(jobs).error();
    const std::string state = aggregate(*jobs);
    if (state.empty()) {
      // A later update started more copies: this operation ends with them.
      std::int64_t last = clock_.now_ms();
      for (const auto& j : *jobs)
        if (j.state == kReplicating) last = std::max(last, j.due_ms);
      return Finish{"", std::nullopt, last};
    }
    if (state == "Failed") finish = Finish{"Failed", replication_failure(*jobs, regions_), 0};
  }
  body["properties"]["provisioningState"] = finish.status;
  row.body = body.dump();
  if (auto st = store_->put(row); !st.ok()) return storage_error(st.error());
  return finish;
}

Result<Emulator::Finish> Emulator::finish_deletion(const storage::OperationRow& op) {
  if (auto st = erase_tree(op.resource_id); !st) return std::move(st).error();
  return Finish{"Succeeded", std::nullopt, 0};
}

// A resource deleted while its provisioning runs ends that provisioning: Canceled.
Status Emulator::cancel_operations_of(const std::string& resource_id) {
  auto pending = store_->pending_operations_of(resource_id);
  if (!pending.ok()) return storage_error(pending.error());
  for (storage::OperationRow op : pending.value()) {
    if (op.kind != "provision") continue;
    op.status = "Canceled";
    op.end_time = format_arm_time(clock_.now_ms());
    if (auto st = store_->put_operation(op); !st.ok()) return storage_error(st.error());
  }
  return ok_status();
}

// Jobs due on the clock move to Completed or Failed, a batch per transaction.
void Emulator::settle_jobs_locked() {
  constexpr int kBatch = 2000;
  for (;;) {
    auto due = store_->due_jobs(clock_.now_ms(), kBatch);
    if (!due.ok() || due.value().empty()) return;
    if (!store_->begin().ok()) return;
    OpenTransaction transaction(*store_);
    for (storage::ReplicationJobRow& job : due.value()) {
      settle_job(job);
      if (!store_->put_job(job).ok()) return;  // rolled back, retried on the next settle
    }
    if (!transaction.commit().ok()) return;
    ++generation_;
    if (static_cast<int>(due.value().size()) < kBatch) return;
  }
}

void Emulator::settle_locked() {
  settle_jobs_locked();
  auto due = store_->due_operations(clock_.now_ms());
  if (!due.ok() || due.value().empty()) return;
  for (storage::OperationRow op : due.value()) {
    if (!store_->begin().ok()) return;
    OpenTransaction transaction(*store_);
    Result<Finish> finished = op.kind == "delete"  ? finish_deletion(op)
                              : op.kind == "share" ? finish_sharing(op)
                              : op.kind == "purge" ? finish_purge(op)
                              // A power action changed the VM when it was asked for; only its answer is long-running.
                              : op.kind == "power" ? Result<Finish>(Finish{"Succeeded", std::nullopt, 0})
                                                   : finish_provisioning(op);
    if (!finished) finished = Finish{"Failed", finished.error(), 0};
    if (finished->status.empty()) {
      op.due_ms = std::max(finished->due_again_ms, clock_.now_ms() + 1);
    } else {
      op.status = finished->status;
      if (finished->error) op.error = error_to_json(*finished->error).dump();
      op.end_time = format_arm_time(clock_.now_ms());
    }
    if (!store_->put_operation(op).ok() || !transaction.commit().ok()) return;  // rolled back, retried later
  }
}

// --- Replication ----------------------------------------------------------------------------

Result<std::vector<storage::ReplicationJobRow>> Emulator::jobs_of(const json& artifact) {
  const std::string id = artifact.value("id", "");
  auto jobs = store_->jobs_of(id);
  if (!jobs.ok()) return storage_error(jobs.error());
  if (!jobs.value().empty()) return std::move(jobs.value());
  // Stored before replication was simulated: Completed wherever it was provisioned.
  if (artifact.value("/properties/provisioningState"_json_pointer, "") != "Succeeded") return std::move(jobs.value());
  std::vector<storage::ReplicationJobRow> legacy;
  for (const json& r : artifact.value("/properties/publishingProfile/targetRegions"_json_pointer, json::array())) {
    const Region* region = regions_.find(r.value("name", ""));
    legacy.push_back({id, region ? region->name : normalize_location(r.value("name", "")), "", kCompleted, 0, 0,
                      r.value("regionalReplicaCount", 1), r.value("storageAccountType", "Standard_LRS"), ""});
  }
  return legacy;
}

Result<std::optional<std::int64_t>> Emulator::replicate(const json& artifact, const std::string& sub) {
  auto existing = jobs_of(artifact);
  if (!existing) return std::move(existing).error();
  const json& properties = artifact["properties"];
  ReplicationContext context{settings_.replication, regions_, faults_, clock_.now_ms(), artifact["id"], sub,
                             artifact.value("location", ""), source_size_gib(properties), false};
  ReplicationPlan plan = plan_replication(*existing, properties["publishingProfile"], context);
  for (const std::string& region : plan.removed_regions)
    if (auto st = store_->remove_job(context.artifact_id, region); !st.ok()) return storage_error(st.error());
  for (const storage::ReplicationJobRow& job : plan.put)
    if (auto st = store_->put_job(job); !st.ok()) return storage_error(st.error());
  if (!aggregate(plan.result).empty()) {
    // Finished already (instant copies): a failure still answers through an operation,
    // as the real service's does.
    if (aggregate(plan.result) == "Failed") return std::optional<std::int64_t>{clock_.now_ms()};
    return std::optional<std::int64_t>{};
  }
  std::int64_t last = clock_.now_ms();
  for (const auto& j : plan.result)
    if (j.state == kReplicating) last = std::max(last, j.due_ms);
  return std::optional<std::int64_t>{last};
}

Result<json> Emulator::cached_replication_status(const json& artifact) {
  const std::string key = to_lower(artifact.value("id", ""));
  const std::int64_t now = clock_.now_ms();
  if (auto hit = status_cache_.find(key); hit != status_cache_.end()) {
    const CachedStatus& c = hit->second;
    if (c.generation == generation_ && now >= c.from_ms && now < c.until_ms) return c.status;
  }
  auto jobs = jobs_of(artifact);
  if (!jobs) return std::move(jobs).error();
  json status = replication_status(artifact["properties"]["publishingProfile"], *jobs, regions_, now);
  if (status_cache_.size() >= 4096) status_cache_.clear();  // bounded: a cache, not a copy of the store
  status_cache_[key] = CachedStatus{generation_, now, status_stable_until(*jobs, now), status};
  return status;
}

Result<json> Emulator::replications(std::size_t top) {
  std::lock_guard lock(mutex_);
  settle_locked();
  auto jobs = store_->active_jobs();
  if (!jobs.ok()) return storage_error(jobs.error());
  const std::int64_t now = clock_.now_ms();
  json value = json::array();
  for (const auto& j : jobs.value()) {
    if (value.size() >= top) break;
    const Region* region = regions_.find(j.region);
    value.push_back({{"artifactId", j.artifact_id},
                     {"region", region ? region->display_name : j.region},
                     {"regionName", j.region},
                     {"state", j.state},
                     {"progress", progress(j, now)},
                     {"replicaCount", j.replica_count},
                     {"storageAccountType", j.storage_type},
                     {"startTime", format_arm_time(j.started_ms)},
                     {"dueTime", format_arm_time(j.due_ms)},
                     {"remainingSeconds", static_cast<double>(std::max<std::int64_t>(0, j.due_ms - now)) / 1000},
                     {"willFail", !j.error.empty()}});
  }
  return json{{"count", jobs.value().size()}, {"value", value}};
}

Status Emulator::advance_clock(std::int64_t delta_ms) {
  std::lock_guard lock(mutex_);
  clock_.advance_ms(delta_ms);
  persist_clock();
  settle_locked();
  return ok_status();
}

json Emulator::clock_info() {
  const std::int64_t now = clock_.now_ms();
  return {{"mode", clock_.is_virtual() ? "virtual" : "system"},
          {"now", format_arm_time(now)},
          {"nowMs", now},
          {"offsetMs", clock_.offset_ms()}};
}

void Emulator::settle() {
  std::lock_guard lock(mutex_);
  settle_locked();
}

std::optional<std::int64_t> Emulator::next_due_ms() {
  std::lock_guard lock(mutex_);
  auto next = store_->next_due_ms();
  if (!next.ok()) return std::nullopt;
  return next.value();
}

Status Emulator::reset() {
  std::lock_guard lock(mutex_);
  auto st = store_->clear();
  if (!st.ok()) return storage_error(st.error());
  ++generation_;
  faults_.clear();
  network_rules_.clear();
  policy_events_.clear();
  (void)store_->put_meta("network.rules", "{}");
  // Run-time quota overrides and accepted marketplace terms are state like the rest; the
  // config file's quotas stay.
  (void)store_->put_meta("quota.overrides", "{}");
  (void)store_->put_meta("marketplace.agreements", "{}");
  (void)store_->put_meta("build.logs", "[]");
  return ensure_initial_assignments_locked();
}

}  // namespace acg
