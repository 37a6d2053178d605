// Azure Policy over HTTPS: built-in and custom definitions, assignments at a subscription and a
// resource group (parameters, notScopes, enforcementMode), and every rule of the language with
// the write it refuses and the write it lets through; audit, append and modify; the seeded
// "organisation restricts gallery usage" policy.

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kP = "?api-version=2021-06-01";
const std::string kV = "?api-version=2022-03-03";
const std::string kRg = "?api-version=2021-04-01";
const std::string kSubScope = "/subscriptions/" + kSub;
const std::string kAllowedLocations = "e56962a6-4747-49cd-b67b-bf8b01975c4c";
const std::string kRequireTag = "871b6d14-10aa-478d-b590-94f262ecfa99";
const std::string kRequireGroupTag = "96670d01-0a4d-4649-9c89-2d3abc0a5025";
const std::string kAppendTag = "2a0e14a6-b0a6-4fab-991a-187a4f81c498";
const std::string kAddOrReplaceTag = "5ffd78d9-436d-4b41-a421-5baa819e3008";
const std::string kBuiltin = "/providers/Microsoft.Authorization/policyDefinitions/";

std::string definition_path(const std::string& name) {
  return kSubScope + "/providers/Microsoft.Authorization/policyDefinitions/" + name + kP;
}
std::string assignment_path(const std::string& scope, const std::string& name) {
  return scope + "/providers/Microsoft.Authorization/policyAssignments/" + name + kP;
}
std::string group(const std::string& name) { return TestEmulator::group_path(name); }

json assignment(const std::string& definition_id, const json& parameters = json::object(),
                const json& extra = json::object()) {
  json p = {{"policyDefinitionId", definition_id}, {"parameters", parameters}};
  p.update(extra);
  return {{"properties", p}};
}

json values(std::initializer_list<std::pair<const char*, json>> v) {
  json out = json::object();
  for (const auto& [k, value] : v) out[k] = {{"value", value}};
  return out;
}

json custom_definition(const json& condition, const std::string& effect = "deny", const std::string& mode = "All") {
  return {{"properties", {{"mode", mode}, {"policyRule", {{"if", condition}, {"then", {{"effect", effect}}}}}}}};
}

struct Policies {
  TestEmulator emu;
  Policies() { REQUIRE(emu.arm("PUT", group("rg") + kRg, R"({"location":"westus"})").status == 201); }

  ClientResponse assign(const std::string& scope, const std::string& name, const json& body) {
    return emu.arm("PUT", assignment_path(scope, name), body.dump());
  }
  ClientResponse put_group(const std::string& name, const json& body) {
    return emu.arm("PUT", group(name) + kRg, body.dump());
  }
  ClientResponse put_gallery(const std::string& rg, const std::string& name, const json& body) {
    return emu.arm("PUT", TestEmulator::gallery_path(rg, name) + kV, body.dump());
  }
  json events() { return emu.http().request("GET", "/_emulator/policy/events").json()["value"]; }
};

void check_denied(const ClientResponse& r, const std::string& assignment_name) {
  REQUIRE(r.status == 403);
  const json e = r.json()["error"];
  CHECK(e["code"] == "RequestDisallowedByPolicy");
  CHECK(e["message"].get<std::string>().find(
            "was disallowed by policy. Policy identifiers: '[{\"policyAssignment\":") != std::string::npos);
  CHECK(e["message"].get<std::string>().find(assignment_name) != std::string::npos);
  CHECK(e["additionalInfo"][0]["type"] == "PolicyViolation");
  CHECK(e["additionalInfo"][0]["info"]["policyAssignmentName"] == assignment_name);
}

}  // namespace

TEST_CASE("built-in definitions are served at the root and from a subscription", "[policy]") {
  Policies p;
  auto root = p.emu.arm("GET", kBuiltin + kAllowedLocations + kP);
  REQUIRE(root.status == 200);
  CHECK(root.json()["id"] == kBuiltin + kAllowedLocations);
  CHECK(root.json()["properties"]["displayName"] == "Allowed locations");
  CHECK(root.json()["properties"]["policyType"] == "BuiltIn");
  CHECK(root.json()["properties"]["parameters"]["listOfAllowedLocations"]["type"] == "Array");
  auto via_sub = p.emu.arm("GET", definition_path(kRequireTag));
  REQUIRE(via_sub.status == 200);
  CHECK(via_sub.json()["properties"]["displayName"] == "Require a tag on resources");
  CHECK(via_sub.json()["id"] == kBuiltin + kRequireTag);

  auto list = p.emu.arm("GET", "/providers/Microsoft.Authorization/policyDefinitions" + kP).json()["value"];
  CHECK(list.size() >= 7);
  auto missing = p.emu.arm("GET", kBuiltin + "00000000-0000-0000-0000-000000000000" + kP);
  CHECK(missing.status == 404);
  CHECK(missing.json()["error"]["code"] == "PolicyDefinitionNotFound");
  CHECK(p.emu.arm("GET", kBuiltin + kAllowedLocations + "?api-version=2099-01-01").status == 400);
}

