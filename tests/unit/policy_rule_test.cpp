// The policy rule language without a server: fields, aliases, [*] and count, operators,
// parameters, definition checks and the append / modify effects.

#include <catch2/catch.hpp>

#include "emulator/policy_rule.h"

using namespace acg;
using nlohmann::json;

namespace {

const json kVersion = {
    {"id", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0"},
    {"name", "1.0.0"},
    {"type", "Microsoft.Compute/galleries/images/versions"},
    {"location", "westus"},
    {"tags", {{"Owner", "me"}, {"tier", "3"}}},
    {"properties", {{"publishingProfile", {{"targetRegions", {{{"name", "westus"}}, {{"name", "eastus"}}}}}}}}};

bool holds(const json& condition, const json& resource = kVersion, const json& values = json::object()) {
  const json rule = {{"if", condition}, {"then", {{"effect", "deny"}}}};
  auto out = policy::evaluate(rule, values, policy::Subject{resource, nullptr, "s"});
  REQUIRE(out.ok());
  return out->matched;
}

}  // namespace

TEST_CASE("fields: names, tags in every spelling, fullName, aliases of the resource's type only", "[policy]") {
  CHECK(holds({{"field", "name"}, {"equals", "1.0.0"}}));
  CHECK(holds({{"field", "fullName"}, {"equals", "g/i/1.0.0"}}));
  CHECK(holds({{"field", "TYPE"}, {"equals", "microsoft.compute/galleries/images/versions"}}));
  CHECK(holds({{"field", "tags['owner']"}, {"equals", "ME"}}));
  CHECK(holds({{"field", "tags[owner]"}, {"exists", true}}));
  CHECK(holds({{"field", "tags.missing"}, {"exists", "false"}}));
  CHECK(holds({{"field", "Microsoft.Compute/galleries/images/versions/publishingProfile.targetRegions[0].name"},
               {"equals", "westus"}}));
  // An alias of another type is absent.
  CHECK(holds({{"field", "Microsoft.Compute/galleries/images/osType"}, {"exists", false}}));
}

TEST_CASE("[*] needs every member; an empty collection satisfies anything; count counts", "[policy]") {
  const std::string names = "Microsoft.Compute/galleries/images/versions/publishingProfile.targetRegions[*].name";
  CHECK_FALSE(holds({{"field", names}, {"equals", "westus"}}));
  CHECK(holds({{"field", names}, {"like", "*us"}}));
  CHECK(holds({{"not", {{"field", names}, {"in", {"westus"}}}}}));
  json no_regions = kVersion;
  no_regions["properties"]["publishingProfile"]["targetRegions"] = json::array();
  CHECK(holds({{"field", names}, {"equals", "nowhere"}}, no_regions));
  const json count = {{"field", "Microsoft.Compute/galleries/images/versions/publishingProfile.targetRegions[*]"},
                      {"where", {{"field", names}, {"notIn", {"westus"}}}}};
  CHECK(holds({{"count", count}, {"equals", 1}}));
  CHECK_FALSE(holds({{"count", count}, {"greater", 1}}));
}

TEST_CASE("operators compare without case, like and match use their wildcards", "[policy]") {
  CHECK(holds({{"field", "location"}, {"in", {"EastUS", "WestUS"}}}));
  CHECK(holds({{"field", "name"}, {"like", "1.*"}}));
  CHECK(holds({{"field", "name"}, {"match", "#.#.#"}}));
  CHECK_FALSE(holds({{"field", "name"}, {"match", "#.#"}}));
  CHECK(holds({{"field", "location"}, {"contains", "EST"}}));
  CHECK(holds({{"field", "tags"}, {"containsKey", "OWNER"}}));
  CHECK(holds({{"field", "tags.tier"}, {"greaterOrEquals", "3"}}));
  CHECK(holds({{"value", 5}, {"less", 6}}));
  CHECK(holds({{"anyOf", {{{"value", 1}, {"equals", 2}}, {{"value", "a"}, {"notEquals", "b"}}}}}));
  CHECK(holds({{"field", "location"}, {"in", "[parameters('where')]"}}, kVersion, {{"where", {"westus"}}}));
}

TEST_CASE("definitions are checked; parameters resolved with defaults and refusals", "[policy]") {
  const json good = {
      {"mode", "All"},
      {"parameters", {{"where", {{"type", "Array"}, {"defaultValue", {"westus"}}}}, {"tag", {{"type", "String"}}}}},
      {"policyRule",
       {{"if", {{"field", "location"}, {"notIn", "[parameters('where')]"}}}, {"then", {{"effect", "deny"}}}}}};
  CHECK(policy::check_definition("d", good).ok());
  json bad = good;
  bad["policyRule"]["if"] = {{"field", "location"}, {"equal", "x"}};
  CHECK(policy::check_definition("d", bad).error().code == "InvalidPolicyRule");
  bad = good;
  bad["parameters"]["where"]["defaultValue"] = "westus";
  CHECK(policy::check_definition("d", bad).error().code == "InvalidPolicyParameters");

  auto values = policy::parameter_values("a", "d", good["parameters"], {{"tag", {{"value", "owner"}}}});
  REQUIRE(values.ok());
  CHECK((*values)["where"] == json::array({"westus"}));
  CHECK(policy::parameter_values("a", "d", good["parameters"], json::object()).error().code ==
        "MissingPolicyParameter");
  CHECK(policy::parameter_values("a", "d", good["parameters"], {{"tag", {{"value", "x"}}}, {"extra", {{"value", 1}}}})
            .error()
            .code == "UndefinedPolicyParameter");
  CHECK(policy::parameter_values("a", "d", good["parameters"], {{"tag", {{"value", 1}}}}).error().code ==
        "InvalidPolicyParameters");
}

TEST_CASE("append adds what is missing, modify adds, replaces and removes tags", "[policy]") {
  json resource = kVersion;
  REQUIRE(policy::apply_append(
              json::array({{{"field", "tags['env']"}, {"value", "dev"}}, {{"field", "tags['owner']"}, {"value", "x"}}}),
              resource)
              .ok());
  CHECK(resource["tags"]["env"] == "dev");
  CHECK(resource["tags"]["Owner"] == "me");
  json ops = {{"operations",
               {{{"operation", "addOrReplace"}, {"field", "tags['owner']"}, {"value", "platform"}},
                {{"operation", "remove"}, {"field", "tags['tier']"}},
                {{"operation", "add"}, {"field", "tags['env']"}, {"value", "prod"}}}}};
  REQUIRE(policy::apply_modify(ops, resource).ok());
  CHECK(resource["tags"]["Owner"] == "platform");
  CHECK_FALSE(resource["tags"].contains("tier"));
  CHECK(resource["tags"]["env"] == "dev");
  CHECK(policy::mode_applies("Indexed", "Microsoft.Compute/galleries"));
  CHECK_FALSE(policy::mode_applies("Indexed", "Microsoft.Resources/subscriptions/resourceGroups"));
}
