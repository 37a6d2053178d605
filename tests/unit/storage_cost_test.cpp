// The storage cost model (emulator/storage_cost.h) and the retention planner
// (emulator/retention_plan.h): pure functions over versions as ARM shows them.

#include <catch2/catch.hpp>

#include "api/app.h"
#include "api/cli_tools.h"
#include "emulator/clock.h"
#include "emulator/retention_plan.h"
#include "emulator/storage_cost.h"

using namespace acg;
using nlohmann::json;

namespace {

const std::string kDef = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d";
constexpr std::int64_t kDay = 24LL * 3600 * 1000;
const std::int64_t kNow = 1'800'000'000'000;  // 2027-01-15

// A version of kDef: `os` + `data` GiB, in `regions` ({name, replicas, type}).
json version(const std::string& name, double os_gib, json regions = json::array({{{"name", "West US"}}}),
             json extra_profile = json::object(), json safety = json::object()) {
  json profile = {{"replicaCount", 1}, {"storageAccountType", "Standard_LRS"}, {"targetRegions", regions},
                  {"publishedDate", format_arm_time(kNow - 100 * kDay)}};
  profile.update(extra_profile);
  return {{"id", kDef + "/versions/" + name}, {"name", name}, {"location", "westus"},
          {"properties",
           {{"storageProfile", {{"osDiskImage", {{"sizeInGB", os_gib}}}}},
            {"publishingProfile", profile},
            {"safetyProfile", safety}}}};
}

PriceTable flat_prices() {
  auto table = PriceTable::from_json(json::parse(R"({"replaceDefaults": true, "currency": "EUR",
      "storageAccountTypes": {"Standard_LRS": 0.1, "Standard_ZRS": 0.2, "Premium_LRS": 0.5},
      "regionMultipliers": {"brazilsouth": 2}, "regionPrices": {"East US": {"Standard_LRS": 0.01}}})"));
  REQUIRE(table.ok());
  return *table;
}

const RetentionDecision& decision(const RetentionPlan& plan, const std::string& name) {
  for (const auto& d : plan.decisions)
    if (d.name == name) return d;
  FAIL("no decision for " << name);
  return plan.decisions.front();
}

}  // namespace

TEST_CASE("the built-in price table has the snapshot list prices and regional multipliers", "[cost]") {
  const PriceTable& p = PriceTable::builtin();
  CHECK(p.currency() == "USD");
  CHECK(p.per_gib_month("Standard_LRS", "eastus") == Approx(0.05));
  CHECK(p.per_gib_month("Standard_ZRS", "East US") == Approx(0.0625));
  CHECK(p.per_gib_month("Premium_LRS", "eastus2") == Approx(0.12));
  CHECK(p.per_gib_month("Standard_LRS", "Brazil South") > p.per_gib_month("Standard_LRS", "eastus"));
  CHECK(p.per_gib_month("Standard_LRS", "switzerlandnorth") > p.per_gib_month("Standard_LRS", "eastus"));
  CHECK(p.per_gib_month("Standard_LRS", "usgovvirginia") > p.per_gib_month("Standard_LRS", "eastus"));
  CHECK(p.per_gib_month("Mystery_LRS", "eastus") == Approx(0.05));  // an unknown type: Standard_LRS
}

TEST_CASE("price overrides merge over the table; bad ones are refused naming the member", "[cost]") {
  PriceTable p = flat_prices();
  CHECK(p.currency() == "EUR");
  CHECK(p.per_gib_month("Standard_LRS", "westus") == Approx(0.1));
  CHECK(p.per_gib_month("Standard_LRS", "brazilsouth") == Approx(0.2));  // multiplier
  CHECK(p.per_gib_month("Standard_LRS", "eastus") == Approx(0.01));      // exact regional price wins
  CHECK(p.per_gib_month("Premium_LRS", "eastus") == Approx(0.5));        // other types keep the baseline
  auto merged = PriceTable::from_json(json{{"storageAccountTypes", {{"Premium_LRS", 0.2}}}});
  REQUIRE(merged.ok());
  CHECK(merged->per_gib_month("Premium_LRS", "eastus") == Approx(0.2));
  CHECK(merged->per_gib_month("Standard_LRS", "eastus") == Approx(0.05));  // the built-in rest stays

  for (const char* bad : {R"({"storageAccountTypes": {"Standard_LRS": -1}})", R"({"regionMultipliers": []})",
                          R"({"currency": 3})", R"({"replaceDefaults": true, "storageAccountTypes": {"Premium_LRS": 1}})",
                          R"({"regionPrices": {"eastus": {"Standard_LRS": "cheap"}}})", R"([1])"}) {
    auto refused = PriceTable::from_json(json::parse(bad));
    INFO(bad);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().status == 400);
    CHECK(refused.error().code == "InvalidConfiguration");
  }
}

