// Azure Image Builder over HTTPS: user-assigned identities, image template validation, runs on
// the virtual clock (phases, timeout, cancel, injected faults), run outputs, the image version
// and managed image a run distributes (written through the pipeline as the identity), and
// delete. Fixtures follow the 2022-02-14 spec examples (CreateImageTemplateLinux.json).

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kAib = "?api-version=2022-02-14";
const std::string kAibNew = "?api-version=2024-02-01";
const std::string kMsi = "?api-version=2023-01-31";
const std::string kGallery = "?api-version=2022-03-03";
const std::string kContributor = "b24988ac-6180-42a0-ab88-20f7382dd24c";

std::string rg_path() { return TestEmulator::group_path("rg"); }
std::string identity_id(const std::string& name = "aib-id") {
  return rg_path() + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name;
}
std::string template_path(const std::string& name = "tmpl") {
  return rg_path() + "/providers/Microsoft.VirtualMachineImages/imageTemplates/" + name;
}
std::string definition_id() { return TestEmulator::gallery_path("rg", "gal") + "/images/ubuntu"; }
std::string managed_image_id(const std::string& name = "out-image") {
  return rg_path() + "/providers/Microsoft.Compute/images/" + name;
}

// The group, an identity, a gallery and a Linux definition; Contributor for the identity on
// the group when `grant`.
std::string setup(TestEmulator& emu, bool grant = true) {
  REQUIRE(emu.arm("PUT", rg_path() + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
  auto id = emu.arm("PUT", identity_id() + kMsi, R"({"location":"westus"})");
  REQUIRE(id.status == 201);
  const std::string principal = id.json()["properties"]["principalId"];
  REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + kGallery, R"({"location":"westus"})").status == 201);
  json definition = {{"location", "westus"},
                     {"properties",
                      {{"osType", "Linux"},
                       {"osState", "Generalized"},
                       {"hyperVGeneration", "V2"},
                       {"identifier", {{"publisher", "P"}, {"offer", "O"}, {"sku", "S"}}}}}};
  REQUIRE(emu.arm("PUT", definition_id() + kGallery, definition.dump()).status == 201);
  if (grant) {
    json assignment = {{"properties",
                        {{"roleDefinitionId", "/subscriptions/" + kSub + "/providers/Microsoft.Authorization/roleDefinitions/" + kContributor},
                         {"principalId", principal},
                         {"principalType", "ServicePrincipal"}}}};
    auto r = emu.arm("PUT", rg_path() + "/providers/Microsoft.Authorization/roleAssignments/5d2c8a0e-3c4f-4a7e-9b0f-6a1d2e3f4a5b?api-version=2022-04-01",
                     assignment.dump());
    REQUIRE(r.status == 201);
  }
  return principal;
}

json linux_template(json distribute = json()) {
  if (distribute.is_null())
    distribute = json::array({{{"type", "SharedImage"},
                               {"galleryImageId", definition_id()},
                               {"runOutputName", "sig-out"},
                               {"replicationRegions", {"westus", "eastus"}}},
                              {{"type", "ManagedImage"},
                               {"imageId", managed_image_id()},
                               {"location", "westus"},
                               {"runOutputName", "mi-out"}}});
  return {{"location", "westus"},
          {"tags", {{"imagetemplate_tag1", "IT_T1"}}},
          {"identity", {{"type", "UserAssigned"}, {"userAssignedIdentities", {{identity_id(), json::object()}}}}},
          {"properties",
           {{"source", {{"type", "PlatformImage"}, {"publisher", "Canonical"}, {"offer", "0001-com-ubuntu-server-jammy"},
                        {"sku", "22_04-lts-gen2"}, {"version", "latest"}}},
            {"customize", json::array({{{"type", "Shell"}, {"name", "install-nginx"}, {"inline", {"sudo apt-get install -y nginx"}}}})},
            {"distribute", distribute},
            {"vmProfile", {{"vmSize", "Standard_D2s_v3"}}}}}};
}

