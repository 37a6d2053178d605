// Clouds and their regions (issue "Governance", clouds and regions): --cloud selects the
// region catalog and the metadata document's name; a sovereign cloud refuses the regions of
// the others for galleries and replication targets, with ARM's message listing the regions it
// has; regions without gallery support refuse them too; the config file can replace the
// catalog.

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kV = "?api-version=2022-03-03";
const std::string kGroupApi = "?api-version=2021-04-01";

std::string rg_resource(const std::string& type, const std::string& name) {
  return TestEmulator::group_path("rg") + "/providers/" + type + "/" + name;
}

std::string message_of(const ClientResponse& r) { return r.json()["error"]["message"].get<std::string>(); }

// A definition and a snapshot source in `region`, in a gallery there.
std::string publishable(TestEmulator& emu, const std::string& region) {
  const json at = {{"location", region}};
  REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + kGroupApi, at.dump()).status == 201);
  REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + kV, at.dump()).status == 201);
  json image = {{"location", region},
                {"properties",
                 {{"osType", "Linux"}, {"osState", "Generalized"}, {"identifier", {{"publisher", "p"}, {"offer", "o"}, {"sku", "s"}}}}}};
  REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + "/images/img" + kV, image.dump()).status == 201);
  json snapshot = {{"location", region},
                   {"properties", {{"osType", "Linux"}, {"creationData", {{"createOption", "Empty"}}}, {"diskSizeGB", 30}}}};
  auto snap = emu.arm("PUT", rg_resource("Microsoft.Compute/snapshots", "os") + "?api-version=2022-03-02", snapshot.dump());
  REQUIRE(snap.status == 200);
  return snap.json()["id"];
}

json version_to(const std::string& source, const std::string& home, const std::vector<std::string>& regions) {
  json targets = json::array();
  for (const auto& r : regions) targets.push_back({{"name", r}});
  return {{"location", home},
          {"properties",
           {{"storageProfile", {{"osDiskImage", {{"source", {{"id", source}}}}}}},
            {"publishingProfile", {{"targetRegions", targets}}}}}};
}

}  // namespace

TEST_CASE("a sovereign cloud offers its own regions and refuses the others'", "[cloud]") {
  TestEmulator emu(test_options([](acg::api::AppOptions& o) { o.cloud = "AzureUSGovernment"; }));

  auto metadata = emu.http().request("GET", "/metadata/endpoints?api-version=2022-09-01");
  REQUIRE(metadata.status == 200);
  // The cloud keeps the emulator's name (az's profile points at "AzEmu"); its host names are the
  // emulated cloud's.
  CHECK(metadata.json()["suffixes"]["storage"] == "core.usgovcloudapi.net");
  CHECK(metadata.json()["suffixes"]["keyVaultDns"] == "vault.usgovcloudapi.net");

  REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + kGroupApi, R"({"location":"usgovvirginia"})").status == 201);
  auto public_region = emu.arm("PUT", TestEmulator::gallery_path("rg", "pub") + kV, R"({"location":"westus2"})");
  CHECK(public_region.status == 400);
  CHECK(public_region.error_code() == "LocationNotAvailableForResourceType");
  CHECK(message_of(public_region).find("List of available regions for the resource type is") != std::string::npos);
  CHECK(message_of(public_region).find("usgovvirginia") != std::string::npos);
  CHECK(message_of(public_region).find("westus2,") == std::string::npos);

  CHECK(emu.arm("DELETE", TestEmulator::group_path("rg") + kGroupApi).status / 100 == 2);
  const std::string source = publishable(emu, "usgovvirginia");
  const std::string version = TestEmulator::gallery_path("rg", "gal") + "/images/img/versions/1.0.0" + kV;
  auto to_public = emu.arm("PUT", version, version_to(source, "usgovvirginia", {"usgovvirginia", "eastus"}).dump());
  CHECK(to_public.status == 400);
  CHECK(to_public.error_code() == "LocationNotAvailableForResourceType");
  CHECK(message_of(to_public).find("'eastus'") != std::string::npos);

  auto within = emu.arm("PUT", version, version_to(source, "usgovvirginia", {"usgovvirginia", "usgovtexas"}).dump());
  CHECK(within.status / 100 == 2);
}

TEST_CASE("the public cloud's metadata keeps Azure's host names", "[cloud]") {
  TestEmulator emu;
  auto metadata = emu.http().request("GET", "/metadata/endpoints?api-version=2022-09-01");
  CHECK(metadata.json()["suffixes"]["storage"] == "core.windows.net");
}

TEST_CASE("a public region without gallery support refuses galleries and replicas", "[cloud]") {
  TestEmulator emu;
  REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + kGroupApi, R"({"location":"germanynorth"})").status == 201);
  auto gallery = emu.arm("PUT", TestEmulator::gallery_path("rg", "g") + kV, R"({"location":"germanynorth"})");
  CHECK(gallery.status == 400);
  CHECK(gallery.error_code() == "LocationNotAvailableForResourceType");
  CHECK(message_of(gallery).find("germanywestcentral") != std::string::npos);
  CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "g") + kV, R"({"location":"germanywestcentral"})").status == 201);
}

TEST_CASE("the config file's regionCatalog replaces the built-in catalog", "[cloud]") {
  const std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/acg-cloud-test.json";
  std::ofstream(path) << R"({"regionCatalog": {"clouds": {"AzureCloud": [
      {"name": "westus", "displayName": "West US", "latitude": 37.78, "longitude": -122.42},
      {"name": "moonbase", "displayName": "Moon Base", "latitude": 0.67, "longitude": 23.47},
      {"name": "closedregion", "displayName": "Closed Region", "latitude": 1, "longitude": 1, "supportsGalleries": false}]}}})";
  TestEmulator emu(test_options([&](acg::api::AppOptions& o) { o.config_file = path; }));
  REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + kGroupApi, R"({"location":"moonbase"})").status == 201);
  CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "moon") + kV, R"({"location":"Moon Base"})").status == 201);
  auto closed = emu.arm("PUT", TestEmulator::gallery_path("rg", "closed") + kV, R"({"location":"closedregion"})");
  CHECK(closed.error_code() == "LocationNotAvailableForResourceType");
  CHECK(message_of(closed).find("'westus,moonbase'") != std::string::npos);
  auto gone = emu.arm("PUT", TestEmulator::gallery_path("rg", "east") + kV, R"({"location":"eastus"})");
  CHECK(gone.error_code() == "LocationNotAvailableForResourceType");

  std::ofstream(path) << R"({"regionCatalog": {"clouds": {"AzureCloud": [{"name": "nowhere", "displayName": "Nowhere"}]}}})";
  auto refused = acg::api::App::start(test_options([&](acg::api::AppOptions& o) { o.config_file = path; }));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("latitude") != std::string::npos);
}
