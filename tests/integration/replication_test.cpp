// The replication engine over HTTPS, on a virtual clock: progress region by region, the
// version's state and its long-running operation, updates that copy only the difference,
// deletion mid-copy, faults, limits, and VM deployments gated on replication.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kV = "?api-version=2022-03-03";
const std::string kVmApi = "?api-version=2022-08-01";

std::string rg_resource(const std::string& type, const std::string& name) {
  return TestEmulator::group_path("rg") + "/providers/" + type + "/" + name;
}
std::string definition_path(const std::string& d) { return TestEmulator::gallery_path("rg", "gal") + "/images/" + d; }
std::string version_path(const std::string& d, const std::string& v) { return definition_path(d) + "/versions/" + v; }

json regions(std::initializer_list<const char*> names) {
  json out = json::array();
  for (const char* n : names) out.push_back({{"name", n}});
  return out;
}

// An emulator whose time moves only when the test says, replicating at modelled speed (a
// 30 GiB copy to the home region takes 900 simulated seconds).
struct Replicating {
  TestEmulator emu;
  std::string snapshot_id;

  explicit Replicating(double speed = 1)
      : emu(test_options([speed](acg::api::AppOptions& o) {
          o.virtual_clock = true;
          o.replication_speed = speed;
        })) {
    REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
    REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + kV, R"({"location":"westus"})").status == 201);
    define("linux", "Generalized");
    define("special", "Specialized");
    auto snap = emu.arm("PUT", rg_resource("Microsoft.Compute/snapshots", "os") + "?api-version=2022-03-02",
                        R"({"location":"westus","properties":{"osType":"Linux","creationData":{"createOption":"Empty"},"diskSizeGB":30}})");
    REQUIRE(snap.status == 200);
    snapshot_id = snap.json()["id"];
  }

  void define(const std::string& name, const std::string& state) {
    json body = {{"location", "westus"},
                 {"properties",
                  {{"osType", "Linux"}, {"osState", state}, {"identifier", {{"publisher", "p"}, {"offer", "o"}, {"sku", name}}}}}};
    REQUIRE(emu.arm("PUT", definition_path(name) + kV, body.dump()).status == 201);
  }

  json body(const json& profile) const {
    return {{"location", "westus"},
            {"properties",
             {{"storageProfile", {{"osDiskImage", {{"source", {{"id", snapshot_id}}}}}}}, {"publishingProfile", profile}}}};
  }

  ClientResponse publish(const std::string& v, const json& profile, const std::string& d = "linux") {
    return emu.arm("PUT", version_path(d, v) + kV, body(profile).dump());
  }

  json status(const std::string& v, const std::string& d = "linux") {
    auto r = emu.arm("GET", version_path(d, v) + kV + "&$expand=ReplicationStatus");
    REQUIRE(r.status == 200);
    return r.json()["properties"];
  }

  // Region display name -> {state, progress}.
  std::map<std::string, std::pair<std::string, int>> regions_of(const std::string& v, const std::string& d = "linux") {
    std::map<std::string, std::pair<std::string, int>> out;
    const json properties = status(v, d);  // kept alive: the loop reads into it
    for (const json& s : properties["replicationStatus"]["summary"]) out[s["region"]] = {s["state"], s["progress"]};
    return out;
  }

  void advance(int seconds) {
    auto r = emu.http().request("POST", "/_emulator/clock/advance", json{{"seconds", seconds}}.dump(),
                                {{"Content-Type", "application/json"}});
    REQUIRE(r.status == 200);
  }

  json operation(const std::string& url) {
    auto r = emu.arm("GET", path_of(url));
    REQUIRE(r.status == 200);
    return r.json();
  }

  json jobs() { return emu.http().request("GET", "/_emulator/replications").json()["value"]; }
};

}  // namespace

