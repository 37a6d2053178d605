// Microsoft.Authorization: role assignments and role definitions at any scope, and the
// authorization decision every ARM request goes through (emulator/access_control.h).

#include "emulator/emulator.h"
#include "emulator/image_builder.h"
#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kAssignmentType = "Microsoft.Authorization/roleAssignments";
constexpr const char* kDefinitionType = "Microsoft.Authorization/roleDefinitions";

std::string definition_id(const std::string& scope, const std::string& name) {
  return subscription_scope(scope) + "/providers/Microsoft.Authorization/roleDefinitions/" + name;
}

// The GUID at the end of ".../roleDefinitions/{guid}" (or a bare GUID).
std::string role_guid(const std::string& role_definition_id) {
  const size_t slash = role_definition_id.rfind('/');
  return slash == std::string::npos ? role_definition_id : role_definition_id.substr(slash + 1);
}

bool is_identity_principal(storage::Store& store, const std::string& sub, const std::string& principal_id) {
  auto rows = store.list_in_scope("/subscriptions/" + sub, kUserAssignedIdentityType, 0, 1 << 30);
  if (!rows.ok()) return false;
  for (const auto& row : rows.value().rows) {
    json body = json::parse(row.body, nullptr, false);
    if (!body.is_discarded() && iequals(body.value("/properties/principalId"_json_pointer, std::string()), principal_id))
      return true;
  }
  return false;
}

json definition_json(const RoleDefinition& r, const std::string& scope) {
  return {{"id", definition_id(scope, r.name)},
          {"name", r.name},
          {"type", kDefinitionType},
          {"properties",
           {{"roleName", r.role_name},
            {"type", r.role_type},
            {"description", r.description},
            {"assignableScopes", r.assignable_scopes},
            {"permissions",
             json::array({{{"actions", r.actions},
                           {"notActions", r.not_actions},
                           {"dataActions", json::array()},
                           {"notDataActions", json::array()}}})}}}};
}

RoleDefinition definition_of(const json& stored) {
  const json& p = stored["properties"];
  RoleDefinition r{stored.value("name", ""), p.value("roleName", ""), p.value("description", ""), "CustomRole", {}, {}, {}};
  for (const json& perm : p.value("permissions", json::array())) {
    for (const json& a : perm.value("actions", json::array())) r.actions.push_back(a);
    for (const json& a : perm.value("notActions", json::array())) r.not_actions.push_back(a);
  }
  for (const json& s : p.value("assignableScopes", json::array())) r.assignable_scopes.push_back(s);
  return r;
}

ArmError assignment_bad_request(const std::string& code, const std::string& message) {
  return ArmError{400, code, message, {}, {}};
}

}  // namespace

void Emulator::refresh_access_locked() {
  if (access_generation_ == generation_) return;
  assignments_.clear();
  custom_roles_.clear();
  auto rows = store_->list_in_scope("", kAssignmentType, 0, 1 << 30);
  if (rows.ok())
    for (const auto& row : rows.value().rows) {
      json a = json::parse(row.body, nullptr, false);
      if (a.is_discarded()) continue;
      const json& p = a["properties"];
      assignments_.push_back({a.value("id", ""), p.value("scope", ""), p.value("principalId", ""),
                              role_guid(p.value("roleDefinitionId", ""))});
    }
  auto roles = store_->list_in_scope("", kDefinitionType, 0, 1 << 30);
  if (roles.ok())
    for (const auto& row : roles.value().rows) {
      json r = json::parse(row.body, nullptr, false);
      if (!r.is_discarded()) custom_roles_.push_back(definition_of(r));
    }
  access_generation_ = generation_;
}

