// Subscription quotas over HTTPS: galleries, image definitions and versions per subscription per
// region, their overrides (config file, admin API) and the usages list that reports them.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kV = "?api-version=2022-03-03";
const std::string kUsagesApi = "?api-version=2022-11-01";
const std::string kOtherSub = "44444444-4444-4444-4444-444444444444";

acg::api::AppOptions instant(const std::function<void(acg::api::AppOptions&)>& more = {}) {
  return test_options([&](acg::api::AppOptions& o) {
    o.replication_speed = 0;  // versions are replicated inside their PUT
    if (more) more(o);
  });
}

std::string usages_path(const std::string& location, const std::string& sub = kSub) {
  return "/subscriptions/" + sub + "/providers/Microsoft.Compute/locations/" + location + "/usages" + kUsagesApi;
}

struct Quotas {
  TestEmulator emu;
  explicit Quotas(acg::api::AppOptions options = instant()) : emu(std::move(options)) {
    group("rg", "westus");
  }

  void group(const std::string& rg, const std::string& location) {
    REQUIRE(emu.arm("PUT", TestEmulator::group_path(rg) + "?api-version=2021-04-01", R"({"location":")" + location + R"("})")
                .status == 201);
  }
  ClientResponse gallery(const std::string& name, const std::string& location = "westus", const std::string& rg = "rg") {
    return emu.arm("PUT", TestEmulator::gallery_path(rg, name) + kV, R"({"location":")" + location + R"("})");
  }
  ClientResponse definition(const std::string& gallery, const std::string& name) {
    json body = {{"location", "westus"},
                 {"properties",
                  {{"osType", "Linux"}, {"osState", "Generalized"},
                   {"identifier", {{"publisher", "p"}, {"offer", "o"}, {"sku", name}}}}}};
    return emu.arm("PUT", TestEmulator::gallery_path("rg", gallery) + "/images/" + name + kV, body.dump());
  }
  std::string snapshot() {
    auto r = emu.arm("PUT", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/snapshots/os?api-version=2022-03-02",
                     R"({"location":"westus","properties":{"osType":"Linux","creationData":{"createOption":"Empty"},"diskSizeGB":30}})");
    REQUIRE((r.status == 200 || r.status == 201));
    return r.json()["id"];
  }
  ClientResponse version(const std::string& gallery, const std::string& d, const std::string& v, const std::string& snapshot_id) {
    json body = {{"location", "westus"},
                 {"properties", {{"storageProfile", {{"osDiskImage", {{"source", {{"id", snapshot_id}}}}}}}}}};
    return emu.arm("PUT", TestEmulator::gallery_path("rg", gallery) + "/images/" + d + "/versions/" + v + kV, body.dump());
  }
  ClientResponse set_quota(const std::string& body, const std::string& sub = kSub) {
    return emu.http().request("PUT", "/_emulator/quotas/" + sub, body);
  }
  // The usages list as {name: {currentValue, limit}}.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> usages(const std::string& location) {
    auto r = emu.arm("GET", usages_path(location));
    INFO(r.body);
    REQUIRE(r.status == 200);
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> out;
    const json body = r.json();  // bound first: a range-for over a member of a temporary is UB
    for (const json& u : body["value"]) {
      CHECK(u["unit"] == "Count");
      out[u["name"]["value"].get<std::string>()] = {u["currentValue"].get<std::int64_t>(), u["limit"].get<std::int64_t>()};
    }
    return out;
  }
};

void check_quota_error(const ClientResponse& r, const std::string& quota, const std::string& location, int limit, int usage) {
  INFO(r.body);
  CHECK(r.status == 409);
  CHECK(r.error_code() == "OperationNotAllowed");
  const std::string message = r.json()["error"]["message"];
  CHECK(message.find("exceeding approved " + quota + " quota") != std::string::npos);
  CHECK(message.find("Location: " + location) != std::string::npos);
  CHECK(message.find("Current Limit: " + std::to_string(limit)) != std::string::npos);
  CHECK(message.find("Current Usage: " + std::to_string(usage)) != std::string::npos);
  CHECK(message.find("Additional Required: 1") != std::string::npos);
}

}  // namespace

