#include "emulator/access_control.h"

#include <cctype>

#include "emulator/text.h"

namespace acg {

namespace {

std::vector<std::string> segments_of(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < parts.size(); ++i) out += "/" + parts[i];
  return out;
}

// read | write | delete for a resource; POST is an action named by the path.
std::string verb_of(std::string_view method) {
  if (iequals(method, "GET") || iequals(method, "HEAD")) return "read";
  if (iequals(method, "DELETE")) return "delete";
  return "write";
}

// The chain below ".../providers/{ns}/": types at even positions, names at odd ones.
// rest = [galleries, g, images, i] -> item "Ns/galleries/images" at the full path;
// rest = [galleries, g, images] -> the collection, read at the gallery;
// POST rest = [galleries, g, share] -> "Ns/galleries/share/action" at the gallery.
RbacTarget provider_target(std::string_view method, const std::string& ns, const std::vector<std::string>& parts,
                           size_t first) {
  std::string type = ns;
  for (size_t i = first; i < parts.size(); i += 2) type += "/" + parts[i];
  const size_t rest = parts.size() - first;
  if (rest % 2 == 1) {  // ends with a type: a collection, or an action on the item before it
    const std::string parent = join(parts, parts.size() - 1);
    if (iequals(method, "POST")) return {type + "/action", parent, false};
    return {type + "/read", parent, true};
  }
  return {type + "/" + verb_of(method), join(parts, parts.size()), false};
}

std::optional<RbacTarget> authorization_target(std::string_view method, const std::vector<std::string>& parts) {
  for (size_t i = 0; i + 2 < parts.size(); ++i) {
    if (!iequals(parts[i], "providers") || !iequals(parts[i + 1], "Microsoft.Authorization")) continue;
    const std::string type = "Microsoft.Authorization/" + parts[i + 2];
    const std::string scope = i == 0 ? "/" : join(parts, i);
    const bool item = parts.size() > i + 3;
    return RbacTarget{type + "/" + verb_of(method), scope, !item && iequals(method, "GET")};
  }
  return std::nullopt;
}

std::optional<RbacTarget> subscription_target(std::string_view method, const std::vector<std::string>& parts) {
  const std::string sub = join(parts, 2);
  if (parts.size() == 2) return RbacTarget{"Microsoft.Resources/subscriptions/read", sub, false, true};
  if (iequals(parts[2], "resourcegroups")) {
    if (parts.size() == 3) return RbacTarget{"Microsoft.Resources/subscriptions/resourceGroups/read", sub, true};
    const std::string group = join(parts, 4);
    if (parts.size() == 4)
      return RbacTarget{"Microsoft.Resources/subscriptions/resourceGroups/" + verb_of(method), group, false};
    if (parts.size() >= 7 && iequals(parts[4], "providers")) return provider_target(method, parts[5], parts, 6);
    return RbacTarget{"Microsoft.Resources/subscriptions/resourceGroups/" + verb_of(method), group, false};
  }
  if (iequals(parts[2], "providers")) {
    if (parts.size() <= 4) return RbacTarget{"Microsoft.Resources/subscriptions/providers/read", sub, false, true};
    if (parts.size() == 5 && iequals(method, "POST")) return RbacTarget{parts[3] + "/" + parts[4] + "/action", sub, false};
    // Subscription-level reads: galleries of the subscription, locations/{l}/... (operation
    // status, shared and community galleries) read at the subscription.
    std::string type = parts[3];
    for (size_t i = 4; i < parts.size(); i += 2) type += "/" + parts[i];
    if (iequals(method, "POST")) return RbacTarget{type + "/action", sub, false};
    return RbacTarget{type + "/" + verb_of(method), sub, parts.size() == 5};
  }
  return RbacTarget{"Microsoft.Resources/subscriptions/" + parts[2] + "/read", sub, false};
}

}  // namespace

std::optional<RbacTarget> rbac_target(std::string_view method, std::string_view path) {
  const std::vector<std::string> parts = segments_of(path);
  // Built-in role definitions at the root are public to every signed-in principal.
  if (parts.size() >= 2 && iequals(parts[0], "providers") && iequals(parts[1], "Microsoft.Authorization") &&
      (iequals(method, "GET") || iequals(method, "HEAD")))
    return std::nullopt;
  if (auto authorization = authorization_target(method, parts)) return authorization;
  if (parts.size() < 2 || !iequals(parts[0], "subscriptions")) return std::nullopt;
  return subscription_target(method, parts);
}

std::string trim_scope(std::string scope) {
  while (scope.size() > 1 && scope.back() == '/') scope.pop_back();
  return scope;
}

std::string subscription_scope(const std::string& scope) {
  if (!istarts_with(scope, "/subscriptions/")) return "";
  const size_t end = scope.find('/', 15);
  return end == std::string::npos ? scope : scope.substr(0, end);
}

