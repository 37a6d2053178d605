// Storage cost and retention over HTTPS: the admin cost route (GET /_emulator/cost), the
// price overrides, the subscription-wide VM list, and `acg-emulator retention` / `cost`
// (api/cli_tools.h) run in-process against the emulator through the ARM API.

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/cli_tools.h"
#include "api/http_message.h"
#include "emulator/clock.h"
#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kV = "?api-version=2024-03-03";
const std::string kVmApi = "?api-version=2022-08-01";

std::string rg_resource(const std::string& type, const std::string& name) {
  return TestEmulator::group_path("rg") + "/providers/" + type + "/" + name;
}
std::string gallery_id() { return TestEmulator::gallery_path("rg", "gal"); }
std::string definition_path(const std::string& d) { return gallery_id() + "/images/" + d; }
std::string version_path(const std::string& d, const std::string& v) { return definition_path(d) + "/versions/" + v; }

std::string temp_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("acg-cost-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path) << text;
  return path.string();
}

// A gallery "gal" with definition "linux" in westus, and a 30 GiB OS snapshot to publish from.
// Each version is replicated to westus (2 replicas, Standard_LRS) and eastus (1, Standard_ZRS):
// with the built-in prices 30 x 2 x 0.055 + 30 x 1 x 0.0625 = 5.175 USD a month.
struct Costing {
  static constexpr double kVersionMonthly = 30 * 2 * 0.05 * 1.1 + 30 * 0.0625;
  TestEmulator emu;
  std::string snapshot_id, ca_file;

  explicit Costing(acg::api::AppOptions options = test_options()) : emu(std::move(options)) {
    REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
    REQUIRE(emu.arm("PUT", gallery_id() + kV, R"({"location":"westus"})").status == 201);
    json definition = {{"location", "westus"},
                       {"properties",
                        {{"osType", "Linux"}, {"osState", "Generalized"}, {"hyperVGeneration", "V1"},
                         {"identifier", {{"publisher", "p"}, {"offer", "o"}, {"sku", "linux"}}}}}};
    REQUIRE(emu.arm("PUT", definition_path("linux") + kV, definition.dump()).status == 201);
    auto snapshot = emu.arm("PUT", rg_resource("Microsoft.Compute/snapshots", "os") + "?api-version=2022-03-02",
                            R"({"location":"westus","properties":{"osType":"Linux","creationData":{"createOption":"Empty"},"diskSizeGB":30}})");
    REQUIRE(snapshot.status / 100 == 2);
    snapshot_id = snapshot.json()["id"];
    ca_file = temp_file("ca.pem", emu.app().ca_certificate_pem());
  }
  ~Costing() { std::filesystem::remove(ca_file); }

  void publish(const std::string& v, json profile = json::object(), json safety = json::object()) {
    json base = {{"targetRegions",
                  {{{"name", "westus"}, {"regionalReplicaCount", 2}},
                   {{"name", "eastus"}, {"storageAccountType", "Standard_ZRS"}}}}};
    base.update(profile);
    json body = {{"location", "westus"},
                 {"properties", {{"storageProfile", {{"osDiskImage", {{"source", {{"id", snapshot_id}}}}}}},
                                 {"publishingProfile", base}}}};
    if (!safety.empty()) body["properties"]["safetyProfile"] = safety;
    auto r = emu.arm("PUT", version_path("linux", v) + kV, body.dump());
    INFO(r.body);
    REQUIRE(r.status == 201);
  }

  // A VM "name" deployed from the image `image_id` names (a version or a definition).
  void deploy_vm(const std::string& name, const std::string& image_id) {
    json vm = {{"location", "westus"},
               {"properties",
                {{"hardwareProfile", {{"vmSize", "Standard_D2s_v3"}}},
                 {"osProfile", {{"computerName", "vm"}, {"adminUsername", "azureuser"}}},
                 {"storageProfile", {{"imageReference", {{"id", image_id}}}}}}}};
    auto r = emu.arm("PUT", rg_resource("Microsoft.Compute/virtualMachines", name) + kVmApi, vm.dump());
    INFO(r.body);
    REQUIRE(r.status == 201);
  }

  ClientResponse cost(const std::string& query) { return emu.http().request("GET", "/_emulator/cost?" + query); }