TEST_CASE("the documented default: the 101st gallery of a region is refused", "[quota]") {
  Quotas q;
  for (int i = 1; i <= 100; ++i) REQUIRE(q.gallery("g" + std::to_string(i)).status == 201);
  check_quota_error(q.gallery("g101"), "Galleries", "westus", 100, 100);
  CHECK(q.emu.arm("GET", TestEmulator::gallery_path("rg", "g101") + kV).status == 404);  // nothing written

  // Per region: another region still has its own 100.
  q.group("east", "eastus");
  CHECK(q.gallery("e1", "eastus", "east").status == 201);
  // A re-PUT of an existing gallery is not a new one.
  CHECK(q.gallery("g100").status == 200);
  auto usage = q.usages("westus");
  CHECK(usage["galleries"] == std::pair<std::int64_t, std::int64_t>{100, 100});
  CHECK(usage["imageDefinitions"] == std::pair<std::int64_t, std::int64_t>{0, 1000});
  CHECK(usage["imageVersions"] == std::pair<std::int64_t, std::int64_t>{0, 10000});
  CHECK(q.usages("EastUS")["galleries"].first == 1);  // any casing of the region

  // Deleting one makes room again.
  REQUIRE(q.emu.arm("DELETE", TestEmulator::gallery_path("rg", "g1") + kV).status / 100 == 2);
  CHECK(q.gallery("g101").status == 201);
}

TEST_CASE("an admin override lowers and raises a limit, per subscription, and persists", "[quota]") {
  Quotas q;
  auto set = q.set_quota(R"({"galleries": 2})");
  INFO(set.body);
  REQUIRE(set.status == 200);
  CHECK(set.json()["limits"]["galleries"] == 2);
  CHECK(set.json()["sources"]["galleries"] == "adminApi");
  CHECK(set.json()["sources"]["imageVersions"] == "documented");
  REQUIRE(q.gallery("a").status == 201);
  REQUIRE(q.gallery("b").status == 201);
  check_quota_error(q.gallery("c"), "Galleries", "westus", 2, 2);
  CHECK(q.usages("westus")["galleries"] == std::pair<std::int64_t, std::int64_t>{2, 2});

  // Raised: allowed again. The admin view reports the usage per region.
  REQUIRE(q.set_quota(R"({"galleries": 3})").status == 200);
  CHECK(q.gallery("c").status == 201);
  auto view = q.emu.http().request("GET", "/_emulator/quotas/" + kSub);
  REQUIRE(view.status == 200);
  CHECK(view.json()["usage"] == json::array({{{"location", "westus"}, {"galleries", 3}, {"imageDefinitions", 0},
                                              {"imageVersions", 0}}}));
  // null removes one override; DELETE removes them all.
  CHECK(q.set_quota(R"({"galleries": null, "imageVersions": 7})").json()["limits"]["galleries"] == 100);
  auto cleared = q.emu.http().request("DELETE", "/_emulator/quotas/" + kSub);
  CHECK(cleared.json()["limits"]["imageVersions"] == 10000);
  CHECK(cleared.json()["overrides"] == json::object());

  // Refused: unknown quota, negative or non-integer limits, unknown subscription.
  auto unknown = q.set_quota(R"({"cores": 5})");
  CHECK(unknown.status == 400);
  CHECK(unknown.error_code() == "InvalidRequestContent");
  CHECK(q.set_quota(R"({"galleries": -1})").status == 400);
  CHECK(q.set_quota(R"({"galleries": "5"})").status == 400);
  CHECK(q.set_quota(R"([1])").status == 400);
  auto nobody = q.set_quota(R"({"galleries": 5})", kOtherSub);
  CHECK(nobody.status == 404);
  CHECK(nobody.error_code() == "SubscriptionNotFound");

  // A reset clears run-time overrides.
  REQUIRE(q.set_quota(R"({"galleries": 1})").status == 200);
  REQUIRE(q.emu.http().request("POST", "/_emulator/reset").status == 200);
  CHECK(q.emu.http().request("GET", "/_emulator/quotas/" + kSub).json()["limits"]["galleries"] == 100);
}

TEST_CASE("admin overrides survive a restart", "[quota]") {
  fs::path dir = fs::temp_directory_path() / ("acg-quota-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto on_disk = [&] {
    return instant([&](acg::api::AppOptions& o) {
      o.in_memory = false;
      o.data_dir = dir.string();
    });
  };
  {
    TestEmulator emu(on_disk());
    REQUIRE(emu.http().request("PUT", "/_emulator/quotas/" + kSub, R"({"imageDefinitions": 3})").status == 200);
  }
  TestEmulator again(on_disk());
  auto view = again.http().request("GET", "/_emulator/quotas/" + kSub);
  CHECK(view.json()["limits"]["imageDefinitions"] == 3);
  CHECK(view.json()["sources"]["imageDefinitions"] == "adminApi");
  fs::remove_all(dir);
}