ClientResponse put_template(TestEmulator& emu, const json& body, const std::string& name = "tmpl", const std::string& v = kAib) {
  return emu.arm("PUT", template_path(name) + v, body.dump());
}

json last_run(TestEmulator& emu, const std::string& name = "tmpl") {
  auto r = emu.arm("GET", template_path(name) + kAib);
  REQUIRE(r.status == 200);
  return r.json()["properties"].value("lastRunStatus", json::object());
}

void advance(TestEmulator& emu, int seconds) {
  REQUIRE(emu.arm("POST", "/_emulator/clock/advance?seconds=" + std::to_string(seconds)).status == 200);
}

acg::api::AppOptions virtual_time() {
  return test_options([](acg::api::AppOptions& o) {
    o.virtual_clock = true;
    o.replication_speed = 1;  // the modelled world's own pace: phases in minutes of virtual time
  });
}

std::string error_of_put(TestEmulator& emu, json body) {
  auto r = put_template(emu, body);
  CHECK(r.status == 400);
  return r.error_code() + ": " + r.json()["error"].value("message", "") + " @" + r.json()["error"].value("target", "");
}

}  // namespace

TEST_CASE("user-assigned identities: create, read, tag, list, delete", "[imagebuilder]") {
  TestEmulator emu;
  REQUIRE(emu.arm("PUT", rg_path() + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
  for (const std::string& v : std::vector<std::string>{"?api-version=2022-01-31-preview", kMsi, "?api-version=2018-11-30"}) {
    auto r = emu.arm("PUT", identity_id() + v, R"({"location":"eastus2"})");
    CHECK((r.status == 201 || r.status == 200));
  }
  auto r = emu.arm("GET", identity_id() + kMsi);
  REQUIRE(r.status == 200);
  json p = r.json()["properties"];
  CHECK(p["tenantId"] == kTenant);
  CHECK(p["principalId"].get<std::string>().size() == 36);
  CHECK(p["clientId"] != p["principalId"]);
  CHECK_FALSE(p.contains("provisioningState"));
  // Deterministic: the same id gives the same principal after a delete and re-create.
  const std::string principal = p["principalId"];
  CHECK(emu.arm("PATCH", identity_id() + kMsi, R"({"tags":{"team":"images"}})").json()["tags"]["team"] == "images");
  CHECK(emu.arm("GET", rg_path() + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities" + kMsi).json()["value"].size() == 1);
  CHECK(emu.arm("GET", "/subscriptions/" + kSub + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities" + kMsi)
            .json()["value"].size() == 1);
  CHECK(emu.arm("PUT", identity_id("-bad") + kMsi, R"({"location":"westus"})").error_code() == "InvalidResourceName");
  CHECK(emu.arm("GET", identity_id() + "?api-version=2019-01-01").error_code() == "InvalidApiVersionParameter");
  CHECK(emu.arm("DELETE", identity_id() + kMsi).status == 200);
  CHECK(emu.arm("GET", identity_id() + kMsi).status == 404);
  CHECK(emu.arm("PUT", identity_id() + kMsi, R"({"location":"westus"})").json()["properties"]["principalId"] == principal);
}

TEST_CASE("role assignments accept a managed identity's principal id", "[imagebuilder]") {
  TestEmulator emu;
  const std::string principal = setup(emu, false);
  json assignment = {{"properties",
                      {{"roleDefinitionId", "/subscriptions/" + kSub + "/providers/Microsoft.Authorization/roleDefinitions/" + kContributor},
                       {"principalId", principal}}}};
  auto r = emu.arm("PUT", rg_path() + "/providers/Microsoft.Authorization/roleAssignments/0b5a3c1e-9f7d-4e2b-8a6c-1d3e5f7a9b0c?api-version=2022-04-01",
                   assignment.dump());
  CHECK(r.status == 201);
  assignment["properties"]["principalId"] = "9d9d9d9d-9d9d-4d9d-9d9d-9d9d9d9d9d9d";
  r = emu.arm("PUT", rg_path() + "/providers/Microsoft.Authorization/roleAssignments/1b5a3c1e-9f7d-4e2b-8a6c-1d3e5f7a9b0c?api-version=2022-04-01",
              assignment.dump());
  CHECK(r.error_code() == "PrincipalNotFound");
}

TEST_CASE("image templates: create, read, list, tags, no update, operations list", "[imagebuilder]") {
  TestEmulator emu;
  setup(emu);
  auto r = put_template(emu, linux_template());
  REQUIRE(r.status == 201);
  json t = r.json();
  CHECK(t["type"] == "Microsoft.VirtualMachineImages/imageTemplates");
  CHECK(t["properties"]["provisioningState"] == "Succeeded");
  CHECK(t["properties"]["buildTimeoutInMinutes"] == 0);
  const std::string staging = t["properties"]["exactStagingResourceGroup"];
  CHECK(staging.find("/resourceGroups/IT_rg_tmpl_") != std::string::npos);
  CHECK(t["identity"]["userAssignedIdentities"][identity_id()]["principalId"].get<std::string>().size() == 36);
  CHECK_FALSE(t.dump().find("acg:") != std::string::npos);
  // The staging group exists, with the staging storage account.
  CHECK(emu.arm("GET", staging + "?api-version=2021-04-01").status == 200);
  CHECK(emu.arm("GET", staging + "/providers/Microsoft.Storage/storageAccounts?api-version=2023-01-01").json()["value"].size() == 1);

  CHECK(emu.arm("GET", template_path() + kAib).json()["properties"]["source"]["publisher"] == "Canonical");
  CHECK(emu.arm("GET", rg_path() + "/providers/Microsoft.VirtualMachineImages/imageTemplates" + kAib).json()["value"].size() == 1);
  CHECK(emu.arm("GET", "/subscriptions/" + kSub + "/providers/Microsoft.VirtualMachineImages/imageTemplates" + kAib)
            .json()["value"].size() == 1);
  // Same body again: fine. A changed body: refused, as the service refuses updates.
  CHECK(put_template(emu, linux_template()).status == 200);
  json changed = linux_template();
  changed["properties"]["vmProfile"]["vmSize"] = "Standard_D4s_v3";
  auto refused = put_template(emu, changed);
  CHECK(refused.status == 400);
  CHECK(refused.json()["error"]["message"].get<std::string>().find("Update/Upgrade of image templates is currently not supported") !=
        std::string::npos);
  // PATCH: tags.
  auto patched = emu.arm("PATCH", template_path() + kAib, R"({"tags":{"new":"tag"}})");
  CHECK(patched.status == 200);
  CHECK(patched.json()["tags"] == json{{"new", "tag"}});
  // PATCH: the identity, as UpdateImageTemplateToRemoveIdentities.json removes it; a missing one is refused.
  auto missing = emu.arm("PATCH", template_path() + kAib,
                         json{{"identity", {{"type", "UserAssigned"}, {"userAssignedIdentities", {{identity_id("gone"), json::object()}}}}}}.dump());
  CHECK(missing.error_code() == "ResourceNotFound");
  auto removed = emu.arm("PATCH", template_path() + kAib, R"({"identity":{"type":"None"}})");
  CHECK(removed.status == 200);
  CHECK_FALSE(removed.json().contains("identity"));
  CHECK(removed.json()["tags"] == json{{"new", "tag"}});
  // Newer api-version members are kept.
  json newer = linux_template();
  newer["properties"]["optimize"] = {{"vmBoot", {{"state", "Enabled"}}}};
  newer["properties"]["errorHandling"] = {{"onCustomizerError", "abort"}};
  newer["properties"]["autoRun"] = {{"state", "Disabled"}};
  newer["properties"]["distribute"][0].erase("replicationRegions");
  newer["properties"]["distribute"][0]["targetRegions"] = {{{"name", "westus"}, {"replicaCount", 2}, {"storageAccountType", "Standard_ZRS"}}};
  auto created = put_template(emu, newer, "tmpl-new", kAibNew);
  REQUIRE(created.status == 201);
  CHECK(created.json()["properties"]["errorHandling"]["onCustomizerError"] == "abort");
  CHECK(created.json()["properties"]["distribute"][0]["targetRegions"][0]["replicaCount"] == 2);
  CHECK(emu.arm("GET", template_path() + "?api-version=2019-02-01").error_code() == "InvalidApiVersionParameter");

  auto ops = emu.arm("GET", "/providers/Microsoft.VirtualMachineImages/operations" + kAib);
  REQUIRE(ops.status == 200);
  CHECK(ops.json()["value"][0]["name"] == "Microsoft.VirtualMachineImages/register/action");
}

TEST_CASE("image templates: validation errors", "[imagebuilder]") {
  TestEmulator emu;
  setup(emu);
  json t = linux_template();
  t.erase("identity");
  CHECK(error_of_put(emu, t).find("user-assigned managed identity") != std::string::npos);
  t = linux_template();
  t["identity"]["type"] = "SystemAssigned";
  CHECK(error_of_put(emu, t).find("Only 'UserAssigned'") != std::string::npos);
  t = linux_template();
  t["identity"]["userAssignedIdentities"] = {{identity_id(), json::object()}, {identity_id("other"), json::object()}};
  CHECK(error_of_put(emu, t).find("Exactly one") != std::string::npos);
  t = linux_template();
  t["identity"]["userAssignedIdentities"] = {{identity_id("missing"), json::object()}};
  CHECK(error_of_put(emu, t).find("ResourceNotFound") == 0);
  t = linux_template();
  t["properties"]["source"].erase("sku");
  CHECK(error_of_put(emu, t).find("properties.source.sku") != std::string::npos);
  t = linux_template();
  t["properties"]["source"]["type"] = "Iso";
  CHECK(error_of_put(emu, t).find("InvalidParameter") == 0);
  t = linux_template();
  t["properties"]["source"]["planInfo"] = {{"planName", "p"}, {"planProduct", "o"}, {"planPublisher", "pub"}};
  CHECK(error_of_put(emu, t).find("MarketplacePurchaseEligibilityFailed") == 0);
  t = linux_template();
  t["properties"]["source"] = {{"type", "ManagedImage"}, {"imageId", managed_image_id("nope")}};
  CHECK(error_of_put(emu, t).find("NotFound") == 0);
  t = linux_template();
  t["properties"]["source"] = {{"type", "SharedImageVersion"}, {"imageVersionId", definition_id() + "/versions/1.0.0"}};
  CHECK(error_of_put(emu, t).find("NotFound") == 0);
  t = linux_template();
  t["properties"]["customize"][0]["scriptUri"] = "https://example.com/a.sh";
  CHECK(error_of_put(emu, t).find("exactly one of 'scriptUri' or 'inline'") != std::string::npos);
  t = linux_template();
  t["properties"]["customize"] = {{{"type", "PowerShell"}, {"inline", {"Write-Host hi"}}}};
  CHECK(error_of_put(emu, t).find("Windows source image") != std::string::npos);
  t = linux_template();
  t["properties"]["customize"] = {{{"type", "WindowsRestart"}}};
  CHECK(error_of_put(emu, t).find("Windows source image") != std::string::npos);
  t = linux_template();
  t["properties"]["customize"] = {{{"type", "File"}, {"sourceUri", "https://example.com/f"}}};
  CHECK(error_of_put(emu, t).find("destination") != std::string::npos);
  t = linux_template();
  t["properties"]["source"]["publisher"] = "MicrosoftWindowsServer";
  t["properties"]["source"]["offer"] = "WindowsServer";
  CHECK(error_of_put(emu, t).find("'Shell' can only be used with a Linux") != std::string::npos);
  t = linux_template(json::array());
  CHECK(error_of_put(emu, t).find("At least one distributor") != std::string::npos);
  t = linux_template();
  t["properties"]["distribute"][1]["runOutputName"] = "SIG-OUT";
  CHECK(error_of_put(emu, t).find("more than one distributor") != std::string::npos);
  t = linux_template();
  t["properties"]["distribute"][1].erase("location");
  CHECK(error_of_put(emu, t).find("properties.distribute[1].location") != std::string::npos);
  t = linux_template();
  t["properties"]["distribute"][0].erase("replicationRegions");
  CHECK(error_of_put(emu, t).find("targetRegions") != std::string::npos);
  t = linux_template();
  t["properties"]["distribute"][0]["galleryImageId"] = managed_image_id();
  CHECK(error_of_put(emu, t).find("not a gallery image definition") != std::string::npos);
  // Nothing was written by any of them.
  CHECK(emu.arm("GET", template_path() + kAib).status == 404);
  // A Windows platform image takes PowerShell, WindowsRestart and WindowsUpdate.
  t = linux_template();
  t["properties"]["source"] = {{"type", "PlatformImage"}, {"publisher", "MicrosoftWindowsServer"}, {"offer", "WindowsServer"},
                               {"sku", "2022-datacenter"}, {"version", "latest"}};
  t["properties"]["customize"] = {{{"type", "PowerShell"}, {"scriptUri", "https://example.com/a.ps1"}, {"runElevated", true}},
                                  {{"type", "WindowsRestart"}},
                                  {{"type", "WindowsUpdate"}}};
  t["properties"]["distribute"] = {{{"type", "VHD"}, {"runOutputName", "vhd"}}};
  CHECK(put_template(emu, t, "win").status == 201);
}

TEST_CASE("a run walks its phases on the virtual clock and distributes a version and a managed image", "[imagebuilder]") {
  TestEmulator emu(virtual_time());
  setup(emu);
  REQUIRE(put_template(emu, linux_template()).status == 201);
  auto run = emu.arm("POST", template_path() + "/run" + kAib);
  REQUIRE(run.status == 202);
  const std::string status_url = run.header("Azure-AsyncOperation");
  CHECK(status_url.find("/providers/Microsoft.VirtualMachineImages/locations/westus/operations/") != std::string::npos);
  CHECK(run.header("Retry-After") == "1");
  json s = last_run(emu);
  CHECK(s["runState"] == "Running");
  CHECK(s["runSubState"] == "Queued");
  CHECK(emu.arm("GET", path_of(status_url)).json()["status"] == "InProgress");
  // A second run while this one runs: refused.
  CHECK(emu.arm("POST", template_path() + "/run" + kAib).status == 409);

  advance(emu, 60);
  CHECK(last_run(emu)["runSubState"] == "Building");
  advance(emu, 300);
  CHECK(last_run(emu)["runSubState"] == "Customizing");
  advance(emu, 120);
  CHECK(last_run(emu)["runSubState"] == "Distributing");
  // Distribution started: the version exists (written as the identity) and replicates.
  auto outputs = emu.arm("GET", template_path() + "/runOutputs" + kAib).json()["value"];
  REQUIRE(outputs.size() == 2);
  const std::string version_id = outputs[0]["properties"]["artifactId"];
  CHECK(version_id.find(definition_id() + "/versions/0.") == 0);
  CHECK(outputs[1]["properties"]["artifactId"] == managed_image_id());
  auto version = emu.arm("GET", version_id + kGallery);
  REQUIRE(version.status == 200);
  CHECK(version.json()["properties"]["storageProfile"]["source"]["id"].get<std::string>().find("/resourceGroups/IT_rg_tmpl_") !=
        std::string::npos);
  CHECK(emu.arm("GET", managed_image_id() + "?api-version=2022-08-01").status == 200);
  CHECK(emu.arm("GET", path_of(status_url)).json()["status"] == "InProgress");

  // The phase's own time and the replication to both regions.
  advance(emu, 3600);
  s = last_run(emu);
  CHECK(s["runState"] == "Succeeded");
  CHECK(s.contains("endTime"));
  auto done = emu.arm("GET", path_of(status_url)).json();
  CHECK(done["status"] == "Succeeded");
  auto replication = emu.arm("GET", version_id + kGallery + "&$expand=ReplicationStatus").json();
  CHECK(replication["properties"]["provisioningState"] == "Succeeded");
  for (const json& region : replication["properties"]["replicationStatus"]["summary"]) CHECK(region["state"] == "Completed");
  auto one = emu.arm("GET", template_path() + "/runOutputs/mi-out" + kAib);
  CHECK(one.status == 200);
  CHECK(one.json()["properties"]["provisioningState"] == "Succeeded");
  CHECK(emu.arm("GET", template_path() + "/runOutputs/none" + kAib).status == 404);

  // The customization log names the customizer.
  auto log = emu.arm("GET", "/_emulator/buildlogs?resourceId=" + template_path());
  REQUIRE(log.status == 200);
  const std::string text = log.json().dump();
  CHECK(text.find("Provisioning with shell script: inline script (1 lines)") != std::string::npos);
  CHECK(text.find("install-nginx") != std::string::npos);
  CHECK(text.find("finished successfully") != std::string::npos);

  // Delete: the run outputs and the staging group go; the artifacts stay.
  const std::string staging = emu.arm("GET", template_path() + kAib).json()["properties"]["exactStagingResourceGroup"];
  CHECK(emu.arm("DELETE", template_path() + kAib).status == 200);
  CHECK(emu.arm("GET", template_path() + "/runOutputs" + kAib).status == 404);
  CHECK(emu.arm("GET", staging + "?api-version=2021-04-01").status == 404);
  CHECK(emu.arm("GET", version_id + kGallery).status == 200);
  CHECK(emu.arm("GET", managed_image_id() + "?api-version=2022-08-01").status == 200);
}

TEST_CASE("a run's build timeout, cancel and injected phase faults", "[imagebuilder]") {
  TestEmulator emu(virtual_time());
  setup(emu);

  SECTION("buildTimeoutInMinutes shorter than the build fails it") {
    json t = linux_template();
    t["properties"]["buildTimeoutInMinutes"] = 5;  // the build VM alone takes 5 min after 1 min queued
    REQUIRE(put_template(emu, t).status == 201);
    auto run = emu.arm("POST", template_path() + "/run" + kAib);
    advance(emu, 299);
    CHECK(last_run(emu)["runState"] == "Running");
    advance(emu, 2);
    json s = last_run(emu);
    CHECK(s["runState"] == "Failed");
    CHECK(s["runSubState"] == "Building");
    CHECK(s["message"].get<std::string>().find("context deadline exceeded") != std::string::npos);
    auto op = emu.arm("GET", path_of(run.header("Azure-AsyncOperation"))).json();
    CHECK(op["status"] == "Failed");
    CHECK(op["error"]["message"].get<std::string>().find("buildTimeoutInMinutes = 5") != std::string::npos);
  }

  SECTION("the timeout also covers waiting for the distributed version's replication") {
    // The phases take 14 min; the copy to eastus, slowed tenfold, far longer.
    REQUIRE(emu.arm("POST", "/_emulator/faults", R"({"regions":[{"region":"eastus","slowFactor":10}]})").status == 200);
    json t = linux_template();
    t["properties"]["buildTimeoutInMinutes"] = 15;
    REQUIRE(put_template(emu, t).status == 201);
    REQUIRE(emu.arm("POST", template_path() + "/run" + kAib).status == 202);
    advance(emu, 480);
    CHECK(last_run(emu)["runSubState"] == "Distributing");
    advance(emu, 360);
    CHECK(last_run(emu)["runState"] == "Running");  // the phase's time is over; the replication is not
    advance(emu, 60);
    json s = last_run(emu);
    CHECK(s["runState"] == "Failed");
    CHECK(s["message"].get<std::string>().find("buildTimeoutInMinutes = 15") != std::string::npos);
  }

  SECTION("cancel: Canceling, then Canceled; nothing distributed") {
    REQUIRE(put_template(emu, linux_template()).status == 201);
    REQUIRE(emu.arm("POST", template_path() + "/run" + kAib).status == 202);
    advance(emu, 100);
    auto cancel = emu.arm("POST", template_path() + "/cancel" + kAib);
    REQUIRE(cancel.status == 202);
    CHECK(last_run(emu)["runState"] == "Canceling");
    CHECK(emu.arm("GET", path_of(cancel.header("Azure-AsyncOperation"))).json()["status"] == "InProgress");
    advance(emu, 60);
    CHECK(last_run(emu)["runState"] == "Canceled");
    CHECK(emu.arm("GET", path_of(cancel.header("Azure-AsyncOperation"))).json()["status"] == "Succeeded");
    CHECK(emu.arm("GET", managed_image_id() + "?api-version=2022-08-01").status == 404);
    CHECK(emu.arm("POST", template_path() + "/cancel" + kAib).status == 409);
    // A new run may start.
    CHECK(emu.arm("POST", template_path() + "/run" + kAib).status == 202);
  }

  SECTION("a fault injected in the Customizing phase fails the run there") {
    REQUIRE(emu.arm("POST", "/_emulator/faults",
                    R"({"operations":[{"method":"Customizing","resourceType":"Microsoft.VirtualMachineImages/imageTemplates",
                        "code":"ScriptFailed","message":"The script exited with status 1."}]})")
                .status == 200);
    REQUIRE(put_template(emu, linux_template()).status == 201);
    REQUIRE(emu.arm("POST", template_path() + "/run" + kAib).status == 202);
    advance(emu, 600);
    json s = last_run(emu);
    CHECK(s["runState"] == "Failed");
    CHECK(s["runSubState"] == "Customizing");
    CHECK(s["message"].get<std::string>().find("Failed in phase 'Customizing': ScriptFailed: The script exited with status 1.") == 0);
    CHECK(emu.arm("GET", "/_emulator/buildlogs?resourceId=" + template_path()).json().dump().find("Error in phase Customizing") !=
          std::string::npos);
  }
}

TEST_CASE("a run fails before distributing when the identity may not write the outputs", "[imagebuilder]") {
  TestEmulator emu;  // instant
  setup(emu, false);
  REQUIRE(put_template(emu, linux_template()).status == 201);
  auto run = emu.arm("POST", template_path() + "/run" + kAib);
  REQUIRE(run.status == 202);
  json s = last_run(emu);
  CHECK(s["runState"] == "Failed");
  CHECK(s["runSubState"] == "Distributing");
  CHECK(s["message"].get<std::string>().find("Not authorized to access the resource " + definition_id()) != std::string::npos);
  CHECK(emu.arm("GET", managed_image_id() + "?api-version=2022-08-01").status == 404);
}

TEST_CASE("an instant run from a managed image source with a VHD output", "[imagebuilder]") {
  TestEmulator emu;
  setup(emu);
  // A managed image source (a VHD blob), then a template building from it.
  json source = {{"location", "westus"},
                 {"properties",
                  {{"storageProfile",
                    {{"osDisk", {{"osType", "Linux"}, {"osState", "Generalized"}, {"blobUri", "https://a.blob.core.windows.net/v/s.vhd"}}}}}}}};
  REQUIRE(emu.arm("PUT", managed_image_id("src") + "?api-version=2022-08-01", source.dump()).status == 201);
  json t = linux_template(json::array({{{"type", "VHD"}, {"runOutputName", "vhd-out"}},
                                       {{"type", "SharedImage"}, {"galleryImageId", definition_id() + "/versions/1.2.3"},
                                        {"runOutputName", "sig"}, {"replicationRegions", {"westus"}}}}));
  t["properties"]["source"] = {{"type", "ManagedImage"}, {"imageId", managed_image_id("src")}};
  REQUIRE(put_template(emu, t).status == 201);
  REQUIRE(emu.arm("POST", template_path() + "/run" + kAib).status == 202);
  CHECK(last_run(emu)["runState"] == "Succeeded");
  auto outputs = emu.arm("GET", template_path() + "/runOutputs" + kAib).json()["value"];
  REQUIRE(outputs.size() == 2);
  CHECK(outputs[0]["properties"]["artifactUri"].get<std::string>().find(".blob.core.windows.net/vhds/") != std::string::npos);
  CHECK(outputs[1]["properties"]["artifactId"] == definition_id() + "/versions/1.2.3");
  // A second run writes the same version again: the gallery's own immutability rule answers.
  REQUIRE(emu.arm("POST", template_path() + "/run" + kAib).status == 202);
  json s = last_run(emu);
  CHECK((s["runState"] == "PartiallySucceeded" || s["runState"] == "Succeeded"));
}

TEST_CASE("autoRun Enabled starts a build when the template is created; bad operation names are 404", "[imagebuilder]") {
  TestEmulator emu;
  setup(emu);
  json t = linux_template();
  t["properties"]["autoRun"] = {{"state", "Enabled"}};
  auto r = put_template(emu, t, "auto", kAibNew);
  REQUIRE(r.status == 201);
  CHECK(r.json()["properties"]["lastRunStatus"]["runState"] == "Succeeded");
  CHECK(emu.arm("GET", template_path("auto") + "/runOutputs" + kAibNew).json()["value"].size() == 2);
  const std::string ops = "/subscriptions/" + kSub + "/providers/Microsoft.VirtualMachineImages/locations/westus/operations/";
  CHECK(emu.arm("GET", ops + "zz.1.run" + kAib).status == 404);
  CHECK(emu.arm("GET", ops + "not-an-operation" + kAib).status == 404);
}

TEST_CASE("a run survives a restart mid-build and goes on from where the clock left it", "[imagebuilder][persistence]") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("acg-aib-restart-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto options = [&] {
    return test_options([&](acg::api::AppOptions& o) {
      o.in_memory = false;
      o.data_dir = dir.string();
      o.virtual_clock = true;
      o.replication_speed = 1;
    });
  };
  {
    TestEmulator emu(options());
    setup(emu);
    REQUIRE(put_template(emu, linux_template()).status == 201);
    REQUIRE(emu.arm("POST", template_path() + "/run" + kAib).status == 202);
    advance(emu, 400);
    CHECK(last_run(emu)["runSubState"] == "Customizing");
  }
  TestEmulator emu(options());
  CHECK(last_run(emu)["runSubState"] == "Customizing");
  advance(emu, 100);
  CHECK(last_run(emu)["runSubState"] == "Distributing");
  advance(emu, 3600);
  CHECK(last_run(emu)["runState"] == "Succeeded");
  fs::remove_all(dir);
}

TEST_CASE("with an operation delay, template PUT and DELETE are long-running", "[imagebuilder][lro]") {
  TestEmulator emu(test_options([](acg::api::AppOptions& o) { o.operation_delay_ms = 1500; }));
  setup(emu);
  auto r = put_template(emu, linux_template());
  REQUIRE(r.status == 201);
  CHECK_FALSE(r.header("Azure-AsyncOperation").empty());
  CHECK(r.json()["properties"]["provisioningState"] == "Creating");
  auto done = poll_until_done(emu.http(), r.header("Azure-AsyncOperation"), emu.token());
  CHECK(done.json()["status"] == "Succeeded");
  auto d = emu.arm("DELETE", template_path() + kAib);
  CHECK(d.status == 202);
  CHECK_FALSE(d.header("Location").empty());
}

TEST_CASE("a run nobody polls still distributes: the server's tick advances it", "[imagebuilder]") {
  TestEmulator emu(virtual_time());
  setup(emu);
  REQUIRE(put_template(emu, linux_template()).status == 201);
  REQUIRE(emu.arm("POST", template_path() + "/run" + kAib).status == 202);
  // Past queue, build and customization on the clock; then only the managed image is read
  // (never the template, its outputs or its operation) until the tick has had its chance.
  advance(emu, 60 + 300 + 120);
  const std::string image = managed_image_id() + "?api-version=2022-08-01";
  int status = 0;
  for (int i = 0; i < 60 && status != 200; ++i) {  // the sweep runs once a second
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = emu.arm("GET", image).status;
  }
  CHECK(status == 200);
  CHECK(last_run(emu)["runSubState"] == "Distributing");
}