TEST_CASE("a version replicates region by region on the emulator's clock", "[replication]") {
  Replicating r;
  auto created = r.publish("1.0.0", {{"targetRegions", regions({"westus", "eastus"})}});
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.json()["properties"]["provisioningState"] == "Creating");
  const std::string op = created.header("Azure-AsyncOperation");
  REQUIRE(!op.empty());
  CHECK(created.header("Retry-After") == "1");

  auto p = r.status("1.0.0");
  CHECK(p["provisioningState"] == "Creating");
  CHECK(p["replicationStatus"]["aggregatedState"] == "InProgress");
  CHECK(r.regions_of("1.0.0")["West US"] == std::pair<std::string, int>{"Replicating", 0});
  CHECK(r.regions_of("1.0.0")["East US"] == std::pair<std::string, int>{"Replicating", 0});
  REQUIRE(r.jobs().size() == 2);

  // Progress rises with time, never jumping from 0 to 100; the home region finishes first.
  int last_west = 0, last_east = 0, rises = 0;
  for (int step = 0; step < 5; ++step) {  // West US takes 900 s, East US ~1,230 s
    r.advance(200);
    auto now = r.regions_of("1.0.0");
    CHECK(now["West US"].second >= last_west);
    CHECK(now["East US"].second > last_east);
    rises += now["West US"].second > last_west;
    last_west = now["West US"].second;
    last_east = now["East US"].second;
    CHECK(now["East US"].first == "Replicating");
    CHECK(now["East US"].second < 100);
  }
  CHECK(rises >= 3);
  CHECK(r.regions_of("1.0.0")["West US"] == std::pair<std::string, int>{"Completed", 100});
  CHECK(r.status("1.0.0")["provisioningState"] == "Creating");
  CHECK(r.operation(op)["status"] == "InProgress");
  REQUIRE(r.jobs().size() == 1);
  CHECK(r.jobs()[0]["region"] == "East US");
  CHECK(r.jobs()[0]["remainingSeconds"].get<double>() > 0);

  r.advance(3600);
  CHECK(r.status("1.0.0")["provisioningState"] == "Succeeded");
  CHECK(r.status("1.0.0")["replicationStatus"]["aggregatedState"] == "Completed");
  CHECK(r.regions_of("1.0.0")["East US"] == std::pair<std::string, int>{"Completed", 100});
  CHECK(r.operation(op)["status"] == "Succeeded");
  CHECK(r.jobs().empty());
  // Without $expand there is no replication status.
  CHECK_FALSE(r.emu.arm("GET", version_path("linux", "1.0.0") + kV).json()["properties"].contains("replicationStatus"));
}

TEST_CASE("the duration follows the model: size, replicas, distance, storage, mode", "[replication]") {
  Replicating r;
  // Home region, 30 GiB, 1 replica: (300 + 20 x 30) s = 900 s at speed 1.
  REQUIRE(r.publish("1.0.0", {{"targetRegions", regions({"westus"})}}).status == 201);
  r.advance(899);
  CHECK(r.regions_of("1.0.0")["West US"].first == "Replicating");
  r.advance(1);
  CHECK(r.regions_of("1.0.0")["West US"].first == "Completed");

  // Farther, more replicas, zone-redundant: every factor makes it longer.
  json far = {{"targetRegions", json::array({{{"name", "westus"}},
                                             {{"name", "australiaeast"}},
                                             {{"name", "eastus2"}, {"regionalReplicaCount", 3}},
                                             {{"name", "eastus"}, {"storageAccountType", "Standard_ZRS"}}})}};
  REQUIRE(r.publish("2.0.0", far).status == 201);
  std::map<std::string, double> remaining;
  const json far_jobs = r.jobs();
  for (const json& job : far_jobs) remaining[job["region"]] = job["remainingSeconds"];
  CHECK(remaining["West US"] == Approx(900));
  CHECK(remaining["Australia East"] > remaining["East US 2"] / 1.4 * 1.0);
  CHECK(remaining["Australia East"] > 900 * 1.9);  // ~12,000 km away
  CHECK(remaining["East US 2"] > remaining["East US"] / 1.3 * 1.3);  // 3 replicas vs 1
  CHECK(remaining["East US"] > 900 * 1.3);                           // ZRS factor on top of distance

  // Shallow replication copies no blobs: a tenth of the time.
  json shallow = {{"targetRegions", regions({"westus"})}, {"replicationMode", "Shallow"}};
  REQUIRE(r.publish("3.0.0", shallow).status == 201);
  const json shallow_jobs = r.jobs();
  for (const json& job : shallow_jobs)
    if (job["artifactId"].get<std::string>().find("3.0.0") != std::string::npos)
      CHECK(job["remainingSeconds"].get<double>() == Approx(90));
}

