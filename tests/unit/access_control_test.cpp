// The authorization decision without HTTP: request → (action, scope), patterns, roles,
// inheritance.

#include <catch2/catch.hpp>

#include "emulator/access_control.h"

using namespace acg;

namespace {

const std::string kSub = "/subscriptions/22222222-2222-2222-2222-222222222222";
const std::string kGallery = kSub + "/resourceGroups/rg/providers/Microsoft.Compute/galleries/g";

RbacTarget target(const char* method, const std::string& path) {
  auto t = rbac_target(method, path);
  REQUIRE(t);
  return *t;
}

}  // namespace

TEST_CASE("every ARM request maps to an action at a scope", "[rbac]") {
  auto version = target("PUT", kGallery + "/images/d/versions/1.0.0");
  CHECK(version.action == "Microsoft.Compute/galleries/images/versions/write");
  CHECK(version.scope == kGallery + "/images/d/versions/1.0.0");
  CHECK(target("GET", kGallery).action == "Microsoft.Compute/galleries/read");
  CHECK(target("DELETE", kGallery).action == "Microsoft.Compute/galleries/delete");
  CHECK(target("PATCH", kGallery + "/images/d").action == "Microsoft.Compute/galleries/images/write");
  auto list = target("GET", kGallery + "/images");
  CHECK(list.action == "Microsoft.Compute/galleries/images/read");
  CHECK(list.scope == kGallery);
  CHECK(list.list);
  auto share = target("POST", kGallery + "/share");
  CHECK(share.action == "Microsoft.Compute/galleries/share/action");
  CHECK(share.scope == kGallery);
  CHECK(target("POST", kSub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/generalize").action ==
        "Microsoft.Compute/virtualMachines/generalize/action");
  CHECK(target("PUT", kSub + "/resourcegroups/rg").action == "Microsoft.Resources/subscriptions/resourceGroups/write");
  CHECK(target("HEAD", kSub + "/resourcegroups/rg").action == "Microsoft.Resources/subscriptions/resourceGroups/read");
  CHECK(target("GET", kSub + "/resourcegroups").list);
  auto by_sub = target("GET", kSub + "/providers/Microsoft.Compute/galleries");
  CHECK(by_sub.action == "Microsoft.Compute/galleries/read");
  CHECK(by_sub.scope == kSub);
  CHECK(target("GET", kSub + "/providers/Microsoft.Compute/locations/westus/capsOperations/x").action ==
        "Microsoft.Compute/locations/capsOperations/read");
  CHECK(target("GET", kSub + "/providers/Microsoft.Compute/locations/westus/sharedGalleries/u/images").action ==
        "Microsoft.Compute/locations/sharedGalleries/images/read");
  CHECK(target("POST", kSub + "/providers/Microsoft.Compute/register").action == "Microsoft.Compute/register/action");
  CHECK(target("GET", kSub).any_role);
  auto assignment = target("PUT", kGallery + "/providers/Microsoft.Authorization/roleAssignments/x");
  CHECK(assignment.action == "Microsoft.Authorization/roleAssignments/write");
  CHECK(assignment.scope == kGallery);
  CHECK_FALSE(rbac_target("GET", "/subscriptions"));
  CHECK_FALSE(rbac_target("GET", "/tenants"));
  CHECK_FALSE(rbac_target("GET", "/providers/Microsoft.Authorization/roleDefinitions/x"));
}

TEST_CASE("action patterns: wildcards, case-insensitive", "[rbac]") {
  CHECK(action_matches("*", "Microsoft.Compute/galleries/read"));
  CHECK(action_matches("*/read", "microsoft.compute/galleries/images/read"));
  CHECK_FALSE(action_matches("*/read", "Microsoft.Compute/galleries/write"));
  CHECK(action_matches("Microsoft.Compute/galleries/*", "Microsoft.Compute/galleries/images/versions/write"));
  CHECK_FALSE(action_matches("Microsoft.Compute/galleries/*", "Microsoft.Compute/images/write"));
  CHECK(action_matches("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write"));
  CHECK_FALSE(action_matches("Microsoft.Compute/galleries/read", "Microsoft.Compute/galleries/readx"));
}

TEST_CASE("roles: actions minus notActions", "[rbac]") {
  const RoleDefinition* contributor = find_builtin_role("Contributor");
  REQUIRE(contributor);
  CHECK(contributor->name == "b24988ac-6180-42a0-ab88-20f7382dd24c");
  CHECK(role_permits(*contributor, "Microsoft.Compute/galleries/images/versions/write"));
  CHECK_FALSE(role_permits(*contributor, "Microsoft.Compute/galleries/share/action"));
  CHECK_FALSE(role_permits(*contributor, "Microsoft.Authorization/roleAssignments/write"));
  CHECK(role_permits(*find_builtin_role("Owner"), "Microsoft.Authorization/roleAssignments/write"));
  CHECK(role_permits(*find_builtin_role("Compute Gallery Sharing Admin"), "Microsoft.Compute/galleries/share/action"));
  CHECK_FALSE(role_permits(*find_builtin_role("Compute Gallery Sharing Admin"), "Microsoft.Compute/galleries/read"));
  const RoleDefinition* publisher = find_builtin_role("85a2d0d9-2eba-4c9c-b355-11c2cc0788ab");
  REQUIRE(publisher);
  CHECK(role_permits(*publisher, "Microsoft.Compute/galleries/images/versions/write"));
  CHECK_FALSE(role_permits(*publisher, "Microsoft.Compute/galleries/share/action"));
  CHECK(role_permits(*find_builtin_role("Compute Gallery Image Reader"), "Microsoft.Compute/galleries/images/versions/read"));
  CHECK(role_permits(*find_builtin_role("Shared Image Gallery Reader"), "Microsoft.Compute/locations/sharedGalleries/images/read"));
  CHECK_FALSE(role_permits(*find_builtin_role("Reader"), "Microsoft.Compute/galleries/write"));
}

TEST_CASE("assignments inherit downward, per principal", "[rbac]") {
  CHECK(scope_covers(kSub, kGallery));
  CHECK(scope_covers(kGallery, kGallery));
  CHECK_FALSE(scope_covers(kGallery, kSub));
  CHECK_FALSE(scope_covers(kSub + "/resourceGroups/rg", kSub + "/resourceGroups/rg2"));  // a '/' boundary
  CHECK(scope_covers("/", kSub));
  const std::vector<RoleAssignment> assignments = {
      {"a1", kSub + "/resourceGroups/rg", "p1", "acdd72a7-3385-48ef-bd42-f606fba81ae7"},
      {"a2", kGallery + "/images/d", "p2", "b24988ac-6180-42a0-ab88-20f7382dd24c"}};
  CHECK(permitted("p1", "Microsoft.Compute/galleries/read", kGallery, assignments, {}));
  CHECK_FALSE(permitted("p1", "Microsoft.Compute/galleries/write", kGallery, assignments, {}));
  CHECK_FALSE(permitted("p2", "Microsoft.Compute/galleries/read", kGallery, assignments, {}));
  CHECK(permitted("p2", "Microsoft.Compute/galleries/images/versions/write", kGallery + "/images/d/versions/1.0.0",
                  assignments, {}));
  const std::vector<RoleDefinition> custom = {{"c1", "Peeker", "", "CustomRole", {"Microsoft.Compute/*/read"}, {}, {"/"}}};
  const std::vector<RoleAssignment> with_custom = {{"a3", kSub, "p3", "c1"}};
  CHECK(permitted("p3", "Microsoft.Compute/galleries/read", kGallery, with_custom, custom));
  CHECK_FALSE(permitted("p3", "Microsoft.Compute/galleries/read", kGallery, with_custom, {}));  // unknown role
}