TEST_CASE("a version costs size x replicas x price in each target region", "[cost]") {
  const PriceTable p = flat_prices();
  json v = version("1.0.0", 30,
                   json::array({{{"name", "West US"}, {"regionalReplicaCount", 2}},
                                {{"name", "Brazil South"}, {"storageAccountType", "Standard_ZRS"}},
                                {{"name", "East US"}}}));
  v["properties"]["storageProfile"]["dataDiskImages"] = json::array({{{"lun", 0}, {"sizeInGB", 10}}});
  const VersionCost c = version_cost(v, p);
  CHECK(c.size_gib == Approx(40));
  REQUIRE(c.regions.size() == 3);
  CHECK(c.regions[0].monthly == Approx(40 * 2 * 0.1));
  CHECK(c.regions[1].storage_type == "Standard_ZRS");
  CHECK(c.regions[1].monthly == Approx(40 * 1 * 0.2 * 2));
  CHECK(c.regions[2].monthly == Approx(40 * 0.01));
  CHECK(c.monthly == Approx(8 + 16 + 0.4));

  // Soft deleted: one replica per region is retained (LIMITS.md §9).
  const VersionCost soft = version_cost(v, p, true);
  CHECK(soft.soft_deleted);
  CHECK(soft.monthly == Approx(4 + 16 + 0.4));
}

TEST_CASE("the cost report rolls versions up by definition and gallery", "[cost]") {
  const PriceTable p = flat_prices();
  std::vector<VersionCost> costs = {version_cost(version("1.0.0", 10), p), version_cost(version("2.0.0", 20), p)};
  json other = version("1.0.0", 5);
  other["id"] = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/h/images/e/versions/1.0.0";
  costs.push_back(version_cost(other, p));
  const json r = cost_report("/subscriptions/s", costs, p);
  CHECK(r["currency"] == "EUR");
  CHECK(r["versionCount"] == 3);
  CHECK(r["monthlyCost"].get<double>() == Approx(3.5));
  REQUIRE(r["galleries"].size() == 2);
  CHECK(r["galleries"][0]["monthlyCost"].get<double>() == Approx(3));
  CHECK(r["galleries"][0]["definitions"][0]["id"] == kDef);
  CHECK(r["galleries"][0]["definitions"][0]["versions"].size() == 2);
  CHECK(r["galleries"][1]["monthlyCost"].get<double>() == Approx(0.5));
  CHECK(r["galleries"][0]["definitions"][0]["versions"][1]["regions"][0]["pricePerGiBMonth"].get<double>() == Approx(0.1));
}

TEST_CASE("retention keeps the N newest by version number and deletes the rest", "[cost][retention]") {
  const PriceTable p = flat_prices();
  // Out of order and with a numeric trap: 1.10.0 is newer than 1.9.0.
  std::vector<json> vs = {version("1.9.0", 10), version("1.10.0", 10), version("1.0.0", 10), version("1.2.0", 10)};
  const RetentionPlan plan = plan_retention(vs, {}, RetentionPolicy{2, std::nullopt, false}, kNow, p);
  REQUIRE(plan.decisions.size() == 4);
  CHECK(plan.decisions[0].name == "1.10.0");
  CHECK(decision(plan, "1.10.0").reason == "latest");
  CHECK_FALSE(decision(plan, "1.9.0").remove);
  CHECK(decision(plan, "1.9.0").reason == "among the 2 newest");
  CHECK(decision(plan, "1.2.0").remove);
  CHECK(decision(plan, "1.0.0").remove);
  CHECK(plan.deletions() == 2);
  CHECK(plan.monthly_saving == Approx(2 * 10 * 0.1));
}

TEST_CASE("retention never deletes the latest, even with keep 0", "[cost][retention]") {
  const PriceTable p = flat_prices();
  // 3.0.0 is excluded from latest: "latest" is 2.0.0, and 3.0.0 stays as the highest.
  std::vector<json> vs = {version("1.0.0", 1), version("2.0.0", 1),
                          version("3.0.0", 1, json::array({{{"name", "West US"}}}), {{"excludeFromLatest", true}})};
  const RetentionPlan plan = plan_retention(vs, {}, RetentionPolicy{0, std::nullopt, false}, kNow, p);
  CHECK_FALSE(decision(plan, "3.0.0").remove);
  CHECK_FALSE(decision(plan, "2.0.0").remove);
  CHECK(decision(plan, "2.0.0").reason == "latest");
  CHECK(decision(plan, "1.0.0").remove);
}