TEST_CASE("image definition and version quotas count per subscription and region", "[quota]") {
  Quotas q;
  REQUIRE(q.set_quota(R"({"imageDefinitions": 2, "imageVersions": 2})").status == 200);
  REQUIRE(q.gallery("gal").status == 201);
  REQUIRE(q.definition("gal", "one").status == 201);
  REQUIRE(q.definition("gal", "two").status == 201);
  check_quota_error(q.definition("gal", "three"), "Gallery Image Definitions", "westus", 2, 2);
  CHECK(q.definition("gal", "two").status == 200);  // an update is not a new one

  const std::string snapshot = q.snapshot();
  REQUIRE(q.version("gal", "one", "1.0.0", snapshot).status == 201);
  REQUIRE(q.version("gal", "two", "1.0.0", snapshot).status == 201);  // counted across definitions
  check_quota_error(q.version("gal", "one", "2.0.0", snapshot), "Gallery Image Versions", "westus", 2, 2);
  auto usage = q.usages("westus");
  CHECK(usage["imageDefinitions"] == std::pair<std::int64_t, std::int64_t>{2, 2});
  CHECK(usage["imageVersions"] == std::pair<std::int64_t, std::int64_t>{2, 2});
}

TEST_CASE("a soft-deleted version counts until it is purged; its restore is never refused", "[quota]") {
  Quotas q;
  REQUIRE(q.set_quota(R"({"imageVersions": 1})").status == 200);
  REQUIRE(q.emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + kV,
                    R"({"location":"westus","properties":{"softDeletePolicy":{"isSoftDeleteEnabled":true}}})")
              .status == 201);
  REQUIRE(q.definition("gal", "d").status == 201);
  const std::string snapshot = q.snapshot();
  REQUIRE(q.version("gal", "d", "1.0.0", snapshot).status == 201);
  const std::string v1 = TestEmulator::gallery_path("rg", "gal") + "/images/d/versions/1.0.0";
  REQUIRE(q.emu.arm("DELETE", v1 + kV).status / 100 == 2);
  check_quota_error(q.version("gal", "d", "2.0.0", snapshot), "Gallery Image Versions", "westus", 1, 1);
  auto restored = q.emu.arm("PATCH", v1 + "?api-version=2025-03-03", R"({"properties":{"restore":true,"storageProfile":{}}})");
  INFO(restored.body);
  CHECK(restored.status == 200);

  // Purged 7 days after its deletion: the place is free.
  REQUIRE(q.emu.arm("DELETE", v1 + kV).status / 100 == 2);
  REQUIRE(q.emu.http().request("POST", "/_emulator/clock/advance", R"({"seconds": 700000})").status == 200);
  CHECK(q.version("gal", "d", "2.0.0", snapshot).status == 201);
}

TEST_CASE("config file quotas: a default and a subscription's own, the admin API above both", "[quota]") {
  const fs::path config = fs::temp_directory_path() / ("acg-quota-config-" + std::to_string(::getpid()) + ".json");
  std::ofstream(config) << R"({"quotas": {"default": {"galleries": 3}, ")" + kSub + R"(": {"galleries": 1}}})";
  Quotas q(instant([&](acg::api::AppOptions& o) { o.config_file = config.string(); }));
  auto view = q.emu.http().request("GET", "/_emulator/quotas/" + kSub);
  CHECK(view.json()["limits"]["galleries"] == 1);
  CHECK(view.json()["sources"]["galleries"] == "config");
  REQUIRE(q.gallery("a").status == 201);
  check_quota_error(q.gallery("b"), "Galleries", "westus", 1, 1);
  REQUIRE(q.set_quota(R"({"galleries": 2})").status == 200);
  CHECK(q.gallery("b").status == 201);
  // After a reset the config file's limit is back.
  REQUIRE(q.emu.http().request("POST", "/_emulator/reset").status == 200);
  CHECK(q.emu.http().request("GET", "/_emulator/quotas/" + kSub).json()["limits"]["galleries"] == 1);

  std::ofstream(config) << R"({"quotas": {"default": {"galaxies": 3}}})";
  auto refused = acg::api::App::start(instant([&](acg::api::AppOptions& o) { o.config_file = config.string(); }));
  REQUIRE(!refused);
  CHECK(refused.error().code == "InvalidConfiguration");
  CHECK(refused.error().message.find("galaxies") != std::string::npos);
  fs::remove(config);
}

TEST_CASE("the usages list: a known region of the catalog, the caller's subscription", "[quota]") {
  Quotas q;
  auto unknown = q.emu.arm("GET", usages_path("atlantis"));
  CHECK(unknown.status == 400);
  CHECK(unknown.error_code() == "LocationNotAvailableForResourceType");
  auto no_version = q.emu.arm("GET", "/subscriptions/" + kSub + "/providers/Microsoft.Compute/locations/westus/usages");
  CHECK(no_version.status == 400);
  CHECK(no_version.error_code() == "MissingApiVersionParameter");
  auto items = q.emu.arm("GET", usages_path("westus")).json()["value"];
  REQUIRE(items.size() == 3);
  CHECK(items[0]["name"] == json{{"value", "galleries"}, {"localizedValue", "Galleries"}});
}