  std::vector<std::string> version_names() {
    std::vector<std::string> names;
    const json listed = emu.arm("GET", definition_path("linux") + "/versions" + kV).json();  // bound: not a temporary's member
    for (const json& v : listed["value"]) names.push_back(v["name"]);
    std::sort(names.begin(), names.end());
    return names;
  }

  // Runs `acg-emulator <args...>` in-process against this emulator.
  struct Run {
    int status;
    std::string out, err;
  };
  Run tool(std::vector<std::string> args) {
    args.insert(args.end(), {"--endpoint", emu.app().base_url(), "--ca", ca_file, "--poll-interval-ms", "10"});
    std::ostringstream out, err;
    const int status = acg::api::run_tool(args, out, err);
    return {status, out.str(), err.str()};
  }
};

std::string scope_query(const std::string& id) { return "scope=" + acg::api::percent_encode(id); }

}  // namespace

TEST_CASE("the admin cost route prices every version: size x replicas x price per region", "[cost]") {
  Costing c;
  c.publish("1.0.0");
  c.publish("2.0.0");
  for (const std::string& scope : {"/subscriptions/" + kSub, TestEmulator::group_path("rg"), gallery_id(), definition_path("linux")}) {
    auto r = c.cost(scope_query(scope));
    INFO(scope << ": " << r.body);
    REQUIRE(r.status == 200);
    const json j = r.json();
    CHECK(j["currency"] == "USD");
    CHECK(j["versionCount"] == 2);
    CHECK(j["monthlyCost"].get<double>() == Approx(2 * Costing::kVersionMonthly));
  }
  auto one = c.cost(scope_query(version_path("linux", "1.0.0"))).json();
  CHECK(one["monthlyCost"].get<double>() == Approx(Costing::kVersionMonthly));
  const json& version = one["galleries"][0]["definitions"][0]["versions"][0];
  CHECK(version["sizeGiB"].get<double>() == Approx(30));
  REQUIRE(version["regions"].size() == 2);
  CHECK(version["regions"][0]["region"] == "West US");
  CHECK(version["regions"][0]["replicas"] == 2);
  CHECK(version["regions"][0]["pricePerGiBMonth"].get<double>() == Approx(0.055));
  CHECK(version["regions"][1]["storageAccountType"] == "Standard_ZRS");
  CHECK(version["regions"][1]["monthlyCost"].get<double>() == Approx(30 * 0.0625));
}

TEST_CASE("the admin cost route refuses a bad scope (400) and a missing one (404)", "[cost]") {
  Costing c;
  auto missing = c.emu.http().request("GET", "/_emulator/cost");
  CHECK(missing.status == 400);
  CHECK(missing.error_code() == "InvalidScope");
  for (const std::string& bad : {std::string("galleries/gal"), rg_resource("Microsoft.Compute/snapshots", "os")}) {
    auto r = c.cost(scope_query(bad));
    INFO(bad);
    CHECK(r.status == 400);
    CHECK(r.error_code() == "InvalidScope");
  }
  auto gone = c.cost(scope_query(TestEmulator::gallery_path("rg", "nothing")));
  CHECK(gone.status == 404);
  CHECK(gone.error_code() == "ResourceNotFound");
  auto no_sub = c.cost(scope_query("/subscriptions/99999999-9999-9999-9999-999999999999"));
  CHECK(no_sub.status == 404);
  CHECK(no_sub.error_code() == "SubscriptionNotFound");
  auto bad_keep = c.cost(scope_query(gallery_id()) + "&keep=-1");
  CHECK(bad_keep.status == 400);
  CHECK(bad_keep.error_code() == "InvalidQueryParameterValue");
}

TEST_CASE("the admin cost route shows the saving of a retention plan", "[cost][retention]") {
  Costing c;
  for (const char* v : {"1.0.0", "1.1.0", "1.2.0"}) c.publish(v);
  auto r = c.cost(scope_query(gallery_id()) + "&keep=1");
  INFO(r.body);
  REQUIRE(r.status == 200);
  const json plan = r.json()["retention"];
  CHECK(plan["deleteCount"] == 2);
  CHECK(plan["monthlySaving"].get<double>() == Approx(2 * Costing::kVersionMonthly));
  CHECK(plan["versions"][0]["name"] == "1.2.0");
  CHECK(plan["versions"][0]["reason"] == "latest");
  CHECK(c.version_names().size() == 3);  // a plan, nothing deleted
}

