// The replication state machine and duration model, without HTTP or a database: jobs are
// planned and settled on a fake clock.

#include <catch2/catch.hpp>
#include <set>

#include "emulator/region_catalog.h"
#include "emulator/replication.h"

using namespace acg;
using nlohmann::json;
using storage::ReplicationJobRow;

namespace {

constexpr std::int64_t kStart = 1795795200000;

ReplicationModel model_at(double speed) {
  ReplicationModel m;
  m.speed = speed;
  return m;
}

json profile(const json& regions, const std::string& mode = "Full") {
  return {{"targetRegions", regions}, {"replicationMode", mode}};
}

json region(const char* name, int replicas = 1, const char* storage = "Standard_LRS") {
  return {{"name", name}, {"regionalReplicaCount", replicas}, {"storageAccountType", storage}};
}

struct Planner {
  ReplicationModel model = model_at(1);
  RegionCatalog regions = *RegionCatalog::builtin("AzureCloud");
  FaultPlan faults;
  std::int64_t now = kStart;

  ReplicationPlan plan(const std::vector<ReplicationJobRow>& existing, const json& p) {
    ReplicationContext context{model, regions, faults, now, "/subscriptions/s/resourceGroups/rg/providers/"
                               "Microsoft.Compute/galleries/g/images/d/versions/1.0.0",
                               "s", "westus", 30, false};
    return plan_replication(existing, p, context);
  }
};

const ReplicationJobRow& job_in(const std::vector<ReplicationJobRow>& jobs, const std::string& region) {
  for (const auto& j : jobs)
    if (j.region == region) return j;
  FAIL("no job for " << region);
  return jobs.front();
}

}  // namespace

