// RBAC over HTTPS: role assignments through Microsoft.Authorization, every request checked
// against them, lists filtered to what the caller may read; three principals, two tenants,
// two subscriptions.

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kAuthz = "?api-version=2022-04-01";
const std::string kV = "?api-version=2022-03-03";
const std::string kOtherSub = "55555555-0000-0000-0000-000000000002";
const std::string kForeignTenant = "aaaaaaaa-0000-0000-0000-00000000000b";
const std::string kForeignSub = "bbbbbbbb-0000-0000-0000-00000000000b";

struct Who {
  std::string client_id, object_id, secret, tenant;
};
const Who kReader{"a0000000-0000-0000-0000-000000000001", "a1000000-0000-0000-0000-000000000001", "reader-secret", kTenant};
const Who kContributor{"c0000000-0000-0000-0000-000000000001", "c1000000-0000-0000-0000-000000000001", "contrib-secret",
                       kTenant};
const Who kForeign{"f0000000-0000-0000-0000-000000000001", "f1000000-0000-0000-0000-000000000001", "foreign-secret",
                   kForeignTenant};
const std::string kOwnerObjectId = "44444444-4444-4444-4444-444444444444";

std::string write_config() {
  const std::string path = "/tmp/acg-rbac-" + std::to_string(::getpid()) + ".json";
  json principals = json::array();
  for (const Who* w : {&kReader, &kContributor, &kForeign})
    principals.push_back({{"clientId", w->client_id}, {"objectId", w->object_id}, {"secret", w->secret}, {"tenantId", w->tenant}});
  json config = {{"tenants", {{{"id", kForeignTenant}, {"displayName", "Fabrikam"}}}},
                 {"subscriptions", {{{"id", kOtherSub}, {"tenantId", kTenant}}, {{"id", kForeignSub}, {"tenantId", kForeignTenant}}}},
                 {"principals", principals},
                 {"roleAssignments", {{{"clientId", kForeign.client_id}, {"role", "Owner"}, {"scope", "/subscriptions/" + kForeignSub}}}}};
  std::ofstream(path) << config.dump();
  return path;
}

std::string assignment_path(const std::string& scope, const std::string& name) {
  return scope + "/providers/Microsoft.Authorization/roleAssignments/" + name + kAuthz;
}

json assignment_body(const std::string& role_guid, const std::string& principal) {
  return {{"properties",
           {{"roleDefinitionId", "/subscriptions/" + kSub + "/providers/Microsoft.Authorization/roleDefinitions/" + role_guid},
            {"principalId", principal},
            {"principalType", "ServicePrincipal"}}}};
}

const std::string kReaderRole = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const std::string kContributorRole = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const std::string kImageReaderRole = "cf7c76d2-98a3-4358-a134-615aa78bf44d";

struct Rbac {
  std::string config = write_config();
  TestEmulator emu{test_options([this](acg::api::AppOptions& o) { o.config_file = config; })};
  ~Rbac() { std::remove(config.c_str()); }

