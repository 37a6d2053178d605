// Seed files and snapshots (README "Seeding and snapshots"): a round trip through
// GET /_emulator/snapshot and POST /_emulator/seed, refusals naming the entry, replication
// complete or as written, --seed at start in-process and through the real binary.

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kLab = std::string(ACG_SEEDS_DIR) + "/lab.json";
const std::string kGalleryApi = "?api-version=2022-03-03";
const std::string kLabVersion =
    TestEmulator::gallery_path("lab", "LabGallery") + "/images/ubuntu/versions/1.0.0" + kGalleryApi;

json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

json snapshot_of(TestEmulator& emu) {
  auto r = emu.http().request("GET", "/_emulator/snapshot");
  REQUIRE(r.status == 200);
  return r.json();
}

ClientResponse seed(TestEmulator& emu, const json& document) {
  return emu.http().request("POST", "/_emulator/seed", document.dump(), {{"Content-Type", "application/json"}});
}

std::string group_id(const std::string& rg) { return TestEmulator::group_path(rg); }

}  // namespace

TEST_CASE("a snapshot seeds an emulator back to the same state", "[seed]") {
  TestEmulator emu;
  const std::string rg = TestEmulator::group_path("rg");
  const std::string gallery = TestEmulator::gallery_path("rg", "g");
  const std::string snapshot = rg + "/providers/Microsoft.Compute/snapshots/os";
  REQUIRE(emu.arm("PUT", rg + "?api-version=2021-04-01", R"({"location":"westus","tags":{"team":"images"}})").status == 201);
  REQUIRE(emu.arm("PUT", gallery + kGalleryApi, R"({"location":"westus","properties":{"description":"golden"}})").status == 201);
  for (const char* d : {"d1", "d2"})
    REQUIRE(emu.arm("PUT", gallery + "/images/" + d + kGalleryApi,
                    json{{"location", "westus"},
                         {"properties",
                          {{"osType", "Linux"},
                           {"osState", "Generalized"},
                           {"identifier", {{"publisher", "p"}, {"offer", "o"}, {"sku", std::string("s-") + d}}}}}}
                        .dump())
                .status == 201);
  REQUIRE(emu.arm("PUT", snapshot + "?api-version=2022-03-02",
                  R"({"location":"westus","properties":{"osType":"Linux","creationData":{"createOption":"Empty"},"diskSizeGB":30}})")
              .status == 200);
  json version = {{"location", "westus"},
                  {"tags", {{"build", "42"}}},
                  {"properties",
                   {{"storageProfile", {{"osDiskImage", {{"source", {{"id", snapshot}}}}}}},
                    {"publishingProfile",
                     {{"targetRegions", {{{"name", "westus"}}, {{"name", "eastus"}, {"regionalReplicaCount", 2}}}}}}}}};
  REQUIRE(emu.arm("PUT", gallery + "/images/d1/versions/1.0.0" + kGalleryApi, version.dump()).status == 201);
  auto added = emu.http().request(
      "POST", "/_emulator/identities",
      R"({"principals":[{"clientId":"66666666-6666-6666-6666-666666666666","objectId":"77777777-7777-7777-7777-777777777777","secret":"s3cret-lab-reader"}]})",
      {{"Content-Type", "application/json"}});
  INFO(added.body);
  REQUIRE(added.status == 201);
  REQUIRE(emu.arm("PUT", gallery + "/providers/Microsoft.Authorization/roleAssignments/0f0e0d0c-0b0a-4908-8706-050403020100?api-version=2022-04-01",
                  R"({"properties":{"roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7","principalId":"77777777-7777-7777-7777-777777777777"}})")
              .status == 201);

  const json before = snapshot_of(emu);
  REQUIRE(before["resources"].size() == 6u);  // group, gallery, two definitions, snapshot, version
  CHECK(before["resources"][0]["id"] == rg);
  CHECK(before["resources"][5]["id"] == gallery + "/images/d1/versions/1.0.0");
  CHECK_FALSE(before["resources"][5]["body"]["properties"].contains("provisioningState"));
  CHECK_FALSE(before["resources"][5]["body"]["properties"]["publishingProfile"].contains("publishedDate"));
  REQUIRE(before["roleAssignments"].size() == 1u);  // the built-in Owner assignment is not exported
  CHECK(before["roleAssignments"][0]["name"] == "0f0e0d0c-0b0a-4908-8706-050403020100");
  REQUIRE(before["identities"]["principals"].size() == 1u);
  CHECK(before["identities"]["principals"][0]["secret"] == "s3cret-lab-reader");
  CHECK_FALSE(before.contains("notExported"));

  REQUIRE(emu.http().request("POST", "/_emulator/reset").status == 200);
  CHECK(emu.arm("GET", rg + "?api-version=2021-04-01").status == 404);
  auto loaded = seed(emu, before);
  INFO(loaded.body);
  REQUIRE(loaded.status == 200);
  CHECK(loaded.json()["resources"] == 6);
  CHECK(loaded.json()["roleAssignments"] == 1);
  CHECK(loaded.json()["identities"]["principals"] == 0);  // already known: kept

  const json after = snapshot_of(emu);
  CHECK(after.dump(2) == before.dump(2));
  // The seeded principal reads the gallery through its assignment.
  auto reader = emu.token("66666666-6666-6666-6666-666666666666", "s3cret-lab-reader");
  auto got = emu.http().request("GET", gallery + kGalleryApi, {}, {{"Authorization", "Bearer " + reader}});
  CHECK(got.status == 200);
}