TEST_CASE("custom definitions: create, read, list, refuse invalid rules, delete when unassigned", "[policy]") {
  Policies p;
  const json rule = custom_definition({{"field", "name"}, {"like", "tmp-*"}});
  auto created = p.emu.arm("PUT", definition_path("no-tmp"), rule.dump());
  REQUIRE(created.status == 201);
  CHECK(created.json()["properties"]["policyType"] == "Custom");
  CHECK(created.json()["id"] == kSubScope + "/providers/Microsoft.Authorization/policyDefinitions/no-tmp");
  CHECK(p.emu.arm("PUT", definition_path("no-tmp"), rule.dump()).status == 201);  // an update answers 201 too
  CHECK(p.emu.arm("GET", definition_path("no-tmp")).json()["properties"]["mode"] == "All");
  auto custom_only = p.emu.arm("GET", kSubScope + "/providers/Microsoft.Authorization/policyDefinitions" + kP +
                                          "&$filter=policyType%20eq%20'Custom'");
  REQUIRE(custom_only.json()["value"].size() == 1);
  CHECK(p.emu.arm("GET", kSubScope + "/providers/Microsoft.Authorization/policyDefinitions" + kP)
            .json()["value"]
            .size() >= 8);

  SECTION("an unknown member in a condition is InvalidPolicyRule") {
    auto r = p.emu.arm("PUT", definition_path("bad"), custom_definition({{"field", "name"}, {"equal", "x"}}).dump());
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == "InvalidPolicyRule");
    CHECK(r.json()["error"]["message"].get<std::string>().find("Could not find member 'equal'") != std::string::npos);
    json no_then = {{"properties", {{"policyRule", {{"if", {{"field", "name"}, {"equals", "x"}}}}}}}};
    CHECK(p.emu.arm("PUT", definition_path("bad"), no_then.dump()).json()["error"]["code"] == "InvalidPolicyRule");
  }
  SECTION("an undeclared parameter is InvalidPolicyParameters; an unknown effect InvalidPolicyRuleEffect") {
    auto r = p.emu.arm("PUT", definition_path("bad"),
                       custom_definition({{"field", "location"}, {"in", "[parameters('nowhere')]"}}).dump());
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == "InvalidPolicyParameters");
    auto effect = p.emu.arm("PUT", definition_path("bad"),
                            custom_definition({{"field", "name"}, {"equals", "x"}}, "explode").dump());
    CHECK(effect.status == 400);
    CHECK(effect.json()["error"]["code"] == "InvalidPolicyRuleEffect");
    CHECK(p.emu.arm("GET", definition_path("bad")).status == 404);
  }
  SECTION("a definition in use is not deleted; unassigned it is (200, then 204)") {
    REQUIRE(p.assign(kSubScope, "a1", assignment(created.json()["id"])).status == 201);
    auto in_use = p.emu.arm("DELETE", definition_path("no-tmp"));
    CHECK(in_use.status == 400);
    CHECK(in_use.json()["error"]["code"] == "PolicyDefinitionInUse");
    CHECK(p.emu.arm("DELETE", assignment_path(kSubScope, "a1")).status == 200);
    CHECK(p.emu.arm("DELETE", definition_path("no-tmp")).status == 200);
    CHECK(p.emu.arm("DELETE", definition_path("no-tmp")).status == 204);
  }
}