// The default principal owns the default subscription; the config's assignments are made.
// Deterministic names make this idempotent across restarts and resets.
Status Emulator::ensure_initial_assignments_locked() {
  std::vector<EmulatorSettings::InitialAssignment> wanted = settings_.initial_assignments;
  const Principal& bootstrap = identities_.default_principal();
  const Subscription* home = identities_.find_subscription(kDefaultSubscriptionId);
  if (home) wanted.insert(wanted.begin(), {bootstrap.object_id, std::string(kOwnerRoleId), "/subscriptions/" + home->id});
  if (auto st = store_->begin(); !st.ok()) return internal_error(st.error().message);
  for (const auto& a : wanted) {
    const std::string name = derived_guid(to_lower(a.scope + "|" + a.principal_id + "|" + a.role));
    const std::string id = a.scope + "/providers/Microsoft.Authorization/roleAssignments/" + name;
    auto existing = store_->get(id);
    if (!existing.ok()) {
      store_->rollback();
      return internal_error(existing.error().message);
    }
    if (existing.value()) continue;
    const Principal* principal = identities_.find_principal_by_object_id(a.principal_id);
    json body = {{"id", id},
                 {"name", name},
                 {"type", kAssignmentType},
                 {"properties",
                  {{"roleDefinitionId", definition_id(a.scope, a.role)},
                   {"principalId", a.principal_id},
                   {"principalType", principal ? "ServicePrincipal" : "User"},
                   {"scope", a.scope},
                   {"createdOn", format_arm_time(clock_.now_ms())},
                   {"updatedOn", format_arm_time(clock_.now_ms())}}}};
    if (auto st = store_->put({id, kAssignmentType, a.scope, name, body.dump(), 0}); !st.ok()) {
      store_->rollback();
      return internal_error(st.error().message);
    }
  }
  if (auto st = store_->commit(); !st.ok()) {
    store_->rollback();
    return internal_error(st.error().message);
  }
  ++generation_;
  return ok_status();
}

// A scope is a subscription, a resource group or a resource that exists.
Result<json> Emulator::require_scope(const std::string& scope) {
  if (!istarts_with(scope, "/subscriptions/"))
    return bad_request("InvalidScope", "The scope '" + scope + "' is not valid for role assignments in acg-emulator: "
                                       "use a subscription, resource group or resource scope.");
  const std::string sub = subscription_scope(scope).substr(15);
  if (auto st = require_subscription(sub); !st) return std::move(st).error();
  if (iequals(subscription_scope(scope), scope)) return json{{"id", "/subscriptions/" + sub}};
  auto stored = load(scope);
  if (!stored) return std::move(stored).error();
  if (!*stored) {
    const std::string lower = to_lower(scope);
    if (lower.find("/providers/") == std::string::npos)
      return not_found("ResourceGroupNotFound", "Resource group '" + scope.substr(scope.rfind('/') + 1) + "' could not be found.");
    return not_found("ResourceNotFound", "The Resource '" + scope + "' was not found.");
  }
  return std::move(**stored);
}

Result<WriteOutcome> Emulator::put_role_assignment(const std::string& raw_scope, const std::string& name, const json& body,
                                                   const Principal& caller) {
  const std::string scope = trim_scope(raw_scope);
  if (!is_guid(name))
    return assignment_bad_request("InvalidRoleAssignmentId", "The role assignment ID '" + name +
                                                                 "' is not valid. The role assignment ID must be a GUID.");
  const json& p = json_member(body, "properties");
  const std::string role_id = json_text(p, "roleDefinitionId");
  const std::string principal_id = json_text(p, "principalId");
  if (role_id.empty()) return missing_parameter("properties.roleDefinitionId");
  if (principal_id.empty()) return missing_parameter("properties.principalId");
  return write<WriteOutcome>([&]() -> Result<WriteOutcome> {
    auto target = require_scope(scope);
    if (!target) return std::move(target).error();
    refresh_access_locked();
    const RoleDefinition* role = find_role(role_guid(role_id), custom_roles_);
    if (!role)
      return assignment_bad_request("RoleDefinitionDoesNotExist",
                                    "The specified role definition with ID '" + role_guid(role_id) + "' does not exist.");
    const Subscription* sub = identities_.find_subscription(subscription_scope(scope).substr(15));
    const Principal* principal = identities_.find_principal_by_object_id(principal_id);
    // A user-assigned managed identity's service principal (emulator/image_builder.h) is in the
    // directory too: here, an identity of the assignment's own subscription.
    const bool managed_identity = !principal && is_identity_principal(*store_, sub->id, principal_id);
    if (!principal && !managed_identity)
      return assignment_bad_request("PrincipalNotFound", "Principal " + principal_id +
                                                             " does not exist in the directory " + sub->tenant_id + ".");
    if (principal && !iequals(principal->tenant_id, sub->tenant_id))
      return assignment_bad_request(
          "PrincipalNotFound", "Principal " + principal_id + " belongs to tenant " + principal->tenant_id +
                                   ", not to the subscription's tenant " + sub->tenant_id +
                                   ": cross-tenant role assignments are not supported by acg-emulator.");
    const std::string id = scope + "/providers/Microsoft.Authorization/roleAssignments/" + name;
    auto stored = load(id);
    if (!stored) return std::move(stored).error();
    for (const RoleAssignment& a : assignments_)
      if (!iequals(a.id, id) && iequals(a.scope, scope) && iequals(a.principal_id, principal_id) &&
          iequals(a.role_definition, role->name))
        return conflict("RoleAssignmentExists", "The role assignment already exists.");
    if (*stored) {
      const json& before = (**stored)["properties"];
      if (!iequals(before.value("principalId", ""), principal_id) || !iequals(role_guid(before.value("roleDefinitionId", "")), role->name))
        return assignment_bad_request("RoleAssignmentUpdateNotPermitted",
                                      "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.");
      return WriteOutcome{**stored, false, std::nullopt};
    }
    const std::string now = format_arm_time(clock_.now_ms());
    json assignment = {{"id", id},
                       {"name", name},
                       {"type", kAssignmentType},
                       {"properties",
                        {{"roleDefinitionId", definition_id(scope, role->name)},
                         {"principalId", principal_id},
                         {"principalType", p.value("principalType", "ServicePrincipal")},
                         {"scope", scope},
                         {"condition", nullptr},
                         {"conditionVersion", nullptr},
                         {"createdOn", now},
                         {"updatedOn", now},
                         {"createdBy", caller.object_id},
                         {"updatedBy", caller.object_id},
                         {"delegatedManagedIdentityResourceId", nullptr},
                         {"description", p.contains("description") ? p["description"] : json(nullptr)}}}};
    if (auto st = save(id, kAssignmentType, scope, name, assignment); !st) return std::move(st).error();
    return WriteOutcome{assignment, true, std::nullopt};
  });
}