TEST_CASE("an invalid seed entry fails with the resource's own error, naming the entry", "[seed]") {
  TestEmulator emu;
  json lab = read_json(kLab);
  json& resources = lab["resources"];

  SECTION("a version name that is not Major.Minor.Patch") {
    std::string id = resources[4]["id"];
    id.replace(id.rfind("1.0.0"), 5, "1.0");
    resources[4]["id"] = id;
    auto r = seed(emu, lab);
    REQUIRE(r.status == 400);
    const json error = r.json()["error"];
    CHECK(error["code"] == "InvalidSeed");
    CHECK(error["message"].get<std::string>().rfind("resources[4] (" + id + "): ", 0) == 0);
    REQUIRE(error["details"].size() == 1u);
    CHECK(error["details"][0]["code"] == "InvalidParameter");
    CHECK(error["message"].get<std::string>().find(error["details"][0]["message"].get<std::string>()) != std::string::npos);
    // What came before stays: the definition exists.
    CHECK(emu.arm("GET", TestEmulator::gallery_path("lab", "LabGallery") + "/images/ubuntu" + kGalleryApi).status == 200);
  }
  SECTION("a definition under a gallery that does not exist") {
    resources.erase(2);  // the gallery
    auto r = seed(emu, lab);
    REQUIRE(r.status == 400);
    const json error = r.json()["error"];
    CHECK(error["code"] == "InvalidSeed");
    CHECK(error["message"].get<std::string>().rfind("resources[2] (" + resources[2]["id"].get<std::string>() + "): ", 0) == 0);
    REQUIRE(error["details"].size() == 1u);
    CHECK(error["details"][0]["code"] == "ParentResourceNotFound");
  }
  SECTION("a malformed document") {
    CHECK(seed(emu, json{{"resource", json::array()}}).json()["error"]["code"] == "InvalidSeed");
    CHECK(seed(emu, json{{"replication", "later"}}).status == 400);
    CHECK(seed(emu, json{{"resources", json::array({json{{"id", "/nowhere"}}})}}).json()["error"]["target"] == "resources[0].id");
  }
}

TEST_CASE("replication is completed by default, or left running with \"asWritten\"", "[seed]") {
  TestEmulator emu(test_options([&](acg::api::AppOptions& o) {
    o.virtual_clock = true;
    o.replication_speed = 1;  // realistic minutes: nothing finishes unless the clock moves
  }));
  json lab = read_json(kLab);

  SECTION("default: complete") {
    auto r = seed(emu, lab);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.json()["replication"] == "complete");
    auto v = emu.arm("GET", kLabVersion + "&$expand=ReplicationStatus");
    REQUIRE(v.status == 200);
    CHECK(v.json()["properties"]["provisioningState"] == "Succeeded");
    CHECK(v.json()["properties"]["replicationStatus"]["aggregatedState"] == "Completed");
    CHECK(emu.http().request("GET", "/_emulator/replications").json()["count"] == 0);
  }
  SECTION("asWritten") {
    lab["replication"] = "asWritten";
    auto r = seed(emu, lab);
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto v = emu.arm("GET", kLabVersion);
    REQUIRE(v.status == 200);
    CHECK(v.json()["properties"]["provisioningState"] == "Creating");
    CHECK(emu.http().request("GET", "/_emulator/replications").json()["count"] == 2);
    REQUIRE(emu.http().request("POST", "/_emulator/clock/advance?seconds=7200").status == 200);
    CHECK(emu.arm("GET", kLabVersion).json()["properties"]["provisioningState"] == "Succeeded");
  }
}

TEST_CASE("--seed FILE loads a seed at start; an invalid one stops the start", "[seed]") {
  SECTION("in-process: the lab seed") {
    TestEmulator emu(test_options([](acg::api::AppOptions& o) { o.seed_file = kLab; }));
    auto v = emu.arm("GET", kLabVersion);
    REQUIRE(v.status == 200);
    CHECK(v.json()["properties"]["provisioningState"] == "Succeeded");
    auto reader = emu.token("44444444-4444-4444-4444-444444444444", "lab-reader-secret");
    CHECK(emu.http().request("GET", kLabVersion, {}, {{"Authorization", "Bearer " + reader}}).status == 200);
    CHECK(emu.http().request("GET", group_id("lab") + "?api-version=2021-04-01", {},
                             {{"Authorization", "Bearer " + reader}}).status == 403);
  }

  const fs::path bad = fs::temp_directory_path() / ("acg-bad-seed-" + std::to_string(::getpid()) + ".json");
  {
    json lab = read_json(kLab);
    lab["resources"].erase(2);  // the gallery: the definition's parent is missing
    std::ofstream(bad) << lab.dump(2);
  }
  SECTION("in-process: App::start refuses") {
    acg::api::AppOptions options = test_options([&](acg::api::AppOptions& o) { o.seed_file = bad.string(); });
    auto app = acg::api::App::start(options);
    REQUIRE_FALSE(app);
    CHECK(app.error().message.find("resources[2]") != std::string::npos);
  }
  SECTION("the real binary exits non-zero with the error on stderr") {
    const std::string cmd = std::string(ACG_EMULATOR_BINARY) + " --in-memory --port 0 --seed " + bad.string() +
                            " 2>&1 >/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string err;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) err += buf;
    const int status = ::pclose(p);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) != 0);
    CHECK(err.find("seed file '" + bad.string() + "'") != std::string::npos);
    CHECK(err.find("resources[2] (" + TestEmulator::gallery_path("lab", "LabGallery") + "/images/ubuntu)") !=
          std::string::npos);
  }
  fs::remove(bad);
}