TEST_CASE("assignments: parameters checked against the definition, scopes listed as ARM lists them", "[policy]") {
  Policies p;
  const std::string allowed = kBuiltin + kAllowedLocations;
  SECTION("a missing, an undefined and a mistyped parameter are refused") {
    auto missing = p.assign(kSubScope, "loc", assignment(allowed));
    CHECK(missing.status == 400);
    CHECK(missing.json()["error"]["code"] == "MissingPolicyParameter");
    CHECK(missing.json()["error"]["message"] ==
          "The policy assignment 'loc' is missing the parameter(s) 'listOfAllowedLocations' as defined in the policy "
          "definition '" +
              kAllowedLocations + "'.");
    auto undefined = p.assign(
        kSubScope, "loc", assignment(allowed, values({{"listOfAllowedLocations", {"westus"}}, {"effect", "deny"}})));
    CHECK(undefined.json()["error"]["code"] == "UndefinedPolicyParameter");
    auto mistyped = p.assign(kSubScope, "loc", assignment(allowed, values({{"listOfAllowedLocations", "westus"}})));
    CHECK(mistyped.status == 400);
    CHECK(mistyped.json()["error"]["code"] == "InvalidPolicyParameters");
    auto unknown = p.assign(kSubScope, "loc", assignment(kBuiltin + "00000000-0000-0000-0000-000000000000"));
    CHECK(unknown.status == 400);
    CHECK(unknown.json()["error"]["code"] == "PolicyDefinitionNotFound");
    auto mode = p.assign(
        kSubScope, "loc",
        assignment(allowed, values({{"listOfAllowedLocations", {"westus"}}}), {{"enforcementMode", "Sometimes"}}));
    CHECK(mode.status == 400);
    CHECK(p.emu.arm("GET", assignment_path(kSubScope, "loc")).json()["error"]["code"] == "PolicyAssignmentNotFound");
  }
  SECTION("created at a subscription and a group; lists with and without atScope(); deleted with the group") {
    auto sub =
        p.assign(kSubScope, "loc", assignment(allowed, values({{"listOfAllowedLocations", {"westus", "eastus"}}})));
    REQUIRE(sub.status == 201);
    CHECK(sub.json()["properties"]["scope"] == kSubScope);
    CHECK(sub.json()["properties"]["enforcementMode"] == "Default");
    CHECK(sub.json()["properties"]["notScopes"] == json::array());
    CHECK(sub.json()["type"] == "Microsoft.Authorization/policyAssignments");
    REQUIRE(p.assign(group("rg"), "tag", assignment(kBuiltin + kRequireTag, values({{"tagName", "owner"}}))).status ==
            201);
    auto everything =
        p.emu.arm("GET", kSubScope + "/providers/Microsoft.Authorization/policyAssignments" + kP).json()["value"];
    CHECK(everything.size() == 2);
    auto at_sub = p.emu.arm(
        "GET", kSubScope + "/providers/Microsoft.Authorization/policyAssignments" + kP + "&$filter=atScope()");
    CHECK(at_sub.json()["value"].size() == 1);
    auto at_group = p.emu.arm(
        "GET", group("rg") + "/providers/Microsoft.Authorization/policyAssignments" + kP + "&$filter=atScope()");
    CHECK(at_group.json()["value"].size() == 2);
    auto exact = p.emu.arm(
        "GET", group("rg") + "/providers/Microsoft.Authorization/policyAssignments" + kP + "&$filter=atExactScope()");
    CHECK(exact.json()["value"].size() == 1);
    REQUIRE(p.emu.arm("DELETE", group("rg") + kRg).status < 300);
    CHECK(p.emu.arm("GET", kSubScope + "/providers/Microsoft.Authorization/policyAssignments" + kP)
              .json()["value"]
              .size() == 1);
    CHECK(p.emu.arm("DELETE", assignment_path(kSubScope, "loc")).status == 200);
    CHECK(p.emu.arm("DELETE", assignment_path(kSubScope, "loc")).status == 204);
  }
}

TEST_CASE("Allowed locations denies a gallery outside the list and writes nothing", "[policy]") {
  Policies p;
  REQUIRE(p.assign(kSubScope, "allowed-locations",
                   assignment(kBuiltin + kAllowedLocations, values({{"listOfAllowedLocations", {"westus", "westus2"}}}),
                              {{"displayName", "Only the West"}}))
              .status == 201);
  auto refused = p.put_gallery("rg", "east", {{"location", "eastus"}});
  check_denied(refused, "allowed-locations");
  const json e = refused.json()["error"];
  CHECK(e["target"] == "east");
  CHECK(e["additionalInfo"][0]["info"]["policyDefinitionId"] == kBuiltin + kAllowedLocations);
  CHECK(e["additionalInfo"][0]["info"]["policyAssignmentDisplayName"] == "Only the West");
  CHECK(e["message"].get<std::string>().find("\"policyDefinition\":{\"name\":\"Allowed locations\",\"id\":\"" +
                                             kBuiltin + kAllowedLocations + "\"}") != std::string::npos);
  CHECK(p.emu.arm("GET", TestEmulator::gallery_path("rg", "east") + kV).status == 404);
  CHECK(p.put_gallery("rg", "west", {{"location", "West US 2"}}).status == 201);
  // Indexed: resource groups are not judged by this definition.
  CHECK(p.put_group("east-rg", {{"location", "eastus"}}).status == 201);
  const json events = p.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0]["effect"] == "deny");
  CHECK(events[0]["resourceId"].get<std::string>().find("/galleries/east") != std::string::npos);
}