TEST_CASE("updates replicate only the difference", "[replication]") {
  Replicating r;
  REQUIRE(r.publish("1.0.0", {{"targetRegions", regions({"westus", "eastus"})}}).status == 201);
  r.advance(7200);
  REQUIRE(r.status("1.0.0")["provisioningState"] == "Succeeded");

  // A third region: the first two stay Completed, only the new one copies.
  auto updated = r.publish("1.0.0", {{"targetRegions", regions({"westus", "eastus", "northeurope"})}});
  INFO(updated.body);
  REQUIRE(updated.status == 200);
  CHECK(updated.json()["properties"]["provisioningState"] == "Updating");
  const std::string op = updated.header("Azure-AsyncOperation");
  REQUIRE(!op.empty());
  auto now = r.regions_of("1.0.0");
  CHECK(now["West US"] == std::pair<std::string, int>{"Completed", 100});
  CHECK(now["East US"] == std::pair<std::string, int>{"Completed", 100});
  CHECK(now["North Europe"] == std::pair<std::string, int>{"Replicating", 0});
  REQUIRE(r.jobs().size() == 1);
  r.advance(7200);
  CHECK(r.operation(op)["status"] == "Succeeded");
  CHECK(r.status("1.0.0")["provisioningState"] == "Succeeded");

  // More replicas in a completed region copy only the new replicas, inside the region.
  json more = {{"targetRegions", json::array({{{"name", "westus"}, {"regionalReplicaCount", 3}},
                                              {{"name", "eastus"}},
                                              {{"name", "northeurope"}}})}};
  REQUIRE(r.publish("1.0.0", more).status == 200);
  REQUIRE(r.jobs().size() == 1);
  CHECK(r.jobs()[0]["region"] == "West US");
  CHECK(r.jobs()[0]["remainingSeconds"].get<double>() == Approx(900 * 0.2 * 2));  // 2 extra replicas
  r.advance(400);
  CHECK(r.status("1.0.0")["provisioningState"] == "Succeeded");

  // Fewer replicas and unchanged regions need no copy: the write is synchronous.
  json fewer = more;
  fewer["targetRegions"][0]["regionalReplicaCount"] = 1;
  auto shrunk = r.publish("1.0.0", fewer);
  CHECK(shrunk.status == 200);
  CHECK(shrunk.json()["properties"]["provisioningState"] == "Succeeded");
  CHECK(shrunk.header("Azure-AsyncOperation").empty());
  CHECK(r.jobs().empty());
}

TEST_CASE("removing regions and deleting a version cancel their copies", "[replication]") {
  Replicating r;
  REQUIRE(r.publish("1.0.0", {{"targetRegions", regions({"westus", "eastus", "japaneast"})}}).status == 201);
  r.advance(100);
  // Dropping a region still copying cancels that copy.
  REQUIRE(r.publish("1.0.0", {{"targetRegions", regions({"westus", "eastus"})}}).status == 200);
  CHECK(r.jobs().size() == 2);
  CHECK(r.regions_of("1.0.0").count("Japan East") == 0);

  // A replicated region may not be removed when the safety profile forbids it.
  json locked = r.body({{"targetRegions", regions({"westus", "eastus"})}});
  locked["properties"]["safetyProfile"] = {{"allowDeletionOfReplicatedLocations", false}};
  auto second = r.emu.arm("PUT", version_path("linux", "2.0.0") + kV, locked.dump());
  REQUIRE(second.status == 201);
  r.advance(3600);
  auto refused = r.publish("2.0.0", {{"targetRegions", regions({"westus"})}});
  CHECK(refused.status == 409);
  CHECK(refused.error_code() == "OperationNotAllowed");

  // Deleting a version mid-copy cancels its jobs and its operation.
  auto third = r.publish("3.0.0", {{"targetRegions", regions({"westus", "eastus"})}});
  REQUIRE(third.status == 201);
  const std::string op = third.header("Azure-AsyncOperation");
  r.advance(100);
  REQUIRE(r.jobs().size() == 2);
  auto deleted = r.emu.arm("DELETE", version_path("linux", "3.0.0") + kV);
  CHECK((deleted.status == 200 || deleted.status == 202 || deleted.status == 204));
  CHECK(r.jobs().empty());
  CHECK(r.operation(op)["status"] == "Canceled");
  CHECK(r.emu.arm("GET", version_path("linux", "3.0.0") + kV).status == 404);
}

