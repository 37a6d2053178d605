// Source resources (managed images, snapshots, disks, virtual machines, storage accounts) over
// HTTPS: real shapes, the status each create answers, names, required properties, references
// between them and the generalize -> capture path.

#include <catch2/catch.hpp>

#include "emulator/clock.h"
#include "emulator/text.h"
#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kCompute = "?api-version=2022-08-01";
const std::string kDisks = "?api-version=2022-07-02";
const std::string kSnapshots = "?api-version=2022-03-02";  // what az 2.45 sends
const std::string kStorage = "?api-version=2023-01-01";

std::string path(const std::string& type, const std::string& name, const std::string& rg = "rg") {
  return TestEmulator::group_path(rg) + "/providers/" + type + "/" + name;
}
std::string image(const std::string& n, const std::string& rg = "rg") { return path("Microsoft.Compute/images", n, rg); }
std::string snapshot(const std::string& n, const std::string& rg = "rg") { return path("Microsoft.Compute/snapshots", n, rg); }
std::string disk(const std::string& n, const std::string& rg = "rg") { return path("Microsoft.Compute/disks", n, rg); }
std::string vm(const std::string& n, const std::string& rg = "rg") { return path("Microsoft.Compute/virtualMachines", n, rg); }
std::string account(const std::string& n, const std::string& rg = "rg") { return path("Microsoft.Storage/storageAccounts", n, rg); }