TEST_CASE("Allowed locations denies an image version replicating to a forbidden region", "[policy]") {
  Policies p;
  REQUIRE(p.put_gallery("rg", "gal", {{"location", "westus"}}).status == 201);
  REQUIRE(
      p.emu
          .arm(
              "PUT", TestEmulator::gallery_path("rg", "gal") + "/images/linux" + kV,
              R"({"location":"westus","properties":{"osType":"Linux","osState":"Generalized","identifier":{"publisher":"p","offer":"o","sku":"s"}}})")
          .status == 201);
  auto snap = p.emu.arm(
      "PUT", group("rg") + "/providers/Microsoft.Compute/snapshots/os?api-version=2022-03-02",
      R"({"location":"westus","properties":{"osType":"Linux","creationData":{"createOption":"Empty"},"diskSizeGB":30}})");
  REQUIRE(snap.status == 200);
  REQUIRE(
      p.assign(kSubScope, "west-only",
               assignment(kBuiltin + kAllowedLocations, values({{"listOfAllowedLocations", {"westus", "westus2"}}})))
          .status == 201);
  auto version = [&](const json& regions) {
    json body = {{"location", "westus"},
                 {"properties",
                  {{"storageProfile", {{"osDiskImage", {{"source", {{"id", snap.json()["id"]}}}}}}},
                   {"publishingProfile", {{"targetRegions", regions}}}}}};
    return p.emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + "/images/linux/versions/1.0.0" + kV, body.dump());
  };
  check_denied(version(json::array({{{"name", "westus"}}, {{"name", "East US 2"}}})), "west-only");
  CHECK(p.emu.arm("GET", TestEmulator::gallery_path("rg", "gal") + "/images/linux/versions/1.0.0" + kV).status == 404);
  CHECK(version(json::array({{{"name", "westus"}}, {{"name", "West US 2"}}})).status < 300);
}

TEST_CASE("notScopes, resource group scope and DoNotEnforce", "[policy]") {
  Policies p;
  REQUIRE(p.put_group("exempt", {{"location", "westus"}}).status == 201);
  REQUIRE(
      p.assign(kSubScope, "tags",
               assignment(kBuiltin + kRequireTag, values({{"tagName", "owner"}}), {{"notScopes", {group("exempt")}}}))
          .status == 201);
  check_denied(p.put_gallery("rg", "g1", {{"location", "westus"}}), "tags");
  CHECK(p.put_gallery("rg", "g1", {{"location", "westus"}, {"tags", {{"owner", "me"}}}}).status == 201);
  CHECK(p.put_gallery("exempt", "g2", {{"location", "westus"}}).status == 201);

  SECTION("an assignment at a group covers only that group") {
    REQUIRE(p.emu.arm("DELETE", assignment_path(kSubScope, "tags")).status == 200);
    REQUIRE(p.put_group("other", {{"location", "westus"}}).status == 201);
    REQUIRE(
        p.assign(group("rg"), "rg-tags", assignment(kBuiltin + kRequireTag, values({{"tagName", "owner"}}))).status ==
        201);
    check_denied(p.put_gallery("rg", "g3", {{"location", "westus"}}), "rg-tags");
    CHECK(p.put_gallery("other", "g3", {{"location", "westus"}}).status == 201);
  }
  SECTION("DoNotEnforce evaluates and records but does not deny") {
    REQUIRE(p.assign(kSubScope, "tags",
                     assignment(kBuiltin + kRequireTag, values({{"tagName", "owner"}}),
                                {{"enforcementMode", "DoNotEnforce"}}))
                .status == 201);
    CHECK(p.put_gallery("rg", "g4", {{"location", "westus"}}).status == 201);
    const json events = p.events();
    CHECK(events.back()["effect"] == "deny");
    CHECK(events.back()["enforced"] == false);
  }
}