TEST_CASE("faults fail or slow a region; a re-PUT retries it", "[replication][faults]") {
  Replicating r;
  auto fault = r.emu.http().request("POST", "/_emulator/faults",
                                    R"({"regions":[{"region":"East US 2","fail":true},{"region":"eastus","slowFactor":3}]})",
                                    {{"Content-Type", "application/json"}});
  REQUIRE(fault.status == 200);
  CHECK(fault.json()["regions"].size() == 2);
  auto created = r.publish("1.0.0", {{"targetRegions", regions({"westus", "eastus2", "eastus"})}});
  REQUIRE(created.status == 201);
  const std::string op = created.header("Azure-AsyncOperation");
  std::map<std::string, double> remaining;
  const json jobs = r.jobs();
  for (const json& job : jobs) remaining[job["region"]] = job["remainingSeconds"];
  CHECK(remaining["East US"] > 3 * 900);

  r.advance(2000);  // East US 2 is due (and fails); East US, slowed, still copies
  auto now = r.regions_of("1.0.0");
  CHECK(now["East US 2"].first == "Failed");
  CHECK(now["East US"].first == "Replicating");
  CHECK(r.status("1.0.0")["replicationStatus"]["aggregatedState"] == "Failed");
  CHECK(r.operation(op)["status"] == "InProgress");  // the operation ends with the last region
  r.advance(10000);
  auto failed = r.operation(op);
  CHECK(failed["status"] == "Failed");
  CHECK(failed["error"]["code"] == "GalleryImageVersionReplicationFailed");
  CHECK(failed["error"]["message"].get<std::string>().find("{region:eastus2, detail:") != std::string::npos);
  auto p = r.status("1.0.0");
  CHECK(p["provisioningState"] == "Failed");
  for (const json& s : p["replicationStatus"]["summary"])
    if (s["region"] == "East US 2") CHECK_FALSE(s["details"].get<std::string>().empty());

  // Faults cleared, the same profile again: only the failed region copies again.
  REQUIRE(r.emu.http().request("DELETE", "/_emulator/faults").status == 200);
  auto retried = r.publish("1.0.0", {{"targetRegions", regions({"westus", "eastus2", "eastus"})}});
  REQUIRE(retried.status == 200);
  REQUIRE(r.jobs().size() == 1);
  CHECK(r.jobs()[0]["region"] == "East US 2");
  r.advance(3600);
  CHECK(r.status("1.0.0")["provisioningState"] == "Succeeded");
  CHECK(r.status("1.0.0")["replicationStatus"]["aggregatedState"] == "Completed");
}

TEST_CASE("operation faults fail the next writes of a kind, then stop", "[replication][faults]") {
  Replicating r;
  auto set = r.emu.http().request(
      "POST", "/_emulator/faults",
      R"({"operations":[{"method":"PUT","resourceType":"Microsoft.Compute/galleries/images/versions","count":2,"status":503,"code":"ServiceUnavailable"}]})",
      {{"Content-Type", "application/json"}});
  REQUIRE(set.status == 200);
  // Other writes are untouched.
  CHECK(r.emu.arm("PUT", TestEmulator::gallery_path("rg", "other") + kV, R"({"location":"westus"})").status == 201);
  for (int i = 0; i < 2; ++i) {
    auto failed = r.publish("1.0.0", {{"targetRegions", regions({"westus"})}});
    CHECK(failed.status == 503);
    CHECK(failed.error_code() == "ServiceUnavailable");
  }
  CHECK(r.emu.arm("GET", version_path("linux", "1.0.0") + kV).status == 404);  // nothing written
  CHECK(r.publish("1.0.0", {{"targetRegions", regions({"westus"})}}).status == 201);

  auto bad = r.emu.http().request("POST", "/_emulator/faults", R"({"regions":[{"region":"atlantis","fail":true}]})",
                                  {{"Content-Type", "application/json"}});
  CHECK(bad.status == 400);
  CHECK(r.emu.http().request("GET", "/_emulator/faults").json()["regions"].empty());
}