  ClientResponse as(const Who& who, const std::string& method, const std::string& target, const std::string& body = {}) {
    const std::string token = emu.token(who.client_id, who.secret, who.tenant);
    return emu.http().request(method, target, body, {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  }
  ClientResponse assign(const std::string& scope, const std::string& name, const std::string& role, const std::string& principal) {
    return emu.arm("PUT", assignment_path(scope, name), assignment_body(role, principal).dump());
  }
  void setup_galleries() {
    for (const char* rg : {"rg1", "rg2"}) {
      REQUIRE(emu.arm("PUT", TestEmulator::group_path(rg) + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
      REQUIRE(emu.arm("PUT", TestEmulator::gallery_path(rg, std::string("gal") + rg) + kV, R"({"location":"westus"})").status == 201);
      REQUIRE(emu.arm("PUT", TestEmulator::gallery_path(rg, std::string("gal") + rg) + "/images/linux" + kV,
                      R"({"location":"westus","properties":{"osType":"Linux","osState":"Generalized","identifier":{"publisher":"p","offer":"o","sku":"s"}}})")
                  .status == 201);
    }
  }
};

const std::string kSubScope = "/subscriptions/" + kSub;

}  // namespace

TEST_CASE("a Reader reads but may not publish, with the service's message", "[rbac]") {
  Rbac r;
  r.setup_galleries();
  // Without any role: refused, and the subscription is not listed.
  auto none = r.as(kReader, "GET", TestEmulator::gallery_path("rg1", "galrg1") + kV);
  CHECK(none.status == 403);
  CHECK(none.error_code() == "AuthorizationFailed");
  CHECK(r.as(kReader, "GET", "/subscriptions?api-version=2022-12-01").json()["value"].empty());

  auto assigned = r.assign(kSubScope, "0a000000-0000-0000-0000-000000000001", kReaderRole, kReader.object_id);
  INFO(assigned.body);
  REQUIRE(assigned.status == 201);
  CHECK(assigned.json()["properties"]["scope"] == kSubScope);
  CHECK(assigned.json()["properties"]["createdBy"] == kOwnerObjectId);
  CHECK(r.as(kReader, "GET", "/subscriptions?api-version=2022-12-01").json()["value"].size() == 1);
  CHECK(r.as(kReader, "GET", TestEmulator::gallery_path("rg1", "galrg1") + kV).status == 200);
  CHECK(r.as(kReader, "GET", "/subscriptions/" + kSub + "/providers/Microsoft.Compute/galleries" + kV).json()["value"].size() == 2);

  const std::string version = TestEmulator::gallery_path("rg1", "galrg1") + "/images/linux/versions/1.0.0";
  auto refused = r.as(kReader, "PUT", version + kV, R"({"location":"westus","properties":{}})");
  CHECK(refused.status == 403);
  CHECK(refused.error_code() == "AuthorizationFailed");
  CHECK(refused.json()["error"]["message"] ==
        "The client '" + kReader.client_id + "' with object id '" + kReader.object_id +
            "' does not have authorization to perform action 'Microsoft.Compute/galleries/images/versions/write' over "
            "scope '" + version + "' or the scope is invalid. If access was recently granted, please refresh your credentials.");
  CHECK(r.as(kReader, "DELETE", TestEmulator::gallery_path("rg1", "galrg1") + kV).status == 403);
  CHECK(r.as(kReader, "POST", TestEmulator::gallery_path("rg1", "galrg1") + "/share" + kV, R"({"operationType":"Reset"})")
            .json()["error"]["message"].get<std::string>().find("'Microsoft.Compute/galleries/share/action'") != std::string::npos);
}

TEST_CASE("a resource-group Contributor publishes there, sees only that, and may not share or assign roles", "[rbac]") {
  Rbac r;
  r.setup_galleries();
  REQUIRE(r.assign(TestEmulator::group_path("rg1"), "0b000000-0000-0000-0000-000000000001", kContributorRole,
                   kContributor.object_id).status == 201);
  CHECK(r.as(kContributor, "PUT", TestEmulator::gallery_path("rg1", "mine") + kV, R"({"location":"westus"})").status == 201);
  CHECK(r.as(kContributor, "PUT", TestEmulator::gallery_path("rg2", "theirs") + kV, R"({"location":"westus"})").status == 403);
  // Lists show what it may read: rg1's galleries, not rg2's; only rg1 among the groups.
  auto galleries = r.as(kContributor, "GET", "/subscriptions/" + kSub + "/providers/Microsoft.Compute/galleries" + kV);
  REQUIRE(galleries.status == 200);
  CHECK(galleries.json()["value"].size() == 2);
  const json listed = galleries.json();  // kept alive: the loop reads into it
  for (const json& g : listed["value"]) CHECK(g["id"].get<std::string>().find("/resourceGroups/rg1/") != std::string::npos);
  auto groups = r.as(kContributor, "GET", "/subscriptions/" + kSub + "/resourcegroups?api-version=2021-04-01");
  REQUIRE(groups.status == 200);
  REQUIRE(groups.json()["value"].size() == 1);
  CHECK(groups.json()["value"][0]["name"] == "rg1");
  CHECK(r.as(kContributor, "GET", "/subscriptions/" + kSub + "?api-version=2022-12-01").status == 200);

  auto share = r.as(kContributor, "POST", TestEmulator::gallery_path("rg1", "mine") + "/share" + kV, R"({"operationType":"Reset"})");
  CHECK(share.status == 403);
  auto grant = r.as(kContributor, "PUT",
                    assignment_path(TestEmulator::group_path("rg1"), "0b000000-0000-0000-0000-000000000002"),
                    assignment_body(kReaderRole, kReader.object_id).dump());
  CHECK(grant.status == 403);
  CHECK(grant.json()["error"]["message"].get<std::string>().find("Microsoft.Authorization/roleAssignments/write") !=
        std::string::npos);
}

TEST_CASE("assignments inherit downward from the scope they are made at", "[rbac]") {
  Rbac r;
  r.setup_galleries();
  const std::string image = TestEmulator::gallery_path("rg1", "galrg1") + "/images/linux";
  REQUIRE(r.assign(TestEmulator::gallery_path("rg1", "galrg1"), "0c000000-0000-0000-0000-000000000001", kImageReaderRole,
                   kReader.object_id).status == 201);
  CHECK(r.as(kReader, "GET", image + kV).status == 200);
  CHECK(r.as(kReader, "GET", TestEmulator::gallery_path("rg1", "galrg1") + "/images" + kV).json()["value"].size() == 1);
  CHECK(r.as(kReader, "GET", TestEmulator::gallery_path("rg2", "galrg2") + "/images/linux" + kV).status == 403);
  // Compute Gallery Image Reader reads images, not the gallery itself.
  CHECK(r.as(kReader, "GET", TestEmulator::gallery_path("rg1", "galrg1") + kV).status == 403);

  // Deleting the scope deletes what was assigned at it.
  REQUIRE(r.emu.arm("DELETE", image + kV).status / 100 == 2);
  REQUIRE(r.emu.arm("DELETE", TestEmulator::gallery_path("rg1", "galrg1") + kV).status / 100 == 2);
  CHECK(r.emu.arm("GET", assignment_path(TestEmulator::gallery_path("rg1", "galrg1"), "0c000000-0000-0000-0000-000000000001"))
            .status == 404);
}

TEST_CASE("role assignment and definition API: filters, refusals, custom roles", "[rbac]") {
  Rbac r;
  r.setup_galleries();
  const std::string rg1 = TestEmulator::group_path("rg1");
  REQUIRE(r.assign(rg1, "0d000000-0000-0000-0000-000000000001", kReaderRole, kReader.object_id).status == 201);
  CHECK(r.assign(rg1, "0d000000-0000-0000-0000-000000000001", kReaderRole, kReader.object_id).status == 200);
  auto dup = r.assign(rg1, "0d000000-0000-0000-0000-000000000002", kReaderRole, kReader.object_id);
  CHECK(dup.status == 409);
  CHECK(dup.error_code() == "RoleAssignmentExists");
  CHECK(r.assign(rg1, "not-a-guid", kReaderRole, kReader.object_id).error_code() == "InvalidRoleAssignmentId");
  CHECK(r.assign(rg1, "0d000000-0000-0000-0000-000000000003", "00000000-0000-0000-0000-00000000dead", kReader.object_id)
            .error_code() == "RoleDefinitionDoesNotExist");
  auto foreign = r.assign(rg1, "0d000000-0000-0000-0000-000000000004", kReaderRole, kForeign.object_id);
  CHECK(foreign.status == 400);
  CHECK(foreign.json()["error"]["message"].get<std::string>().find("cross-tenant") != std::string::npos);
  CHECK(r.assign(TestEmulator::group_path("nope"), "0d000000-0000-0000-0000-000000000005", kReaderRole, kReader.object_id)
            .error_code() == "ResourceGroupNotFound");

  // atScope(): at the scope and above (the bootstrap Owner at the subscription, the Reader at rg1).
  auto at_scope = r.emu.arm("GET", rg1 + "/providers/Microsoft.Authorization/roleAssignments" + kAuthz + "&$filter=atScope()");
  REQUIRE(at_scope.status == 200);
  CHECK(at_scope.json()["value"].size() == 2);
  auto at_sub = r.emu.arm("GET", kSubScope + "/providers/Microsoft.Authorization/roleAssignments" + kAuthz + "&$filter=atScope()");
  CHECK(at_sub.json()["value"].size() == 1);  // rg1's is below
  auto by_principal = r.emu.arm("GET", kSubScope + "/providers/Microsoft.Authorization/roleAssignments" + kAuthz +
                                           "&$filter=principalId%20eq%20'" + kReader.object_id + "'");
  REQUIRE(by_principal.json()["value"].size() == 1);
  CHECK(by_principal.json()["value"][0]["properties"]["scope"] == rg1);

  auto reader = r.emu.arm("GET", kSubScope + "/providers/Microsoft.Authorization/roleDefinitions" + kAuthz +
                                     "&$filter=roleName%20eq%20'Reader'");
  REQUIRE(reader.json()["value"].size() == 1);
  CHECK(reader.json()["value"][0]["name"] == kReaderRole);
  CHECK(reader.json()["value"][0]["properties"]["permissions"][0]["actions"][0] == "*/read");
  CHECK(r.emu.arm("GET", "/providers/Microsoft.Authorization/roleDefinitions/1ef6a3be-d0ac-425d-8c01-acb62866290b" + kAuthz)
            .json()["properties"]["roleName"] == "Compute Gallery Sharing Admin");

  // A custom role: gallery reads only.
  const std::string custom = "0e000000-0000-0000-0000-000000000001";
  json role = {{"properties",
                {{"roleName", "Gallery Peeker"},
                 {"description", "reads galleries"},
                 {"assignableScopes", {kSubScope}},
                 {"permissions", {{{"actions", {"Microsoft.Compute/galleries/read"}}, {"notActions", json::array()}}}}}}};
  REQUIRE(r.emu.arm("PUT", kSubScope + "/providers/Microsoft.Authorization/roleDefinitions/" + custom + kAuthz, role.dump()).status == 201);
  REQUIRE(r.assign(kSubScope, "0d000000-0000-0000-0000-000000000006", custom, kContributor.object_id).status == 201);
  CHECK(r.as(kContributor, "GET", TestEmulator::gallery_path("rg2", "galrg2") + kV).status == 200);
  CHECK(r.as(kContributor, "GET", TestEmulator::gallery_path("rg2", "galrg2") + "/images/linux" + kV).status == 403);
  CHECK(r.emu.arm("DELETE", kSubScope + "/providers/Microsoft.Authorization/roleDefinitions/" + custom + kAuthz).error_code() ==
        "RoleDefinitionHasAssignments");

  // Delete: 200 with the assignment, then 204; the principal loses access at once.
  CHECK(r.emu.arm("DELETE", assignment_path(kSubScope, "0d000000-0000-0000-0000-000000000006")).status == 200);
  CHECK(r.emu.arm("DELETE", assignment_path(kSubScope, "0d000000-0000-0000-0000-000000000006")).status == 204);
  CHECK(r.as(kContributor, "GET", TestEmulator::gallery_path("rg2", "galrg2") + kV).status == 403);
}

TEST_CASE("another tenant's principal is refused whatever its assignments; reset keeps the bootstrap owner", "[rbac]") {
  Rbac r;
  r.setup_galleries();
  // Owner of its own subscription (config), refused on ours: its token is for its tenant.
  CHECK(r.as(kForeign, "GET", "/subscriptions/" + kForeignSub + "/resourcegroups?api-version=2021-04-01").status == 200);
  auto refused = r.as(kForeign, "GET", TestEmulator::gallery_path("rg1", "galrg1") + kV);
  CHECK(refused.status == 401);
  CHECK(refused.error_code() == "InvalidAuthenticationTokenTenant");
  // The second subscription of our tenant: nobody but its assignees.
  CHECK(r.emu.arm("GET", "/subscriptions/" + kOtherSub + "/resourcegroups?api-version=2021-04-01").status == 403);

  REQUIRE(r.emu.http().request("POST", "/_emulator/reset").status == 200);
  CHECK(r.emu.arm("PUT", TestEmulator::group_path("again") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
}

TEST_CASE("identities added at run time: principals, users, subscriptions; they persist", "[rbac][identities]") {
  const std::string dir = "/tmp/acg-identities-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  auto on_disk = test_options([&](acg::api::AppOptions& o) {
    o.in_memory = false;
    o.data_dir = dir;
  });
  std::string user_object;
  {
    TestEmulator emu(on_disk);
    auto added = emu.http().request("POST", "/_emulator/identities", json{
        {"subscriptions", {{{"id", kOtherSub}, {"displayName", "Lab"}}}},
        {"principals", {{{"kind", "User"}, {"userName", "alice@emulator.onmicrosoft.com"}, {"password", "alice-password"},
                         {"roles", {{{"role", "Reader"}, {"scope", "/subscriptions/" + kOtherSub}}}}}}}}.dump(),
        {{"Content-Type", "application/json"}});
    INFO(added.body);
    REQUIRE(added.status == 201);
    user_object = added.json()["principals"][0]["objectId"];
    CHECK(added.json()["principals"][0]["roleAssignments"].size() == 1);
    // A service principal with a generated id and secret.
    auto sp = emu.http().request("POST", "/_emulator/principals", R"({"displayName":"ci"})", {{"Content-Type", "application/json"}});
    REQUIRE(sp.status == 201);
    CHECK(sp.json()["secret"].get<std::string>().size() >= 8);
    CHECK(emu.http().request("GET", "/_emulator/principals").json()["value"].size() == 3);
    CHECK(emu.http().request("GET", "/_emulator/principals").body.find("alice-password") == std::string::npos);
    auto bad = emu.http().request("POST", "/_emulator/principals", R"({"tenantId":"nope"})", {{"Content-Type", "application/json"}});
    CHECK(bad.status == 400);
  }
  TestEmulator emu(on_disk);  // restarted: the additions are back
  auto token = emu.http().request("POST", "/" + kTenant + "/oauth2/v2.0/token",
                                  "grant_type=password&client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46&username=alice%40emulator.onmicrosoft.com"
                                  "&password=alice-password&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
                                  {{"Content-Type", "application/x-www-form-urlencoded"}});
  INFO(token.body);
  REQUIRE(token.status == 200);
  const Headers auth = {{"Authorization", "Bearer " + token.json()["access_token"].get<std::string>()}};
  auto subs = emu.http().request("GET", "/subscriptions?api-version=2022-12-01", "", auth).json()["value"];
  REQUIRE(subs.size() == 1);
  CHECK(subs[0]["subscriptionId"] == kOtherSub);
  auto refused = emu.http().request("PUT", "/subscriptions/" + kOtherSub + "/resourcegroups/rg?api-version=2021-04-01",
                                    R"({"location":"westus"})", auth);
  CHECK(refused.status == 403);
  CHECK(refused.json()["error"]["message"].get<std::string>().find("The client 'alice@emulator.onmicrosoft.com' with object id '" +
                                                                     user_object + "'") == 0);
  auto wrong = emu.http().request("POST", "/" + kTenant + "/oauth2/v2.0/token",
                                  "grant_type=password&username=alice%40emulator.onmicrosoft.com&password=nope",
                                  {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(wrong.status == 400);
  CHECK(wrong.json()["error"] == "invalid_grant");
  std::filesystem::remove_all(dir);
}

TEST_CASE("private endpoint emulation: a gallery answers only its allowed address ranges", "[rbac][network]") {
  Rbac r;
  r.setup_galleries();
  const std::string gallery = TestEmulator::gallery_path("rg1", "galrg1");
  auto rule = [&](const json& ranges) {
    return r.emu.http().request("PUT", "/_emulator/network-rules", json{{"galleryId", gallery}, {"allowedAddressRanges", ranges}}.dump(),
                                {{"Content-Type", "application/json"}});
  };
  // Only the "VNet" 127.0.0.2 may call: this client connects from 127.0.0.1.
  REQUIRE(rule({"127.0.0.2/32"}).status == 200);
  auto refused = r.emu.arm("GET", gallery + "/images/linux" + kV);
  CHECK(refused.status == 403);
  CHECK(refused.error_code() == "ForbiddenByNetworkRule");
  CHECK(refused.json()["error"]["message"].get<std::string>().find("127.0.0.2/32") != std::string::npos);
  CHECK(r.emu.arm("GET", TestEmulator::gallery_path("rg2", "galrg2") + kV).status == 200);  // other galleries are open
  REQUIRE(rule({"127.0.0.0/8"}).status == 200);
  CHECK(r.emu.arm("GET", gallery + "/images/linux" + kV).status == 200);
  CHECK(r.emu.http().request("GET", "/_emulator/network-rules").json()["value"][0]["allowedAddressRanges"][0] == "127.0.0.0/8");
  CHECK(rule({"not-an-address"}).status == 400);
  REQUIRE(rule({"10.0.0.0/8"}).status == 200);
  CHECK(r.emu.arm("DELETE", gallery + "/images/linux" + kV).status == 403);
  REQUIRE(rule(json::array()).status == 200);  // lifted
  CHECK(r.emu.arm("GET", gallery + "/images/linux" + kV).status == 200);
}