Result<json> Emulator::get_role_assignment(const std::string& scope, const std::string& name) {
  return read<json>([&]() -> Result<json> {
    auto stored = load(trim_scope(scope) + "/providers/Microsoft.Authorization/roleAssignments/" + name);
    if (!stored) return std::move(stored).error();
    if (!*stored) return not_found("RoleAssignmentNotFound", "The role assignment '" + name + "' is not found.");
    return std::move(**stored);
  });
}

Result<std::optional<json>> Emulator::delete_role_assignment(const std::string& scope, const std::string& name) {
  return write<std::optional<json>>([&]() -> Result<std::optional<json>> {
    const std::string id = trim_scope(scope) + "/providers/Microsoft.Authorization/roleAssignments/" + name;
    auto stored = load(id);
    if (!stored) return std::move(stored).error();
    if (!*stored) return std::optional<json>{};
    if (auto st = erase_tree(id); !st) return std::move(st).error();
    return std::optional<json>{std::move(**stored)};
  });
}

Result<std::vector<json>> Emulator::list_role_assignments(const std::string& raw_scope, const AssignmentFilter& filter) {
  return read<std::vector<json>>([&]() -> Result<std::vector<json>> {
    const std::string scope = trim_scope(raw_scope);
    auto target = require_scope(scope);
    if (!target) return std::move(target).error();
    auto rows = store_->list_in_scope("", kAssignmentType, 0, 1 << 30);
    if (!rows.ok()) return internal_error(rows.error().message);
    std::vector<json> out;
    for (const auto& row : rows.value().rows) {
      json a = json::parse(row.body, nullptr, false);
      if (a.is_discarded()) continue;
      const std::string at = a["properties"].value("scope", "");
      const bool above = scope_covers(at, scope);  // at the scope or one of its ancestors
      const bool below = scope_covers(scope, at);
      if (filter.at_scope ? !above : !(above || below)) continue;
      if (!filter.principal_id.empty() && !iequals(a["properties"].value("principalId", ""), filter.principal_id)) continue;
      out.push_back(std::move(a));
    }
    return out;
  });
}

Result<std::vector<json>> Emulator::list_role_definitions(const std::string& raw_scope, const std::string& role_name) {
  return read<std::vector<json>>([&]() -> Result<std::vector<json>> {
    const std::string scope = trim_scope(raw_scope);
    refresh_access_locked();
    std::vector<json> out;
    for (const RoleDefinition& r : builtin_roles())
      if (role_name.empty() || iequals(r.role_name, role_name)) out.push_back(definition_json(r, scope));
    for (const RoleDefinition& r : custom_roles_)
      if (role_name.empty() || iequals(r.role_name, role_name)) out.push_back(definition_json(r, scope));
    return out;
  });
}