TEST_CASE("target region limits: 50 regions, known gallery regions, ZRS only with zones", "[replication]") {
  Replicating r;
  json many = json::array({{{"name", "westus"}}});
  for (const char* name : {"eastus", "eastus2", "westus2", "westus3", "centralus", "northcentralus", "southcentralus",
                           "westcentralus", "canadacentral", "canadaeast", "brazilsouth", "northeurope", "westeurope",
                           "uksouth", "ukwest", "francecentral", "germanywestcentral", "norwayeast", "switzerlandnorth",
                           "swedencentral", "polandcentral", "italynorth", "spaincentral", "eastasia", "southeastasia",
                           "japaneast", "japanwest", "koreacentral", "koreasouth", "centralindia", "southindia",
                           "westindia", "australiaeast", "australiasoutheast", "australiacentral", "uaenorth",
                           "southafricanorth", "qatarcentral", "israelcentral", "mexicocentral", "newzealandnorth",
                           "indonesiacentral", "malaysiawest", "chilecentral", "austriaeast", "belgiumcentral",
                           "denmarkeast", "taiwannorth", "francesouth", "germanynorth"})
    many.push_back({{"name", name}});
  REQUIRE(many.size() == 51);
  auto too_many = r.publish("1.0.0", {{"targetRegions", many}});
  CHECK(too_many.status == 400);
  CHECK(too_many.error_code() == "InvalidParameter");
  CHECK(too_many.json()["error"]["message"].get<std::string>().find("at most 50") != std::string::npos);

  auto restricted = r.publish("1.0.0", {{"targetRegions", regions({"westus", "germanynorth"})}});
  CHECK(restricted.status == 400);
  CHECK(restricted.error_code() == "LocationNotAvailableForResourceType");
  CHECK(restricted.json()["error"]["message"].get<std::string>().find("List of available regions") != std::string::npos);

  auto zrs = r.publish("1.0.0", {{"targetRegions", json::array({{{"name", "westus"}, {"storageAccountType", "Standard_ZRS"}}})}});
  CHECK(zrs.status == 400);
  CHECK(zrs.json()["error"]["message"].get<std::string>().find("no availability zones") != std::string::npos);
  CHECK(r.publish("1.0.0", {{"targetRegions", json::array({{{"name", "westus"}},
                                                           {{"name", "eastus"}, {"storageAccountType", "Standard_ZRS"}}})}})
            .status == 201);
}

TEST_CASE("instant replication answers synchronously", "[replication]") {
  Replicating r(0);
  auto created = r.publish("1.0.0", {{"targetRegions", regions({"westus", "eastus"})}});
  REQUIRE(created.status == 201);
  CHECK(created.json()["properties"]["provisioningState"] == "Succeeded");
  CHECK(created.header("Azure-AsyncOperation").empty());
  CHECK(r.status("1.0.0")["replicationStatus"]["aggregatedState"] == "Completed");
  CHECK(r.jobs().empty());
}

TEST_CASE("the clock endpoints", "[replication][clock]") {
  Replicating r;
  auto before = r.emu.http().request("GET", "/_emulator/clock").json();
  CHECK(before["mode"] == "virtual");
  r.advance(90);
  auto after = r.emu.http().request("GET", "/_emulator/clock").json();
  CHECK(after["nowMs"].get<std::int64_t>() - before["nowMs"].get<std::int64_t>() == 90000);
  CHECK(r.emu.http().request("POST", "/_emulator/clock/advance?seconds=1.5").json()["nowMs"].get<std::int64_t>() ==
        after["nowMs"].get<std::int64_t>() + 1500);
  CHECK(r.emu.http().request("POST", "/_emulator/clock/advance", R"({"seconds":-5})").status == 400);
  CHECK(r.emu.http().request("POST", "/_emulator/clock/advance", R"({"seconds":"soon"})").status == 400);
  CHECK(r.emu.http().request("POST", "/_emulator/clock/advance", "{").status == 400);
}