bool action_matches(std::string_view pattern, std::string_view action) {
  // Glob with '*' only, case-insensitive; iterative backtracking on the last star.
  size_t p = 0, a = 0, star = std::string_view::npos, mark = 0;
  auto same = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  };
  while (a < action.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = a;
    } else if (p < pattern.size() && same(pattern[p], action[a])) {
      ++p;
      ++a;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      a = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool role_permits(const RoleDefinition& role, std::string_view action) {
  bool allowed = false;
  for (const std::string& pattern : role.actions) allowed |= action_matches(pattern, action);
  if (!allowed) return false;
  for (const std::string& pattern : role.not_actions)
    if (action_matches(pattern, action)) return false;
  return true;
}

bool scope_covers(std::string_view assignment_scope, std::string_view target_scope) {
  if (assignment_scope == "/") return true;
  if (assignment_scope.size() > target_scope.size()) return false;
  if (!iequals(assignment_scope, target_scope.substr(0, assignment_scope.size()))) return false;
  return assignment_scope.size() == target_scope.size() || target_scope[assignment_scope.size()] == '/';
}

const RoleDefinition* find_role(std::string_view name, const std::vector<RoleDefinition>& custom) {
  for (const RoleDefinition& r : builtin_roles())
    if (iequals(r.name, name)) return &r;
  for (const RoleDefinition& r : custom)
    if (iequals(r.name, name)) return &r;
  return nullptr;
}

bool permitted(std::string_view principal_id, std::string_view action, std::string_view scope,
               const std::vector<RoleAssignment>& assignments, const std::vector<RoleDefinition>& custom) {
  for (const RoleAssignment& a : assignments) {
    if (!iequals(a.principal_id, principal_id) || !scope_covers(a.scope, scope)) continue;
    const RoleDefinition* role = find_role(a.role_definition, custom);
    if (role && role_permits(*role, action)) return true;
  }
  return false;
}

ArmError authorization_failed(const std::string& client_id, const std::string& object_id, const std::string& action,
                              const std::string& scope) {
  return ArmError{403, "AuthorizationFailed",
                  "The client '" + client_id + "' with object id '" + object_id +
                      "' does not have authorization to perform action '" + action + "' over scope '" + scope +
                      "' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                  {}, {}};
}

const std::vector<RoleDefinition>& builtin_roles() {
  static const std::vector<RoleDefinition> roles = {
      {"8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner",
       "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
       "BuiltInRole", {"*"}, {}, {"/"}},
      {"b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor",
       "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage "
       "assignments in Azure Blueprints, or share image galleries.",
       "BuiltInRole", {"*"},
       {"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action",
        "Microsoft.Blueprint/blueprintAssignments/write", "Microsoft.Blueprint/blueprintAssignments/delete",
        "Microsoft.Compute/galleries/share/action", "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
        "Microsoft.Resources/deploymentStacks/manageDenySetting/action", "Microsoft.Subscription/cancel/action",
        "Microsoft.Subscription/enable/action"},
       {"/"}},
      {"acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", "View all resources, but does not allow you to make any changes.",
       "BuiltInRole", {"*/read"}, {}, {"/"}},
      {"1ef6a3be-d0ac-425d-8c01-acb62866290b", "Compute Gallery Sharing Admin",
       "This role allows user to share gallery to another subscription/tenant or share it to the public.", "BuiltInRole",
       {"Microsoft.Compute/galleries/share/action"}, {}, {"/"}},
      {"85a2d0d9-2eba-4c9c-b355-11c2cc0788ab", "Compute Gallery Artifacts Publisher",
       "This is the role for publishing gallery artifacts.", "BuiltInRole",
       {"Microsoft.Compute/galleries/*", "Microsoft.Compute/locations/capsOperations/read",
        "Microsoft.Compute/locations/communityGalleries/*", "Microsoft.Compute/locations/sharedGalleries/*",
        "Microsoft.Compute/images/*", "Microsoft.Compute/virtualMachines/write", "Microsoft.Compute/disks/write",
        "Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*",
        "Microsoft.Resources/subscriptions/resourceGroups/read"},
       {"Microsoft.Compute/galleries/share/action"}, {"/"}},
      {"cf7c76d2-98a3-4358-a134-615aa78bf44d", "Compute Gallery Image Reader", "This is the role for reading gallery images.",
       "BuiltInRole", {"Microsoft.Compute/galleries/images/read", "Microsoft.Compute/galleries/images/versions/read"}, {},
       {"/"}},
      // This product's: read-only access to galleries, their images and versions, and what is
      // shared with the subscription. Azure's equivalent is Compute Gallery Image Reader.
      {"5f3e1c9a-7b2d-4e6f-9a8b-0c1d2e3f4a5b", "Shared Image Gallery Reader",
       "Read-only access to gallery images across subscriptions (acg-emulator; Azure's equivalent is Compute Gallery "
       "Image Reader).",
       "BuiltInRole",
       {"Microsoft.Compute/galleries/read", "Microsoft.Compute/galleries/images/read",
        "Microsoft.Compute/galleries/images/versions/read", "Microsoft.Compute/locations/sharedGalleries/*/read",
        "Microsoft.Compute/locations/communityGalleries/*/read"},
       {}, {"/"}},
  };
  return roles;
}

const RoleDefinition* find_builtin_role(std::string_view name_or_role_name) {
  for (const RoleDefinition& r : builtin_roles())
    if (iequals(r.name, name_or_role_name) || iequals(r.role_name, name_or_role_name)) return &r;
  return nullptr;
}

}  // namespace acg