void make_group(TestEmulator& emu, const std::string& rg = "rg") {
  REQUIRE(emu.arm("PUT", TestEmulator::group_path(rg) + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
}

// The body `az snapshot create -g rg -n s --size-gb 30` sends.
json az_snapshot(int size_gb = 30) {
  return {{"location", "westus"},
          {"tags", json::object()},
          {"sku", {{"name", "Standard_LRS"}}},
          {"properties", {{"hyperVGeneration", "V1"}, {"creationData", {{"createOption", "Empty"}}}, {"diskSizeGB", size_gb}}}};
}

json empty_disk(int size_gb = 64) {
  return {{"location", "westus"}, {"properties", {{"creationData", {{"createOption", "Empty"}}}, {"diskSizeGB", size_gb}}}};
}

json copy_of(const std::string& source_id) {
  return {{"location", "westus"}, {"properties", {{"creationData", {{"createOption", "Copy"}, {"sourceResourceId", source_id}}}}}};
}

json image_from_snapshot(const std::string& snapshot_id) {
  return {{"location", "westus"},
          {"properties",
           {{"storageProfile",
             {{"osDisk", {{"osType", "linux"}, {"osState", "generalized"}, {"snapshot", {{"id", snapshot_id}}}}}}}}}};
}

json linux_vm() {
  return {{"location", "westus"},
          {"properties",
           {{"hardwareProfile", {{"vmSize", "Standard_D2s_v3"}}},
            {"storageProfile",
             {{"imageReference", {{"publisher", "Canonical"}, {"offer", "ubuntu-24_04-lts"}, {"sku", "server"}, {"version", "latest"}}},
              {"osDisk", {{"osType", "Linux"}, {"createOption", "FromImage"}}}}},
            {"osProfile", {{"computerName", "vm1"}, {"adminUsername", "azureuser"}, {"adminPassword", "P@ssw0rd-not-kept"}}}}}};
}

json vm_attaching(const std::string& disk_id) {
  return {{"location", "westus"},
          {"properties",
           {{"hardwareProfile", {{"vmSize", "Standard_B2s"}}},
            {"storageProfile", {{"osDisk", {{"createOption", "attach"}, {"managedDisk", {{"id", disk_id}}}}}}}}}};
}

json storage_account(const std::string& sku = "Standard_LRS") {
  return {{"location", "westus"}, {"sku", {{"name", sku}}}};
}

std::string target_of(const ClientResponse& r) { return r.json()["error"].value("target", ""); }

}  // namespace

TEST_CASE("a snapshot as az creates it answers 200 with DiskRP's shape", "[sources][snapshots]") {
  TestEmulator emu;
  make_group(emu);
  auto created = emu.arm("PUT", snapshot("snap1") + kSnapshots, az_snapshot().dump());
  REQUIRE(created.status == 200);  // az 2.45 rejects 201 ("Operation returned an invalid status 'Created'")
  json s = created.json();
  CHECK(s["id"] == snapshot("snap1"));
  CHECK(s["name"] == "snap1");
  CHECK(s["type"] == "Microsoft.Compute/snapshots");
  CHECK(s["location"] == "westus");
  CHECK(s["sku"] == json{{"name", "Standard_LRS"}, {"tier", "Standard"}});
  const json& p = s["properties"];
  CHECK(p["creationData"] == json{{"createOption", "Empty"}});
  CHECK(p["diskSizeGB"] == 30);
  CHECK(p["diskSizeBytes"] == 30LL * 1024 * 1024 * 1024);
  CHECK(p["hyperVGeneration"] == "V1");
  CHECK(p["diskState"] == "Unattached");
  CHECK(p["incremental"] == false);
  CHECK(p["provisioningState"] == "Succeeded");
  CHECK(acg::is_guid(p["uniqueId"].get<std::string>()));
  std::int64_t created_ms = 0;
  CHECK(acg::parse_iso8601(p["timeCreated"].get<std::string>(), created_ms));
  CHECK(created_ms > 0);

  // Another casing of the path finds the same snapshot.
  std::string shouted = "/subscriptions/" + kSub + "/RESOURCEGROUPS/RG/providers/microsoft.compute/SNAPSHOTS/SNAP1";
  CHECK(emu.arm("GET", shouted + kSnapshots).json() == s);
  auto list = emu.arm("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/snapshots" + kSnapshots).json();
  REQUIRE(list["value"].size() == 1);
  CHECK(list["value"][0] == s);

  SECTION("updates keep the creation facts; a snapshot grows but never shrinks") {
    auto grown = emu.arm("PUT", snapshot("snap1") + kSnapshots, az_snapshot(40).dump());
    REQUIRE(grown.status == 200);
    CHECK(grown.json()["properties"]["diskSizeGB"] == 40);
    CHECK(grown.json()["properties"]["uniqueId"] == p["uniqueId"]);
    CHECK(grown.json()["properties"]["timeCreated"] == p["timeCreated"]);
    auto patched = emu.arm("PATCH", snapshot("snap1") + kSnapshots, R"({"sku":{"name":"premium_lrs"},"tags":{"k":"v"}})");
    REQUIRE(patched.status == 200);
    CHECK(patched.json()["sku"] == json{{"name", "Premium_LRS"}, {"tier", "Premium"}});
    CHECK(patched.json()["tags"]["k"] == "v");
    CHECK(patched.json()["properties"]["diskSizeGB"] == 40);
    auto shrink = emu.arm("PUT", snapshot("snap1") + kSnapshots, az_snapshot(10).dump());
    CHECK(shrink.status == 400);
    CHECK(target_of(shrink) == "properties.diskSizeGB");
    json other_source = az_snapshot(40);
    other_source["properties"]["creationData"] = {{"createOption", "Import"},
                                                  {"sourceUri", "https://a.blob.core.windows.net/v/os.vhd"}};
    auto changed = emu.arm("PUT", snapshot("snap1") + kSnapshots, other_source.dump());
    CHECK(changed.status == 409);
    CHECK(changed.json()["error"]["message"] == "Changing property 'creationData.createOption' is not allowed.");
  }
  SECTION("delete answers 200, then 204") {
    CHECK(emu.arm("DELETE", snapshot("snap1") + kSnapshots).status == 200);
    CHECK(emu.arm("DELETE", snapshot("snap1") + kSnapshots).status == 204);
    CHECK(emu.arm("GET", snapshot("snap1") + kSnapshots).error_code() == "ResourceNotFound");
  }
}

TEST_CASE("snapshot and disk refusals", "[sources][snapshots][disks]") {
  TestEmulator emu;
  make_group(emu);
  SECTION("names follow Compute's rule") {
    for (const std::string& bad : std::vector<std::string>{"-lead", "trail-", "trail.", "sp%20ace", std::string(81, 'a')}) {
      auto r = emu.arm("PUT", snapshot(bad) + kSnapshots, az_snapshot().dump());
      CHECK(r.status == 400);
      CHECK(r.error_code() == "InvalidParameter");
      CHECK(target_of(r) == "snapshotName");
      CHECK(target_of(emu.arm("PUT", disk(bad) + kDisks, empty_disk().dump())) == "diskName");
    }
    CHECK(emu.arm("PUT", disk("ends_with_underscore_") + kDisks, empty_disk().dump()).status == 200);
    CHECK(emu.arm("PUT", disk(std::string(80, 'd')) + kDisks, empty_disk().dump()).status == 200);
  }
  SECTION("required properties") {
    json body = az_snapshot();
    body["properties"].erase("creationData");
    auto r = emu.arm("PUT", snapshot("s") + kSnapshots, body.dump());
    CHECK(r.error_code() == "InvalidParameter");
    CHECK(target_of(r) == "properties.creationData.createOption");
    body = az_snapshot();
    body["properties"].erase("diskSizeGB");  // Empty needs a size
    CHECK(target_of(emu.arm("PUT", snapshot("s") + kSnapshots, body.dump())) == "properties.diskSizeGB");
    body = az_snapshot();
    body["properties"]["creationData"]["createOption"] = "Magic";
    CHECK(target_of(emu.arm("PUT", snapshot("s") + kSnapshots, body.dump())) == "properties.creationData.createOption");
    body = az_snapshot();
    body["sku"]["name"] = "StandardSSD_LRS";  // a disk sku, not a snapshot sku
    CHECK(target_of(emu.arm("PUT", snapshot("s") + kSnapshots, body.dump())) == "sku.name");
    CHECK(target_of(emu.arm("PUT", disk("d") + kDisks, json{{"location", "westus"}, {"properties", {{"creationData", {{"createOption", "Copy"}}}}}}.dump())) ==
          "properties.creationData.sourceResourceId");
    body = empty_disk();
    body["properties"]["diskSizeGB"] = 0;
    CHECK(emu.arm("PUT", disk("d") + kDisks, body.dump()).status == 400);
    CHECK(emu.arm("GET", snapshot("s") + kSnapshots).status == 404);  // nothing refused was written
  }
  SECTION("locations: any region of the catalog, not only gallery regions") {
    json body = az_snapshot();
    body["location"] = "nowhere";
    CHECK(emu.arm("PUT", snapshot("s") + kSnapshots, body.dump()).error_code() == "LocationNotAvailableForResourceType");
    body["location"] = "France South";  // no galleries there, but disks and snapshots
    auto r = emu.arm("PUT", snapshot("s") + kSnapshots, body.dump());
    CHECK(r.status == 200);
    CHECK(r.json()["location"] == "francesouth");
  }
  SECTION("the resource group must exist") {
    auto r = emu.arm("PUT", snapshot("s", "nogroup") + kSnapshots, az_snapshot().dump());
    CHECK(r.status == 404);
    CHECK(r.error_code() == "ResourceGroupNotFound");
    CHECK(emu.arm("PUT", disk("d", "nogroup") + kDisks, empty_disk().dump()).error_code() == "ResourceGroupNotFound");
  }
  SECTION("each family takes its own api-versions") {
    CHECK(emu.arm("PUT", disk("d") + kCompute, empty_disk().dump()).error_code() == "NoRegisteredProviderFound");
  }
}

TEST_CASE("disks: defaults, copies and imports", "[sources][disks]") {
  TestEmulator emu;
  make_group(emu);
  auto created = emu.arm("PUT", disk("data1") + kDisks, empty_disk().dump());
  REQUIRE(created.status == 200);
  json d = created.json();
  CHECK(d["type"] == "Microsoft.Compute/disks");
  CHECK(d["sku"] == json{{"name", "Standard_LRS"}, {"tier", "Standard"}});
  CHECK(d["properties"]["diskState"] == "Unattached");
  CHECK_FALSE(d["properties"].contains("osType"));
  CHECK(emu.arm("GET", disk("DATA1") + kDisks).json() == d);

  json os_snapshot = az_snapshot(30);
  os_snapshot["properties"]["osType"] = "windows";
  os_snapshot["properties"]["hyperVGeneration"] = "v2";
  json snap = emu.arm("PUT", snapshot("os") + kSnapshots, os_snapshot.dump()).json();
  REQUIRE(snap["properties"]["osType"] == "Windows");

  SECTION("a copy inherits the source's OS type, generation and size") {
    auto copy = emu.arm("PUT", disk("copy") + kDisks, copy_of(snap["id"]).dump());
    REQUIRE(copy.status == 200);
    const json p = copy.json()["properties"];
    CHECK(p["osType"] == "Windows");
    CHECK(p["hyperVGeneration"] == "V2");
    CHECK(p["diskSizeGB"] == 30);
    CHECK(p["creationData"]["sourceUniqueId"] == snap["properties"]["uniqueId"]);
    CHECK(p["uniqueId"] != snap["properties"]["uniqueId"]);
    auto list = emu.arm("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/disks" + kDisks).json();
    CHECK(list["value"].size() == 2);
  }
  SECTION("a copy of a missing snapshot is refused and nothing is written") {
    auto r = emu.arm("PUT", disk("copy") + kDisks, copy_of(snapshot("gone")).dump());
    CHECK(r.status == 400);
    CHECK(r.error_code() == "NotFound");
    CHECK(target_of(r) == "properties.creationData.sourceResourceId");
    CHECK(r.json()["error"]["message"].get<std::string>().find(snapshot("gone")) != std::string::npos);
    CHECK(emu.arm("GET", disk("copy") + kDisks).status == 404);
    // Something that exists but is no disk or snapshot is no source either.
    CHECK(emu.arm("PUT", disk("copy") + kDisks, copy_of(TestEmulator::group_path("rg")).dump()).error_code() == "NotFound");
  }
  SECTION("an import names an existing storage account") {
    REQUIRE(emu.arm("PUT", account("vhds") + kStorage, storage_account().dump()).status == 200);
    json body = {{"location", "westus"},
                 {"sku", {{"name", "premium_lrs"}}},
                 {"properties",
                  {{"osType", "Linux"},
                   {"diskSizeGB", 30},
                   {"creationData",
                    {{"createOption", "Import"},
                     {"sourceUri", "https://vhds.blob.core.windows.net/vhds/os.vhd"},
                     {"storageAccountId", account("VHDS")}}}}}};
    auto imported = emu.arm("PUT", disk("imported") + kDisks, body.dump());
    REQUIRE(imported.status == 200);
    CHECK(imported.json()["sku"]["name"] == "Premium_LRS");
    CHECK(imported.json()["properties"]["creationData"]["storageAccountId"] == account("vhds"));
    body["properties"]["creationData"]["storageAccountId"] = account("novhds");
    CHECK(target_of(emu.arm("PUT", disk("imported2") + kDisks, body.dump())) == "properties.creationData.storageAccountId");
  }
  SECTION("an upload disk is sized from its VHD and waits for the upload") {
    json body = {{"location", "westus"},
                 {"properties", {{"creationData", {{"createOption", "Upload"}, {"uploadSizeBytes", 32LL * 1024 * 1024 * 1024 + 512}}}}}};
    auto r = emu.arm("PUT", disk("upload") + kDisks, body.dump());
    REQUIRE(r.status == 200);
    CHECK(r.json()["properties"]["diskSizeGB"] == 32);
    CHECK(r.json()["properties"]["diskState"] == "ReadyToUpload");
  }
  SECTION("delete answers 200, then 204") {
    CHECK(emu.arm("DELETE", disk("data1") + kDisks).status == 200);
    CHECK(emu.arm("DELETE", disk("data1") + kDisks).status == 204);
  }
}

TEST_CASE("snapshots and disks answer 200 with their sku while the create is still running", "[sources][lro]") {
  TestEmulator emu(test_options([](acg::api::AppOptions& o) { o.operation_delay_ms = 60'000; }));
  REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status / 100 == 2);
  auto r = emu.arm("PUT", snapshot("s") + kSnapshots, az_snapshot().dump());
  CHECK(r.status == 200);
  CHECK_FALSE(r.header("Azure-AsyncOperation").empty());
  CHECK(r.json()["properties"]["provisioningState"] == "Creating");
  CHECK(r.json()["sku"]["name"] == "Standard_LRS");
}

TEST_CASE("managed images from snapshots and disks", "[sources][images]") {
  TestEmulator emu;
  make_group(emu);
  json snap = emu.arm("PUT", snapshot("os") + kSnapshots, az_snapshot(30).dump()).json();
  json data = emu.arm("PUT", disk("data") + kDisks, empty_disk(128).dump()).json();

  json body = image_from_snapshot(snapshot("OS"));
  body["properties"]["storageProfile"]["dataDisks"] = json::array({{{"lun", 0}, {"managedDisk", {{"id", data["id"]}}}}});
  auto created = emu.arm("PUT", image("golden") + kCompute, body.dump());
  REQUIRE(created.status == 201);
  json i = created.json();
  CHECK(i["type"] == "Microsoft.Compute/images");
  const json& p = i["properties"];
  CHECK(p["hyperVGeneration"] == "V1");
  CHECK(p["provisioningState"] == "Succeeded");
  const json& os = p["storageProfile"]["osDisk"];
  CHECK(os["osType"] == "Linux");
  CHECK(os["osState"] == "Generalized");
  CHECK(os["snapshot"]["id"] == snap["id"]);  // the service's casing
  CHECK(os["diskSizeGB"] == 30);
  CHECK(os["storageAccountType"] == "Standard_LRS");
  CHECK(os["caching"] == "ReadWrite");
  REQUIRE(p["storageProfile"]["dataDisks"].size() == 1);
  CHECK(p["storageProfile"]["dataDisks"][0]["lun"] == 0);
  CHECK(p["storageProfile"]["dataDisks"][0]["managedDisk"]["id"] == data["id"]);
  CHECK(p["storageProfile"]["dataDisks"][0]["diskSizeGB"] == 128);
  CHECK(p["storageProfile"]["zoneResilient"] == false);
  CHECK(emu.arm("GET", image("GOLDEN") + kCompute).json() == i);
  auto list = emu.arm("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/images" + kCompute).json();
  REQUIRE(list["value"].size() == 1);
  CHECK(list["value"][0]["name"] == "golden");

  SECTION("an update may restate the image and change tags, not what it is made of") {
    json again = image_from_snapshot(snap["id"]);
    again["tags"] = {{"stage", "prod"}};
    auto r = emu.arm("PUT", image("golden") + kCompute, again.dump());
    REQUIRE(r.status == 200);
    CHECK(r.json()["tags"]["stage"] == "prod");
    CHECK(r.json()["properties"] == p);
    json windows = image_from_snapshot(snap["id"]);
    windows["properties"]["storageProfile"]["osDisk"]["osType"] = "Windows";
    auto refused = emu.arm("PUT", image("golden") + kCompute, windows.dump());
    CHECK(refused.status == 409);
    CHECK(refused.json()["error"]["message"] == "Changing property 'storageProfile.osDisk.osType' is not allowed.");
  }
  SECTION("delete answers 200, then 204") {
    CHECK(emu.arm("DELETE", image("golden") + kCompute).status == 200);
    CHECK(emu.arm("DELETE", image("golden") + kCompute).status == 204);
  }
}

TEST_CASE("managed image refusals", "[sources][images]") {
  TestEmulator emu;
  make_group(emu);
  REQUIRE(emu.arm("PUT", snapshot("os") + kSnapshots, az_snapshot().dump()).status == 200);
  const std::string snap = snapshot("os");
  for (const char* key : {"osType", "osState"}) {
    json body = image_from_snapshot(snap);
    body["properties"]["storageProfile"]["osDisk"].erase(key);
    auto r = emu.arm("PUT", image("i") + kCompute, body.dump());
    CHECK(r.status == 400);
    CHECK(r.error_code() == "InvalidParameter");
    CHECK(target_of(r) == std::string("properties.storageProfile.osDisk.") + key);
  }
  CHECK(target_of(emu.arm("PUT", image("i") + kCompute, R"({"location":"westus","properties":{}})")) ==
        "properties.storageProfile");
  json no_source = image_from_snapshot(snap);
  no_source["properties"]["storageProfile"]["osDisk"].erase("snapshot");
  CHECK(target_of(emu.arm("PUT", image("i") + kCompute, no_source.dump())) == "properties.storageProfile.osDisk");
  json bad_enum = image_from_snapshot(snap);
  bad_enum["properties"]["storageProfile"]["osDisk"]["osType"] = "Solaris";
  CHECK(target_of(emu.arm("PUT", image("i") + kCompute, bad_enum.dump())) == "properties.storageProfile.osDisk.osType");
  auto missing = emu.arm("PUT", image("i") + kCompute, image_from_snapshot(snapshot("gone")).dump());
  CHECK(missing.status == 400);
  CHECK(missing.error_code() == "NotFound");
  CHECK(target_of(missing) == "properties.storageProfile.osDisk.snapshot.id");
  json twins = image_from_snapshot(snap);
  twins["properties"]["storageProfile"]["dataDisks"] =
      json::array({{{"lun", 1}, {"snapshot", {{"id", snap}}}}, {{"lun", 1}, {"snapshot", {{"id", snap}}}}});
  CHECK(emu.arm("PUT", image("i") + kCompute, twins.dump()).status == 400);
  for (const char* bad : {"-lead", "trail.", "b@d"})
    CHECK(target_of(emu.arm("PUT", image(bad) + kCompute, image_from_snapshot(snap).dump())) == "imageName");
  json nowhere = image_from_snapshot(snap);
  nowhere["location"] = "atlantis";
  CHECK(emu.arm("PUT", image("i") + kCompute, nowhere.dump()).error_code() == "LocationNotAvailableForResourceType");
  CHECK(emu.arm("PUT", image("i", "nogroup") + kCompute, image_from_snapshot(snap).dump()).error_code() ==
        "ResourceGroupNotFound");
  CHECK(emu.arm("GET", image("i") + kCompute).status == 404);  // nothing refused was written
}

TEST_CASE("virtual machines: created specialized, generalized, then captured", "[sources][vms]") {
  TestEmulator emu;
  make_group(emu);
  auto created = emu.arm("PUT", vm("vm1") + kCompute, linux_vm().dump());
  REQUIRE(created.status == 201);
  json v = created.json();
  CHECK(v["type"] == "Microsoft.Compute/virtualMachines");
  const json& p = v["properties"];
  CHECK(p["hardwareProfile"]["vmSize"] == "Standard_D2s_v3");
  CHECK(p["storageProfile"]["osDisk"]["osType"] == "Linux");
  CHECK(p["storageProfile"]["osDisk"]["createOption"] == "FromImage");
  CHECK(acg::istarts_with(p["storageProfile"]["osDisk"]["name"].get<std::string>(), "vm1_OsDisk_1_"));
  CHECK(p["storageProfile"]["imageReference"]["publisher"] == "Canonical");
  CHECK(p["osProfile"]["adminUsername"] == "azureuser");
  CHECK_FALSE(p["osProfile"].contains("adminPassword"));  // secrets are never returned
  CHECK(acg::is_guid(p["vmId"].get<std::string>()));
  CHECK(p["instanceView"]["statuses"] == json::array());
  CHECK(p["instanceView"]["hyperVGeneration"] == "V1");
  CHECK(emu.arm("GET", vm("VM1") + kCompute).json() == v);
  auto list = emu.arm("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/virtualMachines" + kCompute).json();
  REQUIRE(list["value"].size() == 1);

  // A specialized VM can be resized, and cannot be captured.
  json resized = linux_vm();
  resized["properties"]["hardwareProfile"]["vmSize"] = "Standard_D4s_v3";
  auto updated = emu.arm("PUT", vm("vm1") + kCompute, resized.dump());
  REQUIRE(updated.status == 200);
  CHECK(updated.json()["properties"]["hardwareProfile"]["vmSize"] == "Standard_D4s_v3");
  CHECK(updated.json()["properties"]["vmId"] == p["vmId"]);
  json capture = {{"location", "westus"}, {"properties", {{"sourceVirtualMachine", {{"id", v["id"]}}}}}};
  auto refused = emu.arm("PUT", image("captured") + kCompute, capture.dump());
  CHECK(refused.status == 409);
  CHECK(refused.error_code() == "OperationNotAllowed");
  CHECK(refused.json()["error"]["message"].get<std::string>().find("is not generalized") != std::string::npos);
  CHECK(emu.arm("GET", image("captured") + kCompute).status == 404);

  auto generalized = emu.arm("POST", vm("vm1") + "/generalize" + kCompute);
  CHECK(generalized.status == 200);
  CHECK(generalized.body.empty());
  json statuses = emu.arm("GET", vm("vm1") + kCompute).json()["properties"]["instanceView"]["statuses"];
  REQUIRE(statuses.size() == 1);
  CHECK(statuses[0]["code"] == "OSState/generalized");
  CHECK(emu.arm("POST", vm("VM1") + "/generalize" + kCompute).status == 200);  // idempotent
  CHECK(emu.arm("GET", vm("vm1") + kCompute).json()["properties"]["instanceView"]["statuses"].size() == 1);

  auto image_created = emu.arm("PUT", image("captured") + kCompute, capture.dump());
  REQUIRE(image_created.status == 201);
  const json ip = image_created.json()["properties"];
  CHECK(ip["sourceVirtualMachine"]["id"] == v["id"]);
  CHECK(ip["storageProfile"]["osDisk"]["osType"] == "Linux");
  CHECK(ip["storageProfile"]["osDisk"]["osState"] == "Generalized");
  CHECK(ip["hyperVGeneration"] == "V1");

  auto frozen = emu.arm("PUT", vm("vm1") + kCompute, linux_vm().dump());
  CHECK(frozen.status == 409);
  CHECK(frozen.json()["error"]["message"] == "Operation 'Update' is not allowed on VM 'vm1' since the VM is generalized.");
  CHECK(emu.arm("DELETE", vm("vm1") + kCompute).status == 200);
  CHECK(emu.arm("DELETE", vm("vm1") + kCompute).status == 204);
  CHECK(emu.arm("POST", vm("vm1") + "/generalize" + kCompute).error_code() == "ResourceNotFound");
  // The VM is gone: capturing it again is refused.
  CHECK(emu.arm("PUT", image("again") + kCompute, capture.dump()).status == 409);
}

TEST_CASE("a VM on an attached disk takes its OS type and generation; captures copy them", "[sources][vms]") {
  TestEmulator emu;
  make_group(emu);
  json os_disk = empty_disk(127);
  os_disk["properties"]["osType"] = "Windows";
  os_disk["properties"]["hyperVGeneration"] = "V2";
  json d = emu.arm("PUT", disk("osdisk") + kDisks, os_disk.dump()).json();
  auto created = emu.arm("PUT", vm("win") + kCompute, vm_attaching(disk("OSDISK")).dump());
  REQUIRE(created.status == 201);
  const json os = created.json()["properties"]["storageProfile"]["osDisk"];
  CHECK(os["osType"] == "Windows");
  CHECK(os["createOption"] == "Attach");
  CHECK(os["managedDisk"]["id"] == d["id"]);
  CHECK(os["diskSizeGB"] == 127);
  CHECK(created.json()["properties"]["instanceView"]["hyperVGeneration"] == "V2");

  REQUIRE(emu.arm("POST", vm("win") + "/generalize" + kCompute).status == 200);
  json capture = {{"location", "westus"}, {"properties", {{"sourceVirtualMachine", {{"id", vm("win")}}}}}};
  auto i = emu.arm("PUT", image("winimage") + kCompute, capture.dump());
  REQUIRE(i.status == 201);
  const json p = i.json()["properties"];
  CHECK(p["storageProfile"]["osDisk"]["osType"] == "Windows");
  CHECK(p["storageProfile"]["osDisk"]["osState"] == "Generalized");
  CHECK(p["storageProfile"]["osDisk"]["managedDisk"]["id"] == d["id"]);
  CHECK(p["hyperVGeneration"] == "V2");
  json mismatched = capture;
  mismatched["properties"]["hyperVGeneration"] = "V1";
  CHECK(target_of(emu.arm("PUT", image("winimage2") + kCompute, mismatched.dump())) == "properties.hyperVGeneration");

  // A VM from that managed image knows its OS type without being told.
  json from_image = {{"location", "westus"},
                     {"properties",
                      {{"hardwareProfile", {{"vmSize", "Standard_B2s"}}},
                       {"storageProfile", {{"imageReference", {{"id", image("winimage")}}}}}}}};
  auto second = emu.arm("PUT", vm("win2") + kCompute, from_image.dump());
  REQUIRE(second.status == 201);
  CHECK(second.json()["properties"]["storageProfile"]["osDisk"]["osType"] == "Windows");
  CHECK(second.json()["properties"]["instanceView"]["hyperVGeneration"] == "V2");
}

TEST_CASE("virtual machine refusals", "[sources][vms]") {
  TestEmulator emu;
  make_group(emu);
  json body = linux_vm();
  body["properties"].erase("hardwareProfile");
  CHECK(target_of(emu.arm("PUT", vm("v") + kCompute, body.dump())) == "properties.hardwareProfile.vmSize");
  body = linux_vm();
  body["properties"].erase("storageProfile");
  CHECK(target_of(emu.arm("PUT", vm("v") + kCompute, body.dump())) == "properties.storageProfile");
  body = linux_vm();
  body["properties"]["storageProfile"]["osDisk"].erase("osType");
  body["properties"].erase("osProfile");  // nothing says which OS the platform image has
  CHECK(target_of(emu.arm("PUT", vm("v") + kCompute, body.dump())) == "properties.storageProfile.osDisk.osType");
  body["properties"]["osProfile"] = {{"adminUsername", "u"}, {"linuxConfiguration", json::object()}};
  auto derived = emu.arm("PUT", vm("derived") + kCompute, body.dump());
  REQUIRE(derived.status == 201);
  CHECK(derived.json()["properties"]["storageProfile"]["osDisk"]["osType"] == "Linux");
  auto missing_disk = emu.arm("PUT", vm("v") + kCompute, vm_attaching(disk("gone")).dump());
  CHECK(missing_disk.error_code() == "NotFound");
  CHECK(target_of(missing_disk) == "properties.storageProfile.osDisk.managedDisk.id");
  CHECK(target_of(emu.arm("PUT", vm(std::string(65, 'v')) + kCompute, linux_vm().dump())) == "vmName");
  CHECK(emu.arm("PUT", vm(std::string(64, 'v')) + kCompute, linux_vm().dump()).status == 201);
  CHECK(target_of(emu.arm("PUT", vm("bad.") + kCompute, linux_vm().dump())) == "vmName");
  json nowhere = linux_vm();
  nowhere["location"] = "atlantis";
  CHECK(emu.arm("PUT", vm("v") + kCompute, nowhere.dump()).error_code() == "LocationNotAvailableForResourceType");
  CHECK(emu.arm("PUT", vm("v", "nogroup") + kCompute, linux_vm().dump()).error_code() == "ResourceGroupNotFound");
  CHECK(emu.arm("GET", vm("v") + kCompute).status == 404);
}

TEST_CASE("storage accounts", "[sources][storage]") {
  TestEmulator emu;
  make_group(emu);
  make_group(emu, "other");
  auto created = emu.arm("PUT", account("acgstore1") + kStorage, storage_account("standard_grs").dump());
  REQUIRE(created.status == 200);
  json a = created.json();
  CHECK(a["type"] == "Microsoft.Storage/storageAccounts");
  CHECK(a["kind"] == "StorageV2");
  CHECK(a["sku"] == json{{"name", "Standard_GRS"}, {"tier", "Standard"}});
  const json& p = a["properties"];
  CHECK(p["primaryEndpoints"]["blob"] == "https://acgstore1.blob.core.windows.net/");
  CHECK(p["primaryEndpoints"]["dfs"] == "https://acgstore1.dfs.core.windows.net/");
  CHECK(p["primaryLocation"] == "westus");
  CHECK(p["statusOfPrimary"] == "available");
  CHECK(p["accessTier"] == "Hot");
  CHECK(p["supportsHttpsTrafficOnly"] == true);
  CHECK(p["provisioningState"] == "Succeeded");
  CHECK(emu.arm("GET", "/subscriptions/" + kSub + "/resourcegroups/RG/providers/microsoft.storage/STORAGEACCOUNTS/acgstore1" + kStorage)
            .json() == a);
  auto list = emu.arm("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Storage/storageAccounts" + kStorage).json();
  REQUIRE(list["value"].size() == 1);

  SECTION("updates") {
    auto patched = emu.arm("PATCH", account("acgstore1") + kStorage, R"({"properties":{"accessTier":"cool"},"tags":{"a":"b"}})");
    REQUIRE(patched.status == 200);
    CHECK(patched.json()["properties"]["accessTier"] == "Cool");
    CHECK(patched.json()["sku"]["name"] == "Standard_GRS");
    CHECK(patched.json()["kind"] == "StorageV2");
    json downgrade = storage_account();
    downgrade["kind"] = "Storage";
    auto refused = emu.arm("PUT", account("acgstore1") + kStorage, downgrade.dump());
    CHECK(refused.status == 400);
    CHECK(refused.error_code() == "AccountPropertyCannotBeUpdated");
  }
  SECTION("names are global") {
    auto twin = emu.arm("PUT", account("acgstore1", "other") + kStorage, storage_account().dump());
    CHECK(twin.status == 409);
    CHECK(twin.error_code() == "StorageAccountInAnotherResourceGroup");
  }
  SECTION("refusals") {
    for (const std::string& bad : std::vector<std::string>{"ab", "UpperCase", "has-dash", std::string(25, 'a')}) {
      auto r = emu.arm("PUT", account(bad) + kStorage, storage_account().dump());
      CHECK(r.status == 400);
      CHECK(r.error_code() == "AccountNameInvalid");
      CHECK(r.json()["error"]["message"] ==
            bad + " is not a valid storage account name. Storage account name must be between 3 and 24 characters in "
                  "length and use numbers and lower-case letters only.");
    }
    CHECK(emu.arm("PUT", account("abc") + kStorage, storage_account().dump()).status == 200);
    CHECK(emu.arm("PUT", account("s2") + kStorage, R"({"location":"westus"})").status == 400);
    CHECK(emu.arm("PUT", account("nosku") + kStorage, R"({"location":"westus"})").error_code() == "InvalidRequestContent");
    CHECK(emu.arm("PUT", account("badsku") + kStorage, storage_account("Gold_LRS").dump()).error_code() == "InvalidAccountType");
    json nowhere = storage_account();
    nowhere["location"] = "atlantis";
    CHECK(emu.arm("PUT", account("nowhere") + kStorage, nowhere.dump()).error_code() == "LocationNotAvailableForResourceType");
    CHECK(emu.arm("PUT", account("nogroup", "nogroup") + kStorage, storage_account().dump()).error_code() ==
          "ResourceGroupNotFound");
    CHECK(emu.arm("GET", account("nosku") + kStorage).status == 404);
  }
  SECTION("delete answers 200, then 204") {
    CHECK(emu.arm("DELETE", account("acgstore1") + kStorage).status == 200);
    CHECK(emu.arm("DELETE", account("acgstore1") + kStorage).status == 204);
    // The name is free again.
    CHECK(emu.arm("PUT", account("acgstore1", "other") + kStorage, storage_account().dump()).status == 200);
  }
}