// --- Deploying from the gallery -----------------------------------------------------------

namespace {

json vm_body(const std::string& location, const json& image_reference, bool os_profile = true) {
  json body = {{"location", location},
               {"properties",
                {{"hardwareProfile", {{"vmSize", "Standard_D2s_v3"}}},
                 {"storageProfile", {{"imageReference", image_reference}}}}}};
  if (os_profile) body["properties"]["osProfile"] = {{"computerName", "vm"}, {"adminUsername", "azureuser"}};
  return body;
}

}  // namespace

TEST_CASE("a VM deploys a gallery image only where its replication completed", "[replication][vm]") {
  Replicating r;
  REQUIRE(r.publish("1.0.0", {{"targetRegions", regions({"westus", "eastus"})}}).status == 201);
  const json by_version = {{"id", version_path("linux", "1.0.0")}};
  const std::string vm = rg_resource("Microsoft.Compute/virtualMachines", "app");

  auto early = r.emu.arm("PUT", vm + kVmApi, vm_body("eastus", by_version).dump());
  CHECK(early.status == 404);
  CHECK(early.error_code() == "GalleryImageNotFound");
  CHECK(early.json()["error"]["message"].get<std::string>().find("is not available in eastus region") != std::string::npos);

  r.advance(1000);  // West US done, East US still copying
  auto west = r.emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", "west") + kVmApi,
                        vm_body("westus", by_version).dump());
  INFO(west.body);
  REQUIRE(west.status == 201);
  // The VM itself takes simulated time to provision: a long-running operation.
  CHECK(west.json()["properties"]["provisioningState"] == "Creating");
  const std::string op = west.header("Azure-AsyncOperation");
  REQUIRE(!op.empty());
  CHECK(west.json()["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.0.0");
  CHECK(west.json()["properties"]["storageProfile"]["osDisk"]["osType"] == "Linux");
  CHECK(r.emu.arm("PUT", vm + kVmApi, vm_body("eastus", by_version).dump()).status == 404);
  r.advance(3600);
  CHECK(r.operation(op)["status"] == "Succeeded");
  CHECK(r.emu.arm("PUT", vm + kVmApi, vm_body("eastus", by_version).dump()).status == 201);

  // Refusals: an ephemeral OS disk, an OS profile for a specialized image, none for a generalized one.
  json ephemeral = vm_body("westus", by_version);
  ephemeral["properties"]["storageProfile"]["osDisk"] = {{"diffDiskSettings", {{"option", "Local"}}}};
  auto refused = r.emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", "eph") + kVmApi, ephemeral.dump());
  CHECK(refused.status == 400);
  CHECK(refused.json()["error"]["target"] == "properties.storageProfile.osDisk.diffDiskSettings");
  auto no_profile = r.emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", "np") + kVmApi,
                              vm_body("westus", by_version, false).dump());
  CHECK(no_profile.status == 400);
  CHECK(no_profile.json()["error"]["message"] == "Required parameter 'osProfile' is missing (null).");

  REQUIRE(r.publish("1.0.0", {{"targetRegions", regions({"westus"})}}, "special").status == 201);
  r.advance(1000);
  const json special = {{"id", version_path("special", "1.0.0")}};
  auto with_profile = r.emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", "sp") + kVmApi,
                                vm_body("westus", special).dump());
  CHECK(with_profile.status == 400);
  CHECK(with_profile.json()["error"]["message"] == "Parameter 'osProfile' is not allowed.");
  CHECK(r.emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", "sp") + kVmApi,
                  vm_body("westus", special, false).dump())
            .status == 201);
}

