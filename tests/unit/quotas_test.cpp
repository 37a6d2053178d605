#include "emulator/quotas.h"

#include <catch2/catch.hpp>

using namespace acg;
using nlohmann::json;

TEST_CASE("quota limits: admin override, then the config's subscription, default, then documented", "[quota]") {
  const QuotaKind& galleries = *quota_for_type("microsoft.compute/GALLERIES");
  CHECK(galleries.documented_default == 100);
  CHECK(quota_for_type("Microsoft.Compute/galleries/images/versions")->documented_default == 10000);
  CHECK(quota_for_type("Microsoft.Compute/virtualMachines") == nullptr);

  auto settings = quota_settings_from_config(json::parse(
      R"({"quotas": {"default": {"galleries": 7}, "AAAA": {"galleries": 3, "imageVersions": 5}}})"));
  REQUIRE(settings);
  std::map<std::string, QuotaLimits> overrides{{"aaaa", {{"imageVersions", 9}}}};
  const QuotaKind& versions = *quota_for_type("Microsoft.Compute/galleries/images/versions");
  const QuotaKind& definitions = *quota_for_type("Microsoft.Compute/galleries/images");
  CHECK(effective_limit(galleries, "aaaa", *settings, overrides) == 3);
  CHECK(effective_limit(versions, "AAAA", *settings, overrides) == 9);
  CHECK(effective_limit(galleries, "bbbb", *settings, overrides) == 7);
  CHECK(effective_limit(definitions, "bbbb", *settings, overrides) == 1000);
  CHECK(quota_settings_from_config(json::object())->subscriptions.empty());
}

TEST_CASE("quota configuration is checked", "[quota]") {
  for (const char* bad : {R"({"quotas": []})", R"({"quotas": {"default": {"cores": 1}}})",
                          R"({"quotas": {"default": {"galleries": -1}}})", R"({"quotas": {"default": {"galleries": 1.5}}})",
                          R"({"quotas": {"s": {"galleries": null}}})"}) {
    INFO(bad);
    auto parsed = quota_settings_from_config(json::parse(bad));
    REQUIRE(!parsed);
    CHECK(parsed.error().code == "InvalidConfiguration");
  }
  auto with_null = quota_limits_from_json(json::parse(R"({"galleries": null})"), "body", true);
  REQUIRE(with_null);
  CHECK(with_null->at("galleries") == -1);
}

TEST_CASE("the quota error names the quota, region, limit and usage", "[quota]") {
  ArmError e = quota_exceeded(*quota_for_type("Microsoft.Compute/galleries"), "s", "westus", 100, 100);
  CHECK(e.status == 409);
  CHECK(e.code == "OperationNotAllowed");
  CHECK(e.message.rfind("Operation could not be completed as it results in exceeding approved Galleries quota. "
                        "Additional details - Deployment Model: Resource Manager, Location: westus, Current Limit: 100, "
                        "Current Usage: 100, Additional Required: 1, (Minimum) New Limit Required: 101.",
                        0) == 0);
}