TEST_CASE("a soft-deleted version is priced at one replica per region", "[cost][softdelete]") {
  Costing c;
  REQUIRE(c.emu.arm("PATCH", gallery_id() + kV, R"({"properties":{"softDeletePolicy":{"isSoftDeleteEnabled":true}}})").status == 200);
  c.publish("1.0.0");
  c.publish("2.0.0");
  REQUIRE(c.emu.arm("DELETE", version_path("linux", "1.0.0") + kV).status / 100 == 2);
  const json j = c.cost(scope_query(gallery_id())).json();
  CHECK(j["versionCount"] == 2);
  const json& soft = j["galleries"][0]["definitions"][0]["versions"][0];
  CHECK(soft["softDeleted"] == true);
  CHECK(soft["regions"][0]["replicas"] == 1);
  CHECK(j["monthlyCost"].get<double>() == Approx(Costing::kVersionMonthly + 30 * 0.055 + 30 * 0.0625));
}

TEST_CASE("prices come from --prices and the config file; a bad table stops the start", "[cost]") {
  const std::string prices = temp_file("prices.json", R"({"currency":"EUR","storageAccountTypes":{"Standard_LRS":0.1},
                                                          "regionPrices":{"westus":{"Standard_LRS":0.2}}})");
  {
    Costing c(test_options([&](acg::api::AppOptions& o) { o.prices_file = prices; }));
    c.publish("1.0.0");
    const json j = c.cost(scope_query(gallery_id())).json();
    CHECK(j["currency"] == "EUR");
    CHECK(j["monthlyCost"].get<double>() == Approx(30 * 2 * 0.2 + 30 * 0.0625));
    CHECK(c.emu.http().request("GET", "/_emulator/prices").json()["regionPrices"]["westus"]["Standard_LRS"] == 0.2);
  }
  const std::string config = temp_file("config.json", R"({"prices":{"storageAccountTypes":{"Standard_LRS":"free"}}})");
  auto refused = acg::api::App::start(test_options([&](acg::api::AppOptions& o) { o.config_file = config; }));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == "InvalidConfiguration");
  CHECK(refused.error().target == "prices.storageAccountTypes.Standard_LRS");
  std::filesystem::remove(prices);
  std::filesystem::remove(config);
}

TEST_CASE("VMs are listed by subscription (what retention reads), with a token only", "[cost][vm]") {
  Costing c;
  c.publish("1.0.0");
  c.deploy_vm("web", version_path("linux", "1.0.0"));
  const std::string list = "/subscriptions/" + kSub + "/providers/Microsoft.Compute/virtualMachines" + kVmApi;
  auto r = c.emu.arm("GET", list);
  REQUIRE(r.status == 200);
  REQUIRE(r.json()["value"].size() == 1);
  CHECK(r.json()["value"][0]["name"] == "web");
  CHECK(c.emu.http().request("GET", list).status == 401);
}