TEST_CASE("resource groups meet 'All' definitions: Require a tag on resource groups", "[policy]") {
  Policies p;
  REQUIRE(p.assign(kSubScope, "rg-tag", assignment(kBuiltin + kRequireGroupTag, values({{"tagName", "cost-center"}})))
              .status == 201);
  check_denied(p.put_group("untagged", {{"location", "westus"}}), "rg-tag");
  CHECK(p.emu.arm("GET", group("untagged") + kRg).status == 404);
  CHECK(p.put_group("tagged", {{"location", "westus"}, {"tags", {{"cost-center", "42"}}}}).status == 201);
  // Resources in a group are not resource groups: the definition lets them be.
  CHECK(p.put_gallery("tagged", "g", {{"location", "westus"}}).status == 201);
}

TEST_CASE("audit lets the write through and records it; append and modify change the tags", "[policy]") {
  Policies p;
  REQUIRE(p.emu
              .arm("PUT", definition_path("audit-east"),
                   custom_definition({{"field", "location"}, {"equals", "eastus"}}, "audit", "Indexed").dump())
              .status == 201);
  REQUIRE(p.assign(kSubScope, "audit-east",
                   assignment(kSubScope + "/providers/Microsoft.Authorization/policyDefinitions/audit-east"))
              .status == 201);
  CHECK(p.put_gallery("rg", "east", {{"location", "eastus"}}).status == 201);
  CHECK(p.put_gallery("rg", "west", {{"location", "westus"}}).status == 201);
  json events = p.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0]["effect"] == "audit");
  CHECK(events[0]["policyAssignmentName"] == "audit-east");
  CHECK(events[0]["complianceState"] == "NonCompliant");
  CHECK(events[0]["timestamp"].is_string());

  REQUIRE(p.assign(kSubScope, "append",
                   assignment(kBuiltin + kAppendTag, values({{"tagName", "env"}, {"tagValue", "dev"}})))
              .status == 201);
  auto appended = p.put_gallery("rg", "g1", {{"location", "westus"}});
  REQUIRE(appended.status == 201);
  CHECK(appended.json()["tags"]["env"] == "dev");
  auto kept = p.put_gallery("rg", "g2", {{"location", "westus"}, {"tags", {{"env", "prod"}}}});
  CHECK(kept.json()["tags"]["env"] == "prod");

  REQUIRE(
      p.assign(kSubScope, "modify",
               assignment(kBuiltin + kAddOrReplaceTag, values({{"tagName", "managedBy"}, {"tagValue", "platform"}})))
          .status == 201);
  auto modified = p.put_gallery("rg", "g3", {{"location", "westus"}, {"tags", {{"managedBy", "someone"}}}});
  REQUIRE(modified.status == 201);
  CHECK(modified.json()["tags"]["managedBy"] == "platform");
  CHECK(p.emu.arm("GET", TestEmulator::gallery_path("rg", "g3") + kV).json()["tags"]["managedBy"] == "platform");
}