Result<json> Emulator::get_role_definition(const std::string& scope, const std::string& name) {
  return read<json>([&]() -> Result<json> {
    refresh_access_locked();
    const RoleDefinition* r = find_role(name, custom_roles_);
    if (!r) return not_found("RoleDefinitionDoesNotExist", "The specified role definition with ID '" + name + "' does not exist.");
    return definition_json(*r, trim_scope(scope));
  });
}

Result<WriteOutcome> Emulator::put_role_definition(const std::string& raw_scope, const std::string& name, const json& body) {
  const std::string scope = trim_scope(raw_scope);
  if (!is_guid(name))
    return assignment_bad_request("InvalidRoleDefinitionId", "The role definition ID '" + name +
                                                                 "' is not valid. The role definition ID must be a GUID.");
  if (find_builtin_role(name)) return conflict("RoleDefinitionUpdateNotPermitted", "Built-in roles cannot be changed.");
  const json& p = json_member(body, "properties");
  if (json_text(p, "roleName").empty()) return missing_parameter("properties.roleName");
  const json& scopes = json_member(p, "assignableScopes");
  if (!scopes.is_array() || scopes.empty())
    return assignment_bad_request("InvalidAssignableScopes", "The role definition must have at least one assignable scope.");
  for (const json& perm : json_member(p, "permissions"))
    for (const char* key : {"actions", "notActions"})
      if (!json_member(perm, key).is_null() && !json_member(perm, key).is_array())
        return invalid_content(std::string("Expected an array at path 'properties.permissions.") + key + "'");
  return write<WriteOutcome>([&]() -> Result<WriteOutcome> {
    auto target = require_scope(scope);
    if (!target) return std::move(target).error();
    refresh_access_locked();
    for (const RoleDefinition& r : custom_roles_)
      if (!iequals(r.name, name) && iequals(r.role_name, json_text(p, "roleName")))
        return conflict("RoleDefinitionWithSameNameExists", "A custom role with the same name already exists in this directory.");
    for (const RoleDefinition& r : builtin_roles())
      if (iequals(r.role_name, json_text(p, "roleName")))
        return conflict("RoleDefinitionWithSameNameExists", "A role with the same name already exists: '" + r.role_name + "'.");
    const std::string id = scope + "/providers/Microsoft.Authorization/roleDefinitions/" + name;
    auto stored = load(id);
    if (!stored) return std::move(stored).error();
    json role = {{"id", definition_id(scope, name)}, {"name", name}, {"type", kDefinitionType}, {"properties", p}};
    role["properties"]["type"] = "CustomRole";
    if (auto st = save(id, kDefinitionType, scope, name, role); !st) return std::move(st).error();
    return WriteOutcome{role, !*stored, std::nullopt};
  });
}

Result<std::optional<json>> Emulator::delete_role_definition(const std::string& scope, const std::string& name) {
  return write<std::optional<json>>([&]() -> Result<std::optional<json>> {
    const std::string id = trim_scope(scope) + "/providers/Microsoft.Authorization/roleDefinitions/" + name;
    auto stored = load(id);
    if (!stored) return std::move(stored).error();
    if (!*stored) return std::optional<json>{};
    refresh_access_locked();
    for (const RoleAssignment& a : assignments_)
      if (iequals(a.role_definition, name))
        return conflict("RoleDefinitionHasAssignments",
                        "There are existing role assignments referencing role (code: RoleDefinitionHasAssignments).");
    if (auto st = erase_tree(id); !st) return std::move(st).error();
    return std::optional<json>{std::move(**stored)};
  });
}

Status Emulator::authorize(const Principal& principal, const RbacTarget& target) {
  if (permits(principal, target.action, target.scope)) return ok_status();
  return authorization_failed(principal.client_id, principal.object_id, target.action, target.scope);
}

bool Emulator::permits(const Principal& principal, const std::string& action, const std::string& scope) {
  std::lock_guard lock(mutex_);
  refresh_access_locked();
  return permitted(principal.object_id, action, scope, assignments_, custom_roles_);
}

bool Emulator::has_role_within(const Principal& principal, const std::string& scope) {
  std::lock_guard lock(mutex_);
  refresh_access_locked();
  for (const RoleAssignment& a : assignments_)
    if (iequals(a.principal_id, principal.object_id) && (scope_covers(scope, a.scope) || scope_covers(a.scope, scope)))
      return true;
  return false;
}

}  // namespace acg