TEST_CASE("retention over HTTPS: dry run changes nothing; apply deletes exactly the plan", "[cost][retention]") {
  Costing c;
  c.publish("1.0.0");                                         // used by a VM
  c.publish("1.1.0", {{"endOfLifeDate", "2099-01-01T00:00:00Z"}}, {{"blockDeletionBeforeEndOfLife", true}});
  c.publish("1.2.0");                                         // old: goes
  c.publish("1.3.0");                                         // old: goes
  c.publish("1.4.0");                                         // among the 2 newest
  c.publish("2.0.0");                                         // latest
  c.deploy_vm("web", version_path("linux", "1.0.0"));

  // The service itself refuses the blocked one: the planner must not try.
  auto blocked = c.emu.arm("DELETE", version_path("linux", "1.1.0") + kV);
  CHECK(blocked.status == 409);
  CHECK(blocked.error_code() == "DeleteGalleryImageVersionBlockedBeforeEndOfLife");

  auto dry = c.tool({"retention", "--scope", gallery_id(), "--keep", "2", "--dry-run"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.status == 0);
  CHECK(dry.out.find("gal/linux/1.2.0") != std::string::npos);
  CHECK(dry.out.find("referenced by VM web") != std::string::npos);
  CHECK(dry.out.find("blocked before end of life") != std::string::npos);
  CHECK(dry.out.find("Dry run: would delete 2 of 6 versions, saving 10.35 USD per month") != std::string::npos);
  CHECK(c.version_names().size() == 6);

  auto applied = c.tool({"retention", "--scope", definition_path("linux"), "--keep", "2"});
  INFO(applied.out << applied.err);
  REQUIRE(applied.status == 0);
  CHECK(applied.out.find("Deleted 2 of 6 versions, saving 10.35 USD per month.") != std::string::npos);
  CHECK(c.version_names() == std::vector<std::string>{"1.0.0", "1.1.0", "1.4.0", "2.0.0"});

  // Run again: nothing left to delete.
  auto again = c.tool({"retention", "--scope", gallery_id(), "--keep", "2"});
  CHECK(again.status == 0);
  CHECK(again.out.find("Deleted 0 of 4 versions") != std::string::npos);
}

TEST_CASE("retention --delete-end-of-life deletes versions past end of life on the emulator's clock", "[cost][retention]") {
  Costing c(test_options([](acg::api::AppOptions& o) { o.virtual_clock = true; }));
  const std::string soon = "2099-01-01T00:00:00Z";
  c.publish("1.0.0", {{"endOfLifeDate", soon}}, {{"blockDeletionBeforeEndOfLife", true}});
  c.publish("1.1.0", {{"endOfLifeDate", soon}});
  c.publish("2.0.0");
  // Before end of life: kept (among the newest, or blocked).
  auto before = c.tool({"retention", "--scope", gallery_id(), "--keep", "3", "--delete-end-of-life"});
  INFO(before.out << before.err);
  CHECK(before.status == 0);
  CHECK(c.version_names().size() == 3);
  // After it (the emulator's clock, which the tool reads): both go, even within keep 3.
  auto now_ms = c.emu.http().request("GET", "/_emulator/clock").json()["nowMs"].get<std::int64_t>();
  std::int64_t eol_ms = 0;
  REQUIRE(acg::parse_iso8601(soon, eol_ms));
  REQUIRE(c.emu.http().request("POST", "/_emulator/clock/advance?seconds=" + std::to_string((eol_ms - now_ms) / 1000 + 60)).status == 200);
  auto after = c.tool({"retention", "--scope", gallery_id(), "--keep", "3", "--delete-end-of-life"});
  INFO(after.out << after.err);
  CHECK(after.status == 0);
  CHECK(after.out.find("end of life passed") != std::string::npos);
  CHECK(c.version_names() == std::vector<std::string>{"2.0.0"});
}

TEST_CASE("the cost tool prints the table and the saving; errors exit non-zero with the ARM error", "[cost][retention]") {
  Costing c;
  c.publish("1.0.0");
  c.publish("2.0.0");
  auto cost = c.tool({"cost", "--scope", "/subscriptions/" + kSub, "--keep", "1"});
  INFO(cost.out << cost.err);
  REQUIRE(cost.status == 0);
  CHECK(cost.out.find("gal/linux/1.0.0") != std::string::npos);
  CHECK(cost.out.find("TOTAL (2 versions)") != std::string::npos);
  CHECK(cost.out.find("10.35 USD") != std::string::npos);
  CHECK(cost.out.find("would delete 1 of 2 versions, saving 5.18 USD per month") != std::string::npos);
  auto as_json = c.tool({"cost", "--scope", gallery_id(), "--json"});
  REQUIRE(as_json.status == 0);
  CHECK(json::parse(as_json.out)["monthlyCost"].get<double>() == Approx(2 * Costing::kVersionMonthly));

  auto missing = c.tool({"retention", "--scope", TestEmulator::gallery_path("rg", "nothing"), "--keep", "1"});
  CHECK(missing.status == 1);
  CHECK(missing.err.find("error: ResourceNotFound") != std::string::npos);
  auto wrong_secret = c.tool({"cost", "--scope", gallery_id(), "--client-secret", "nope"});
  CHECK(wrong_secret.status == 1);
  CHECK(wrong_secret.err.find("invalid_client") != std::string::npos);
  auto not_a_gallery = c.tool({"retention", "--scope", "/subscriptions/" + kSub, "--keep", "1"});
  CHECK(not_a_gallery.status == 1);
  CHECK(not_a_gallery.err.find("InvalidScope") != std::string::npos);
  CHECK(c.tool({"retention", "--scope", gallery_id()}).status == 2);  // --keep is required
  CHECK(c.tool({"cost", "--scope", gallery_id(), "--keep", "many"}).status == 2);
  CHECK(c.version_names().size() == 2);
}