TEST_CASE("retention keeps versions VMs use, by version id or by definition and exactVersion", "[cost][retention]") {
  const PriceTable p = flat_prices();
  std::vector<json> vs = {version("1.0.0", 1), version("1.1.0", 1), version("1.2.0", 1), version("2.0.0", 1)};
  std::vector<json> vms = {
      {{"name", "web"}, {"properties", {{"storageProfile", {{"imageReference", {{"id", kDef + "/versions/1.0.0"}}}}}}}},
      {{"name", "api"},
       {"properties", {{"storageProfile", {{"imageReference", {{"id", kDef}, {"exactVersion", "1.1.0"}}}}}}}}};
  const RetentionPlan plan = plan_retention(vs, vms, RetentionPolicy{0, std::nullopt, false}, kNow, p);
  CHECK_FALSE(decision(plan, "1.0.0").remove);
  CHECK(decision(plan, "1.0.0").reason == "referenced by VM web");
  CHECK_FALSE(decision(plan, "1.1.0").remove);
  CHECK(decision(plan, "1.1.0").reason == "referenced by VM api");
  CHECK(decision(plan, "1.2.0").remove);  // nobody uses it
}

TEST_CASE("retention keeps versions blocked before end of life; end of life passed may go", "[cost][retention]") {
  const PriceTable p = flat_prices();
  const json block = {{"blockDeletionBeforeEndOfLife", true}};
  std::vector<json> vs = {
      version("1.0.0", 1, json::array({{{"name", "West US"}}}), {{"endOfLifeDate", format_arm_time(kNow + kDay)}}, block),
      version("1.1.0", 1, json::array({{{"name", "West US"}}}), {{"endOfLifeDate", format_arm_time(kNow - kDay)}}, block),
      version("1.2.0", 1, json::array({{{"name", "West US"}}}), {{"endOfLifeDate", format_arm_time(kNow - kDay)}}),
      version("2.0.0", 1)};
  // Keep 3: 1.1.0 and 1.2.0 sit among the newest, but are past end of life.
  const RetentionPlan kept = plan_retention(vs, {}, RetentionPolicy{3, std::nullopt, false}, kNow, p);
  CHECK(kept.deletions() == 0);
  CHECK(decision(kept, "1.0.0").reason.rfind("blocked before end of life", 0) == 0);
  const RetentionPlan eol = plan_retention(vs, {}, RetentionPolicy{3, std::nullopt, true}, kNow, p);
  CHECK_FALSE(decision(eol, "1.0.0").remove);  // blocked: its end of life is tomorrow
  CHECK(decision(eol, "1.1.0").remove);        // blocked no more: the block ended with its life
  CHECK(decision(eol, "1.1.0").reason.rfind("end of life passed", 0) == 0);
  CHECK(decision(eol, "1.2.0").remove);
  CHECK_FALSE(decision(eol, "2.0.0").remove);
}

TEST_CASE("retention with --older-than deletes only versions published before then", "[cost][retention]") {
  const PriceTable p = flat_prices();
  std::vector<json> vs = {version("1.0.0", 1, json::array({{{"name", "West US"}}}), {{"publishedDate", format_arm_time(kNow - 40 * kDay)}}),
                          version("1.1.0", 1, json::array({{{"name", "West US"}}}), {{"publishedDate", format_arm_time(kNow - 10 * kDay)}}),
                          version("2.0.0", 1)};
  const RetentionPlan plan = plan_retention(vs, {}, RetentionPolicy{0, 30, false}, kNow, p);
  CHECK(decision(plan, "1.0.0").remove);
  CHECK_FALSE(decision(plan, "1.1.0").remove);
  CHECK(decision(plan, "1.1.0").reason == "published less than 30 days ago");
  const json j = retention_plan_json(plan, RetentionPolicy{0, 30, false});
  CHECK(j["deleteCount"] == 1);
  CHECK(j["policy"]["olderThanDays"] == 30);
  CHECK(j["versions"][2]["action"] == "delete");
}

TEST_CASE("retention plans each definition on its own", "[cost][retention]") {
  const PriceTable p = flat_prices();
  json other = version("1.0.0", 1);
  other["id"] = kDef + "2/versions/1.0.0";
  std::vector<json> vs = {version("1.0.0", 1), version("2.0.0", 1), other};
  const RetentionPlan plan = plan_retention(vs, {}, RetentionPolicy{0, std::nullopt, false}, kNow, p);
  CHECK(plan.deletions() == 1);  // 1.0.0 of kDef; the other definition's only version is its latest
  CHECK(plan.decisions[2].definition_id == kDef + "2");
  CHECK_FALSE(plan.decisions[2].remove);
}

TEST_CASE("--prices names a price file; cost and retention are tools, not server options", "[cost]") {
  auto parsed = acg::api::parse_command_line({"--prices", "p.json"});
  REQUIRE(std::holds_alternative<acg::api::AppOptions>(parsed));
  CHECK(std::get<acg::api::AppOptions>(parsed).prices_file == "p.json");
  CHECK(std::holds_alternative<std::string>(acg::api::parse_command_line({"--prices"})));
  CHECK(acg::api::is_tool_command({"cost", "--scope", "x"}));
  CHECK(acg::api::is_tool_command({"retention"}));
  CHECK_FALSE(acg::api::is_tool_command({"--port", "0"}));
  CHECK_FALSE(acg::api::is_tool_command({}));
}