TEST_CASE("every condition of the rule language refuses one write and allows another", "[policy]") {
  struct Case {
    const char* name;
    json condition;
    json refused;  // resource group bodies (name in "name")
    json allowed;
  };
  auto rg = [](const char* name, const char* location, json tags = json::object()) {
    return json{{"name", name}, {"location", location}, {"tags", tags}};
  };
  const std::vector<Case> cases = {
      {"equals", {{"field", "name"}, {"equals", "Blocked"}}, rg("blocked", "westus"), rg("open", "westus")},
      {"notEquals", {{"field", "location"}, {"notEquals", "westus"}}, rg("a1", "eastus"), rg("a2", "westus")},
      {"in", {{"field", "location"}, {"in", {"eastus", "eastus2"}}}, rg("b1", "East US 2"), rg("b2", "westus")},
      {"notIn", {{"field", "location"}, {"notIn", {"westus"}}}, rg("c1", "eastus"), rg("c2", "westus")},
      {"like", {{"field", "name"}, {"like", "tmp-*"}}, rg("tmp-1", "westus"), rg("keep-1", "westus")},
      {"notLike", {{"field", "name"}, {"notLike", "prod-*"}}, rg("dev-1", "westus"), rg("prod-1", "westus")},
      {"match", {{"field", "name"}, {"match", "rg-###"}}, rg("rg-123", "westus"), rg("rg-abc", "westus")},
      {"contains", {{"field", "name"}, {"contains", "scratch"}}, rg("my-SCRATCH-rg", "westus"), rg("mine", "westus")},
      {"notContains", {{"field", "name"}, {"notContains", "team"}}, rg("d1", "westus"), rg("team-d2", "westus")},
      {"exists",
       {{"field", "tags['owner']"}, {"exists", false}},
       rg("e1", "westus"),
       rg("e2", "westus", {{"owner", "x"}})},
      {"containsKey",
       {{"field", "tags"}, {"containsKey", "forbidden"}},
       rg("f1", "westus", {{"Forbidden", "1"}}),
       rg("f2", "westus")},
      {"greater",
       {{"field", "tags.tier"}, {"greater", "b"}},
       rg("g1", "westus", {{"tier", "c"}}),
       rg("g2", "westus", {{"tier", "a"}})},
      {"less",
       {{"field", "tags[tier]"}, {"less", "b"}},
       rg("h1", "westus", {{"tier", "a"}}),
       rg("h2", "westus", {{"tier", "c"}})},
      {"allOf",
       {{"allOf", {{{"field", "location"}, {"equals", "eastus"}}, {{"field", "name"}, {"like", "x*"}}}}},
       rg("x1", "eastus"),
       rg("x2", "westus")},
      {"anyOf",
       {{"anyOf", {{{"field", "location"}, {"equals", "eastus"}}, {{"field", "name"}, {"equals", "y1"}}}}},
       rg("y1", "westus"),
       rg("y2", "westus")},
      {"not",
       {{"not", {{"field", "tags['approved']"}, {"equals", "yes"}}}},
       rg("z1", "westus"),
       rg("z2", "westus", {{"approved", "YES"}})},
      {"value",
       {{"value", "[resourceGroup().location]"}, {"equals", "eastus"}},
       rg("v1", "eastus"),
       rg("v2", "westus")},
  };
  Policies p;
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      INFO(c.name);
      const std::string def = std::string("case-") + c.name;
      REQUIRE(p.emu.arm("PUT", definition_path(def), custom_definition(c.condition).dump()).status == 201);
      REQUIRE(p.assign(kSubScope, def,
                       assignment(kSubScope + "/providers/Microsoft.Authorization/policyDefinitions/" + def))
                  .status == 201);
      json refused = c.refused, allowed = c.allowed;
      const std::string refused_name = refused["name"], allowed_name = allowed["name"];
      refused.erase("name");
      allowed.erase("name");
      check_denied(p.put_group(refused_name, refused), def);
      CHECK(p.put_group(allowed_name, allowed).status == 201);
    }
  }
  SECTION("greaterOrEquals and lessOrEquals over a parameter") {
    json def = custom_definition({{"allOf",
                                   {{{"field", "tags.size"}, {"greaterOrEquals", "[parameters('max')]"}},
                                    {{"field", "tags.size"}, {"lessOrEquals", "9"}}}}});
    def["properties"]["parameters"] = {{"max", {{"type", "String"}, {"defaultValue", "5"}}}};
    REQUIRE(p.emu.arm("PUT", definition_path("size"), def.dump()).status == 201);
    REQUIRE(
        p.assign(kSubScope, "size", assignment(kSubScope + "/providers/Microsoft.Authorization/policyDefinitions/size"))
            .status == 201);
    check_denied(p.put_group("s1", {{"location", "westus"}, {"tags", {{"size", "5"}}}}), "size");
    CHECK(p.put_group("s2", {{"location", "westus"}, {"tags", {{"size", "4"}}}}).status == 201);
  }
}

