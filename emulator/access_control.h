#pragma once
// Azure RBAC as ARM applies it to every request: a request is an action on a scope
// (rbac_target), a principal may perform it when one of its role assignments at that scope or
// above names a role whose actions match it and whose notActions do not (decide).
//
//   scope:   /subscriptions/S[/resourceGroups/G[/providers/Ns/type/name[/sub/name]...]]
//   action:  "Microsoft.Compute/galleries/images/versions/write", ".../share/action", ...
//   pattern: "*", "*/read", "Microsoft.Compute/galleries/*" (case-insensitive, '*' any run)
//
// Assignments inherit downward: one at a resource group covers every resource in it.
// Everything here is pure: the core keeps the assignments and custom roles (emulator.h).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/arm_error.h"

namespace acg {

struct RoleDefinition {
  std::string name;         // the GUID: "acdd72a7-3385-48ef-bd42-f606fba81ae7"
  std::string role_name;    // "Reader"
  std::string description;
  std::string role_type;    // "BuiltInRole" | "CustomRole"
  std::vector<std::string> actions;
  std::vector<std::string> not_actions;
  std::vector<std::string> assignable_scopes;  // "/" for built-ins
};

// Owner, Contributor, Reader, the Compute Gallery roles with their real ids and permissions,
// and this product's "Shared Image Gallery Reader" (Azure's equivalent: Compute Gallery
// Image Reader).
const std::vector<RoleDefinition>& builtin_roles();
const RoleDefinition* find_builtin_role(std::string_view name_or_role_name);

inline constexpr std::string_view kOwnerRoleId = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
inline constexpr std::string_view kReaderRoleId = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

struct RoleAssignment {
  std::string id;            // {scope}/providers/Microsoft.Authorization/roleAssignments/{name}
  std::string scope;
  std::string principal_id;  // object id
  std::string role_definition;  // the role's GUID
};

// An ARM request as RBAC sees it.
struct RbacTarget {
  std::string action;
  std::string scope;
  bool list = false;      // a collection GET: items the caller may read are shown
  bool any_role = false;  // subscription metadata: any role at or below the scope may read it
};

// The action and scope of `method path`; nullopt for what RBAC does not govern (tokens,
// metadata, /subscriptions and /tenants lists, emulator endpoints).
std::optional<RbacTarget> rbac_target(std::string_view method, std::string_view path);

// "Microsoft.Compute/galleries/*" matches "microsoft.compute/galleries/images/read".
bool action_matches(std::string_view pattern, std::string_view action);
bool role_permits(const RoleDefinition& role, std::string_view action);
// The assignment scope covers the target scope (equal, or an ancestor on a '/' boundary).
bool scope_covers(std::string_view assignment_scope, std::string_view target_scope);

// A scope without trailing slashes: "/subscriptions/S/" -> "/subscriptions/S".
std::string trim_scope(std::string scope);
// "/subscriptions/S" of a scope or id below a subscription, "" for one that is not.
std::string subscription_scope(const std::string& scope);

// Finds a role by its GUID among the built-ins and `custom`.
const RoleDefinition* find_role(std::string_view name, const std::vector<RoleDefinition>& custom);

// Whether `principal_id` may perform `action` at `scope`.
bool permitted(std::string_view principal_id, std::string_view action, std::string_view scope,
               const std::vector<RoleAssignment>& assignments, const std::vector<RoleDefinition>& custom);

// 403 AuthorizationFailed with the service's message.
ArmError authorization_failed(const std::string& client_id, const std::string& object_id, const std::string& action,
                              const std::string& scope);

}  // namespace acg