TEST_CASE("a VM from a definition gets its latest version replicated to its region", "[replication][vm]") {
  Replicating r;
  const json by_definition = {{"id", definition_path("linux")}};
  auto none = r.emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", "a") + kVmApi,
                        vm_body("westus", by_definition).dump());
  CHECK(none.status == 404);
  CHECK(none.error_code() == "GalleryImageNotFound");

  REQUIRE(r.publish("1.0.0", {{"targetRegions", regions({"westus"})}}).status == 201);
  r.advance(1000);
  REQUIRE(r.publish("2.0.0", {{"targetRegions", regions({"westus"})}}).status == 201);  // still copying
  json excluded = {{"targetRegions", regions({"westus"})}, {"excludeFromLatest", true}};
  REQUIRE(r.publish("3.0.0", excluded).status == 201);
  r.advance(100);

  auto first = r.emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", "a") + kVmApi,
                         vm_body("westus", by_definition).dump());
  REQUIRE(first.status == 201);
  CHECK(first.json()["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.0.0");
  r.advance(1000);
  auto second = r.emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", "b") + kVmApi,
                          vm_body("westus", by_definition).dump());
  REQUIRE(second.status == 201);
  CHECK(second.json()["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "2.0.0");

  // The same image by its shared gallery name (the gallery's identifier.uniqueName).
  const std::string unique = r.emu.arm("GET", TestEmulator::gallery_path("rg", "gal") + kV)
                                 .json()["properties"]["identifier"]["uniqueName"];
  auto shared = r.emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", "c") + kVmApi,
                          vm_body("westus", {{"sharedGalleryImageId", "/SharedGalleries/" + unique + "/Images/linux/Versions/1.0.0"}}).dump());
  INFO(shared.body);
  CHECK(shared.status == 201);
  auto unknown = r.emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", "d") + kVmApi,
                           vm_body("westus", {{"sharedGalleryImageId", "/SharedGalleries/nobody/Images/linux"}}).dump());
  CHECK(unknown.status == 404);
  CHECK(unknown.error_code() == "GalleryImageNotFound");
}

TEST_CASE("application versions replicate like image versions", "[replication]") {
  Replicating r;
  const std::string app = TestEmulator::gallery_path("rg", "gal") + "/applications/tool";
  REQUIRE(r.emu.arm("PUT", app + kV, R"({"location":"westus","properties":{"supportedOSType":"Linux"}})").status == 201);
  json body = {{"location", "westus"},
               {"properties",
                {{"publishingProfile",
                  {{"source", {{"mediaLink", "https://acct.blob.core.windows.net/apps/tool.zip"}}},
                   {"manageActions", {{"install", "install.sh"}, {"remove", "remove.sh"}}},
                   {"targetRegions", regions({"westus", "eastus"})}}}}}};
  auto created = r.emu.arm("PUT", app + "/versions/1.0.0" + kV, body.dump());
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.json()["properties"]["provisioningState"] == "Creating");
  CHECK(r.jobs().size() == 2);
  r.advance(100);  // a 1 GiB package: (300 + 20) s to its own region
  auto during = r.emu.arm("GET", app + "/versions/1.0.0" + kV + "&$expand=ReplicationStatus").json();
  CHECK(during["properties"]["replicationStatus"]["aggregatedState"] == "InProgress");
  CHECK(during["properties"]["replicationStatus"]["summary"][0]["progress"].get<int>() == 31);
  r.advance(1000);
  auto done = r.emu.arm("GET", app + "/versions/1.0.0" + kV + "&$expand=ReplicationStatus").json();
  CHECK(done["properties"]["provisioningState"] == "Succeeded");
  CHECK(done["properties"]["replicationStatus"]["aggregatedState"] == "Completed");
}