TEST_CASE("gallery property aliases, [*] over arrays and count", "[policy]") {
  Policies p;
  REQUIRE(p.put_gallery("rg", "gal", {{"location", "westus"}}).status == 201);
  auto image = [&](const std::string& name, const std::string& os) {
    json body = {{"location", "westus"},
                 {"properties",
                  {{"osType", os},
                   {"osState", "Generalized"},
                   {"identifier", {{"publisher", "p"}, {"offer", "o"}, {"sku", name}}}}}};
    return p.emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + "/images/" + name + kV, body.dump());
  };
  SECTION("an alias of the image definition's properties") {
    REQUIRE(p.emu
                .arm("PUT", definition_path("linux-only"),
                     custom_definition({{"field", "Microsoft.Compute/galleries/images/osType"}, {"equals", "Windows"}},
                                       "deny", "Indexed")
                         .dump())
                .status == 201);
    REQUIRE(p.assign(kSubScope, "linux-only",
                     assignment(kSubScope + "/providers/Microsoft.Authorization/policyDefinitions/linux-only"))
                .status == 201);
    check_denied(image("win", "Windows"), "linux-only");
    CHECK(image("lin", "Linux").status == 201);
  }
  SECTION("[*]: every member must satisfy the condition; count: how many do") {
    json any_group = {
        {"allOf",
         {{{"field", "type"}, {"equals", "Microsoft.Compute/galleries"}},
          {{"not", {{"field", "Microsoft.Compute/galleries/sharingProfile.permissions"}, {"equals", "Private"}}}}}}};
    REQUIRE(
        p.emu.arm("PUT", definition_path("private"), custom_definition(any_group, "deny", "Indexed").dump()).status ==
        201);
    REQUIRE(p.assign(kSubScope, "private",
                     assignment(kSubScope + "/providers/Microsoft.Authorization/policyDefinitions/private"))
                .status == 201);
    check_denied(
        p.put_gallery("rg", "shared",
                      {{"location", "westus"}, {"properties", {{"sharingProfile", {{"permissions", "Groups"}}}}}}),
        "private");
    CHECK(p.put_gallery("rg", "private",
                        {{"location", "westus"}, {"properties", {{"sharingProfile", {{"permissions", "Private"}}}}}})
              .status == 201);

    // tags as an array of names is not a shape ARM has; use the version's target regions.
    json all_west = {{"not",
                      {{"field", "Microsoft.Compute/galleries/images/versions/publishingProfile.targetRegions[*].name"},
                       {"like", "west*"}}}};
    json two_or_more = {
        {"count", {{"field", "Microsoft.Compute/galleries/images/versions/publishingProfile.targetRegions[*]"}}},
        {"greater", 2}};
    REQUIRE(p.emu.arm("PUT", definition_path("west"), custom_definition(all_west, "deny", "Indexed").dump()).status ==
            201);
    REQUIRE(p.emu.arm("PUT", definition_path("few"), custom_definition(two_or_more, "deny", "Indexed").dump()).status ==
            201);
    REQUIRE(p.emu.arm("DELETE", assignment_path(kSubScope, "private")).status == 200);
    REQUIRE(
        p.assign(kSubScope, "west", assignment(kSubScope + "/providers/Microsoft.Authorization/policyDefinitions/west"))
            .status == 201);
    REQUIRE(
        p.assign(kSubScope, "few", assignment(kSubScope + "/providers/Microsoft.Authorization/policyDefinitions/few"))
            .status == 201);
    REQUIRE(image("lin", "Linux").status == 201);
    auto snap = p.emu.arm(
        "PUT", group("rg") + "/providers/Microsoft.Compute/snapshots/os?api-version=2022-03-02",
        R"({"location":"westus","properties":{"osType":"Linux","creationData":{"createOption":"Empty"},"diskSizeGB":30}})");
    REQUIRE(snap.status == 200);
    auto version = [&](const std::string& v, std::initializer_list<const char*> regions) {
      json targets = json::array();
      for (const char* r : regions) targets.push_back({{"name", r}});
      json body = {{"location", "westus"},
                   {"properties",
                    {{"storageProfile", {{"osDiskImage", {{"source", {{"id", snap.json()["id"]}}}}}}},
                     {"publishingProfile", {{"targetRegions", targets}}}}}};
      return p.emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + "/images/lin/versions/" + v + kV, body.dump());
    };
    check_denied(version("1.0.0", {"westus", "eastus"}), "west");
    check_denied(version("1.0.0", {"westus", "westus2", "westus3"}), "few");
    CHECK(version("1.0.0", {"westus", "West US 2"}).status < 300);
  }
}