TEST_CASE("duration: base plus size, scaled by replicas, storage, distance, mode and speed", "[replication]") {
  const ReplicationModel m = model_at(1);
  CopyRequest copy{"v", "westus", 30, 1, "Standard_LRS", 0, false, false, 1};
  CHECK(duration_ms(m, copy) == 900'000);  // 300 + 20 x 30 seconds
  copy.replicas = 3;
  CHECK(duration_ms(m, copy) == 1'260'000);  // x (1 + 0.2 x 2)
  copy.replicas = 1;
  copy.storage_type = "Standard_ZRS";
  CHECK(duration_ms(m, copy) == 1'170'000);  // x 1.3
  copy.storage_type = "Standard_LRS";
  copy.distance_km = 5000;
  CHECK(duration_ms(m, copy) == 1'350'000);  // x (1 + 0.1 x 5)
  copy.distance_km = 0;
  copy.shallow = true;
  CHECK(duration_ms(m, copy) == 90'000);  // x 0.1
  copy.shallow = false;
  copy.within_region = true;
  copy.replicas = 2;
  CHECK(duration_ms(m, copy) == 360'000);  // only 2 more replicas: 900 x 0.2 x 2
  copy.within_region = false;
  copy.replicas = 1;
  copy.slow_factor = 4;
  CHECK(duration_ms(m, copy) == 3'600'000);
  copy.slow_factor = 1;
  CHECK(duration_ms(model_at(1000), copy) == 900);
  CHECK(duration_ms(model_at(0), copy) == 0);  // instant
}

TEST_CASE("jitter is seeded: the same seed, version and region give the same duration", "[replication]") {
  ReplicationModel m = model_at(1);
  m.jitter = 0.5;
  m.jitter_seed = 42;
  CopyRequest copy{"v", "westus", 30, 1, "Standard_LRS", 0, false, false, 1};
  const auto first = duration_ms(m, copy);
  CHECK(duration_ms(m, copy) == first);
  CHECK(first >= 450'000);
  CHECK(first <= 1'350'000);
  std::set<std::int64_t> seen;
  for (const char* r : {"westus", "eastus", "northeurope", "japaneast", "uksouth"}) {
    copy.region = r;
    seen.insert(duration_ms(m, copy));
  }
  CHECK(seen.size() > 1);
  m.jitter_seed = 43;
  copy.region = "westus";
  CHECK(duration_ms(m, copy) != first);
}

TEST_CASE("a model from config: known keys override, bad values are refused", "[replication]") {
  auto m = ReplicationModel::from_json(json{{"baseSecondsPerRegion", 60}, {"speed", 10},
                                            {"storageTypeFactors", {{"Premium_LRS", 2}}}},
                                       ReplicationModel{});
  REQUIRE(m);
  CHECK(m->base_seconds == 60);
  CHECK(m->speed == 10);
  CHECK(m->storage_factors["Premium_LRS"] == 2);
  CHECK(m->seconds_per_gib == 20);
  auto bad = ReplicationModel::from_json(json{{"jitter", 2}}, ReplicationModel{});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().target == "replication.jitter");
  CHECK_FALSE(ReplicationModel::from_json(json{{"speed", "fast"}}, ReplicationModel{}));
}

TEST_CASE("start_job → Replicating; settle_job → Completed or Failed; progress in between", "[replication]") {
  Planner p;
  auto plan = p.plan({}, profile(json::array({region("West US"), region("eastus")})));
  REQUIRE(plan.put.size() == 2);
  REQUIRE(plan.removed_regions.empty());
  ReplicationJobRow west = job_in(plan.put, "westus");
  CHECK(west.state == "Replicating");
  CHECK(west.started_ms == kStart);
  CHECK(west.due_ms == kStart + 900'000);
  CHECK(aggregate(plan.result).empty());

  CHECK(progress(west, kStart) == 0);
  CHECK(progress(west, kStart + 450'000) == 50);
  CHECK(progress(west, kStart + 900'000) == 99);  // due but not yet settled: never 100 while Replicating
  int last = 0;
  for (std::int64_t t = kStart; t <= west.due_ms; t += 30'000) {
    CHECK(progress(west, t) >= last);
    last = progress(west, t);
  }
  // The status shown stays the same until the next percent.
  CHECK(status_stable_until({west}, kStart) == kStart + 9'000);
  CHECK(progress(west, kStart + 8'999) == 0);
  CHECK(progress(west, kStart + 9'000) == 1);
  CHECK(status_stable_until({west}, kStart + 450'000) == kStart + 459'000);
  settle_job(west);
  CHECK(status_stable_until({west}, kStart) == INT64_MAX);
  CHECK(west.state == "Completed");
  CHECK(progress(west, kStart) == 100);

  ReplicationJobRow failing = job_in(plan.put, "eastus");
  failing.error = R"({"error":{"code":"InternalServerError","message":"Failed with internal server error."}})";
  settle_job(failing);
  CHECK(failing.state == "Failed");
  CHECK(aggregate({west, failing}) == "Failed");
  CHECK(aggregate({west}) == "Succeeded");
  const ArmError error = replication_failure({west, failing}, p.regions);
  CHECK(error.code == "GalleryImageVersionReplicationFailed");
  CHECK(error.message.find("{region:eastus, detail:Failed with internal server error.}") != std::string::npos);
}

TEST_CASE("planning a republication copies only the difference", "[replication]") {
  Planner p;
  auto first = p.plan({}, profile(json::array({region("westus"), region("eastus")})));
  std::vector<ReplicationJobRow> jobs = first.result;
  for (auto& j : jobs) settle_job(j);
  p.now += 3'600'000;

  SECTION("an unchanged profile plans nothing") {
    auto again = p.plan(jobs, profile(json::array({region("westus"), region("eastus")})));
    CHECK(again.put.empty());
    CHECK(again.removed_regions.empty());
    CHECK(aggregate(again.result) == "Succeeded");
  }
  SECTION("a new region starts; the others stay Completed") {
    auto more = p.plan(jobs, profile(json::array({region("westus"), region("eastus"), region("northeurope")})));
    REQUIRE(more.put.size() == 1);
    CHECK(more.put[0].region == "northeurope");
    CHECK(more.put[0].started_ms == p.now);
    CHECK(job_in(more.result, "westus").state == "Completed");
  }
  SECTION("more replicas copy only the added ones, inside the region") {
    auto grown = p.plan(jobs, profile(json::array({region("westus", 3), region("eastus")})));
    REQUIRE(grown.put.size() == 1);
    CHECK(grown.put[0].replica_count == 3);
    CHECK(grown.put[0].due_ms - grown.put[0].started_ms == 360'000);
  }
  SECTION("fewer replicas finish at once") {
    jobs[0].replica_count = 3;
    auto shrunk = p.plan(jobs, profile(json::array({region("westus", 1), region("eastus")})));
    REQUIRE(shrunk.put.size() == 1);
    CHECK(shrunk.put[0].state == "Completed");
    CHECK(shrunk.put[0].replica_count == 1);
  }
  SECTION("a dropped region is removed, a failed one retried, another storage type copied again") {
    jobs[1].state = "Failed";
    auto next = p.plan(jobs, profile(json::array({region("eastus"), region("westus", 1, "Premium_LRS")})));
    CHECK(next.removed_regions.empty());
    REQUIRE(next.put.size() == 2);
    CHECK(job_in(next.put, "eastus").state == "Replicating");
    CHECK(job_in(next.put, "westus").storage_type == "Premium_LRS");
    auto fewer = p.plan(jobs, profile(json::array({region("westus")})));
    CHECK(fewer.removed_regions == std::vector<std::string>{"eastus"});
  }
}

TEST_CASE("faults: a failing region plans its error, a slow one takes longer, instant settles at once", "[replication]") {
  Planner p;
  p.faults.add_region_fault({"eastus", true, 1, 1});
  p.faults.add_region_fault({"westus", false, 1, 2});
  auto plan = p.plan({}, profile(json::array({region("westus"), region("eastus")})));
  CHECK(job_in(plan.put, "westus").due_ms - kStart == 1'800'000);
  CHECK_FALSE(job_in(plan.put, "eastus").error.empty());
  CHECK(job_in(plan.put, "westus").error.empty());

  p.model = model_at(0);
  auto instant = p.plan({}, profile(json::array({region("westus"), region("eastus")})));
  CHECK(job_in(instant.put, "westus").state == "Completed");
  CHECK(job_in(instant.put, "eastus").state == "Failed");

  // A probability with a seed fails some jobs, the same ones every time.
  auto failures = [](std::uint64_t seed) {
    FaultPlan plan;
    plan.seed(seed);
    plan.add_region_fault({"eastus", true, 0.5, 1});
    std::string pattern;
    for (int i = 0; i < 32; ++i) pattern += plan.effect_on("eastus").error ? 'F' : '.';
    return pattern;
  };
  CHECK(failures(7) == failures(7));
  CHECK(failures(7).find('F') != std::string::npos);
  CHECK(failures(7).find('.') != std::string::npos);

  FaultPlan ops;
  ops.add_operation_fault({"PUT", "Microsoft.Compute/galleries", 2, ArmError{503, "ServiceUnavailable", "m", {}, {}}});
  CHECK_FALSE(ops.take_operation_fault("PUT", "Microsoft.Compute/galleries/images"));
  CHECK(ops.take_operation_fault("put", "microsoft.compute/galleries")->status == 503);
  CHECK(ops.take_operation_fault("PUT", "Microsoft.Compute/galleries"));
  CHECK_FALSE(ops.take_operation_fault("PUT", "Microsoft.Compute/galleries"));
}

TEST_CASE("replication status lists the profile's regions with state, details and progress", "[replication]") {
  Planner p;
  const json pp = profile(json::array({region("West US"), region("East US")}));
  auto plan = p.plan({}, pp);
  auto jobs = plan.result;
  json status = replication_status(pp, jobs, p.regions, kStart + 450'000);
  CHECK(status["aggregatedState"] == "InProgress");
  REQUIRE(status["summary"].size() == 2);
  CHECK(status["summary"][0] == json{{"region", "West US"}, {"state", "Replicating"}, {"details", "Processing"}, {"progress", 50}});
  for (auto& j : jobs) settle_job(j);
  status = replication_status(pp, jobs, p.regions, kStart + 9'000'000);
  CHECK(status["aggregatedState"] == "Completed");
  CHECK(status["summary"][1]["progress"] == 100);
  CHECK(source_size_gib(json{{"storageProfile", {{"osDiskImage", {{"sizeInGB", 64}}}, {"dataDiskImages", {{{"sizeInGB", 16}}}}}}}) == 80);
  CHECK(source_size_gib(json{{"storageProfile", json::object()}}) == 30);
  CHECK(source_size_gib(json::object()) == 1);
}