TEST_CASE("the duration model comes from the config file; the flag's speed wins", "[replication][config]") {
  const std::string path = (std::filesystem::temp_directory_path() / ("acg-replication-" + std::to_string(::getpid()) + ".json")).string();
  {
    std::ofstream out(path);
    out << R"({"replication": {"baseSecondsPerRegion": 60, "secondsPerGiB": 1, "distanceFactorPer1000Km": 0, "speed": 2}})";
  }
  {
    TestEmulator emu(test_options([&](acg::api::AppOptions& o) {
      o.config_file = path;
      o.virtual_clock = true;
      o.replication_speed.reset();  // the file's speed
    }));
    REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
    REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + kV, R"({"location":"westus"})").status == 201);
    REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + "/applications/tool" + kV,
                    R"({"location":"westus","properties":{"supportedOSType":"Linux"}})").status == 201);
    json body = {{"location", "westus"},
                 {"properties",
                  {{"publishingProfile",
                    {{"source", {{"mediaLink", "https://acct.blob.core.windows.net/apps/tool.zip"}}},
                     {"manageActions", {{"install", "i"}, {"remove", "r"}}},
                     {"targetRegions", regions({"westus", "japaneast"})}}}}}};
    REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + "/applications/tool/versions/1.0.0" + kV, body.dump())
                .status == 201);
    // (60 s + 1 s/GiB x 1 GiB) / speed 2, with no distance factor: the same everywhere.
    const json jobs = emu.http().request("GET", "/_emulator/replications").json();
    REQUIRE(jobs["count"] == 2);
    for (const json& job : jobs["value"]) CHECK(job["remainingSeconds"].get<double>() == Approx(30.5));
  }
  {
    std::ofstream out(path);
    out << R"({"replication": {"jitter": 3}})";
  }
  auto refused = acg::api::App::start(test_options([&](acg::api::AppOptions& o) { o.config_file = path; }));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().target == "replication.jitter");
  std::filesystem::remove(path);
}

TEST_CASE("soft delete: a deleted version is hidden, listed as soft-deleted, restorable, then purged", "[softdelete]") {
  Replicating r(0);
  REQUIRE(r.emu.arm("PATCH", TestEmulator::gallery_path("rg", "gal") + kV,
                    R"({"properties":{"softDeletePolicy":{"isSoftDeleteEnabled":true}}})").status == 200);
  REQUIRE(r.publish("1.0.0", {{"targetRegions", regions({"westus"})}}).status == 201);
  REQUIRE(r.publish("2.0.0", {{"targetRegions", regions({"westus"})}}).status == 201);
  REQUIRE(r.emu.arm("DELETE", version_path("linux", "2.0.0") + kV).status / 100 == 2);

  CHECK(r.emu.arm("GET", version_path("linux", "2.0.0") + kV).status == 404);
  CHECK(r.emu.arm("GET", definition_path("linux") + "/versions" + kV).json()["value"].size() == 1);
  const std::string soft = TestEmulator::gallery_path("rg", "gal") + "/softdeletedartifacttypes/Images/artifacts/linux/versions" +
                           "?api-version=2025-03-03";
  auto listed = r.emu.arm("GET", soft);
  INFO(listed.body);
  REQUIRE(listed.status == 200);
  REQUIRE(listed.json()["value"].size() == 1);
  CHECK(listed.json()["value"][0]["properties"]["resourceArmId"] == version_path("linux", "2.0.0"));
  CHECK(listed.json()["value"][0]["properties"]["softDeletedArtifactType"] == "Images");
  // Not "latest", not re-creatable, and its definition cannot go while it is kept.
  const json by_definition = {{"id", definition_path("linux")}};
  auto vm = r.emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", "v") + kVmApi, vm_body("westus", by_definition).dump());
  REQUIRE(vm.status == 201);
  CHECK(vm.json()["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.0.0");
  CHECK(r.publish("2.0.0", {{"targetRegions", regions({"westus"})}}).status == 409);

  auto restored = r.emu.arm("PATCH", version_path("linux", "2.0.0") + "?api-version=2025-03-03",
                            R"({"properties":{"restore":true,"storageProfile":{}}})");
  INFO(restored.body);
  CHECK(restored.status == 200);
  CHECK(r.emu.arm("GET", version_path("linux", "2.0.0") + kV).status == 200);
  CHECK(r.emu.arm("GET", soft).json()["value"].empty());

  // Deleted again, then purged 7 days later on the emulator's clock.
  REQUIRE(r.emu.arm("DELETE", version_path("linux", "2.0.0") + kV).status / 100 == 2);
  r.advance(7 * 24 * 3600 - 60);
  CHECK(r.emu.arm("GET", soft).json()["value"].size() == 1);
  r.advance(120);
  CHECK(r.emu.arm("GET", soft).json()["value"].empty());
  CHECK(r.publish("2.0.0", {{"targetRegions", regions({"westus"})}}).status == 201);  // the name is free again
}