TEST_CASE("policies are seedable: the organisation restricts gallery usage", "[policy][seed]") {
  TestEmulator emu(
      test_options([](acg::api::AppOptions& o) { o.seed_file = std::string(ACG_SEEDS_DIR) + "/governance.json"; }));
  auto governed = [&](const std::string& path, const json& body) {
    return emu.arm(
        "PUT", "/subscriptions/" + kSub + "/resourceGroups/governed/providers/Microsoft.Compute/galleries/" + path + kV,
        body.dump());
  };
  // Community sharing is refused; private galleries are fine.
  check_denied(governed("public", {{"location", "westus"},
                                   {"properties",
                                    {{"sharingProfile",
                                      {{"permissions", "Community"},
                                       {"communityGalleryInfo",
                                        {{"publisherUri", "https://contoso.example"},
                                         {"publisherContact", "a@contoso.example"},
                                         {"eula", "eula"},
                                         {"publicNamePrefix", "contoso"}}}}}}}}),
               "deny-community-galleries");
  REQUIRE(governed("OrgGallery2", {{"location", "westus"}}).status == 201);
  // Image definitions need an owner tag.
  json image = {{"location", "westus"},
                {"properties",
                 {{"osType", "Linux"},
                  {"osState", "Generalized"},
                  {"identifier", {{"publisher", "p"}, {"offer", "o"}, {"sku", "s"}}}}}};
  check_denied(governed("OrgGallery2/images/untagged", image), "require-owner-on-images");
  image["tags"] = {{"owner", "platform-team"}};
  CHECK(governed("OrgGallery2/images/tagged", image).status == 201);
  // Galleries only in the approved regions.
  check_denied(governed("far", {{"location", "japaneast"}}), "approved-regions");

  // A snapshot carries the definitions and assignments to another emulator.
  auto snapshot = emu.http().request("GET", "/_emulator/snapshot");
  REQUIRE(snapshot.status == 200);
  TestEmulator copy;
  auto loaded = copy.http().request("POST", "/_emulator/seed", snapshot.body, {{"Content-Type", "application/json"}});
  INFO(loaded.body);
  REQUIRE(loaded.status == 200);
  auto far = copy.arm(
      "PUT", "/subscriptions/" + kSub + "/resourceGroups/governed/providers/Microsoft.Compute/galleries/far" + kV,
      R"({"location":"japaneast"})");
  check_denied(far, "approved-regions");
}

TEST_CASE("a template deployment meets the same policies: the denied resource fails it", "[policy][deployment]") {
  Policies p;
  REQUIRE(p.assign(kSubScope, "west-only",
                   assignment(kBuiltin + kAllowedLocations, values({{"listOfAllowedLocations", {"westus"}}})))
              .status == 201);
  auto deploy = [&](const std::string& name, const std::string& location) {
    json tmpl = {{"$schema", "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"},
                 {"contentVersion", "1.0.0.0"},
                 {"resources",
                  {{{"type", "Microsoft.Compute/galleries"},
                    {"apiVersion", "2022-03-03"},
                    {"name", name},
                    {"location", location}}}}};
    json body = {{"properties", {{"mode", "Incremental"}, {"template", tmpl}}}};
    auto started =
        p.emu.arm("PUT", group("rg") + "/providers/Microsoft.Resources/deployments/" + name + kRg, body.dump());
    REQUIRE(started.status == 201);
    auto done = poll_until_done(p.emu.http(), started.header("Azure-AsyncOperation"), p.emu.token());
    REQUIRE(done.status == 200);
    return p.emu.arm("GET", group("rg") + "/providers/Microsoft.Resources/deployments/" + name + kRg)
        .json()["properties"];
  };
  const json failed = deploy("eastgal", "eastus");
  CHECK(failed["provisioningState"] == "Failed");
  REQUIRE(failed["error"]["details"].size() == 1);
  CHECK(failed["error"]["details"][0]["code"] == "RequestDisallowedByPolicy");
  CHECK(p.emu.arm("GET", TestEmulator::gallery_path("rg", "eastgal") + kV).status == 404);
  CHECK(deploy("westgal", "westus")["provisioningState"] == "Succeeded");
}

TEST_CASE("writing policy needs Microsoft.Authorization write: a Contributor is refused, the Owner allowed",
          "[policy][rbac]") {
  Policies p;
  auto added = p.emu.http().request("POST", "/_emulator/principals",
                                    json{{"clientId", "c0000000-0000-0000-0000-0000000000aa"},
                                         {"secret", "contributor-secret"},
                                         {"roles", {{{"role", "Contributor"}, {"scope", kSubScope}}}}}
                                        .dump(),
                                    {{"Content-Type", "application/json"}});
  REQUIRE(added.status == 201);
  const std::string token = p.emu.token("c0000000-0000-0000-0000-0000000000aa", "contributor-secret");
  const json body = assignment(kBuiltin + kRequireTag, values({{"tagName", "owner"}}));
  auto refused = p.emu.http().request("PUT", assignment_path(kSubScope, "tags"), body.dump(),
                                      {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  CHECK(refused.status == 403);
  CHECK(refused.json()["error"]["code"] == "AuthorizationFailed");
  CHECK(refused.json()["error"]["message"].get<std::string>().find("Microsoft.Authorization/policyAssignments/write") !=
        std::string::npos);
  // Reading the built-ins needs no role; the Owner writes.
  auto read = p.emu.http().request("GET", kBuiltin + kRequireTag + kP, "", {{"Authorization", "Bearer " + token}});
  CHECK(read.status == 200);
  CHECK(p.assign(kSubScope, "tags", body).status == 201);
}
