// Azure Policy (Microsoft.Authorization): policy definitions (built-in and custom) and policy
// assignments at a subscription or resource group, and their enforcement on every write below a
// subscription. The rule language itself is emulator/policy_rule.h.
//
// Enforcement, in the order ARM applies effects:
//   1. every assignment covering the resource (its scope contains the resource's id, no
//      notScope does) whose definition's mode looks at the type is evaluated;
//   2. append and modify change the resource (with enforcementMode Default);
//   3. the assignments are evaluated again on the changed resource: deny refuses the write
//      (DoNotEnforce only records it), audit records it.

#include <algorithm>

#include "emulator/emulator.h"
#include "emulator/policy_rule.h"
#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

extern const char* const acg_builtin_policies_json;

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kDefinitionType = "Microsoft.Authorization/policyDefinitions";
constexpr const char* kAssignmentType = "Microsoft.Authorization/policyAssignments";
constexpr const char* kDefinitionsPath = "/providers/Microsoft.Authorization/policyDefinitions/";
constexpr const char* kAssignmentsPath = "/providers/Microsoft.Authorization/policyAssignments/";
constexpr size_t kMaxEvents = 10000;

// The built-in definitions, as GET answers them.
const std::vector<json>& builtin_policies() {
  static const std::vector<json> all = [] {
    std::vector<json> out;
    json list = json::parse(acg_builtin_policies_json, nullptr, false);
    if (!list.is_array()) return out;  // the build embeds a checked file: never the case
    for (json& d : list) {
      const std::string name = d.value("name", "");
      out.push_back({{"properties", d["properties"]},
                     {"id", std::string(kDefinitionsPath) + name},
                     {"type", kDefinitionType},
                     {"name", name}});
    }
    return out;
  }();
  return all;
}

const json* find_builtin_policy(const std::string& name) {
  for (const json& d : builtin_policies())
    if (iequals(d.value("name", ""), name)) return &d;
  return nullptr;
}

ArmError definition_not_found(const std::string& name) {
  return not_found("PolicyDefinitionNotFound", "The policy definition '" + name + "' could not be found.");
}

ArmError definition_not_assignable(const std::string& definition_id) {
  return bad_request("PolicyDefinitionNotFound",
                     "The policy assignment create request is invalid. The policy definition '" + definition_id +
                         "' could not be found.");
}

// properties.displayName, "" when absent or null.
std::string display_name(const json& resource) {
  const json& p = resource.contains("properties") ? resource["properties"] : resource;
  return p.contains("displayName") && p["displayName"].is_string() ? p["displayName"].get<std::string>() : "";
}

std::string display_or_name(const json& resource) {
  const std::string display = display_name(resource);
  return display.empty() ? resource.value("name", "") : display;
}

// The resource as rules see it: a resource group's policy type, locations and target regions by
// their programmatic names ("westus2"), as ARM normalises `location`.
json policy_view(const json& resource, const RegionCatalog& regions) {
  json view = resource;
  if (iequals(view.value("type", ""), "Microsoft.Resources/resourceGroups"))
    view["type"] = "Microsoft.Resources/subscriptions/resourceGroups";
  if (view.contains("location") && view["location"].is_string())
    if (const Region* r = regions.find(view["location"].get<std::string>())) view["location"] = r->name;
  const json::json_pointer targets("/properties/publishingProfile/targetRegions");
  if (view.contains(targets) && view[targets].is_array())
    for (json& t : view[targets])
      if (t.is_object() && t.contains("name") && t["name"].is_string())
        if (const Region* r = regions.find(t["name"].get<std::string>())) t["name"] = r->name;
  return view;
}

// "/subscriptions/S/resourceGroups/G" of a resource id below a group, or "".
std::string group_of(const std::string& id) {
  size_t at = 0;  // the slash after the group's name: the fifth of the id
  for (int slash = 1; at != std::string::npos && slash < 5; ++slash) at = id.find('/', at + 1);
  const std::string lower = to_lower(id);
  if (lower.find("/resourcegroups/") != subscription_scope(id).size()) return "";
  return at == std::string::npos ? id : id.substr(0, at);
}

bool excluded(const json& assignment, const std::string& id) {
  for (const json& s : assignment.value("/properties/notScopes"_json_pointer, json::array()))
    if (s.is_string() && scope_covers(trim_scope(s.get<std::string>()), id)) return true;
  return false;
}

// One assignment whose definition looks at the resource.
struct Applicable {
  json assignment;
  json definition;
  json values;  // its parameter values, defaults filled in
  bool enforced = true;
};

json violation_info(const Applicable& a, const std::string& effect) {
  return {{"type", "PolicyViolation"},
          {"info",
           {{"policyDefinitionDisplayName", display_name(a.definition)},
            {"policyDefinitionId", a.definition.value("id", "")},
            {"policyDefinitionName", a.definition.value("name", "")},
            {"policyDefinitionEffect", effect},
            {"policyAssignmentId", a.assignment.value("id", "")},
            {"policyAssignmentName", a.assignment.value("name", "")},
            {"policyAssignmentDisplayName", display_or_name(a.assignment)},
            {"policyAssignmentScope", a.assignment.value("/properties/scope"_json_pointer, std::string())},
            {"policyAssignmentParameters", a.assignment.value("/properties/parameters"_json_pointer, json::object())},
            {"policyExemptionIds", json::array()}}}};
}

// 403 RequestDisallowedByPolicy naming every assignment and definition that denied the write.
ArmError disallowed(const std::string& resource_name, const std::vector<const Applicable*>& denials) {
  nlohmann::ordered_json identifiers = nlohmann::ordered_json::array();  // ARM's order: name before id
  json info = json::array();
  for (const Applicable* a : denials) {
    using ordered = nlohmann::ordered_json;
    identifiers.push_back(
        {{"policyAssignment", ordered{{"name", display_or_name(a->assignment)}, {"id", a->assignment.value("id", "")}}},
         {"policyDefinition",
          ordered{{"name", display_or_name(a->definition)}, {"id", a->definition.value("id", "")}}}});
    info.push_back(violation_info(*a, "deny"));
  }
  ArmError e{
      403,
      "RequestDisallowedByPolicy",
      "Resource '" + resource_name + "' was disallowed by policy. Policy identifiers: '" + identifiers.dump() + "'.",
      resource_name,
      {}};
  e.additional_info = info.dump();
  return e;
}

// properties.metadata as sent, with who created and last updated the definition or assignment
// and when (kept from `stored` across updates), as ARM adds them.
json stamped_metadata(const json& properties, const json* stored, const Principal& caller, const std::string& now) {
  json metadata =
      properties.contains("metadata") && properties["metadata"].is_object() ? properties["metadata"] : json::object();
  metadata["createdBy"] =
      stored ? stored->value("/properties/metadata/createdBy"_json_pointer, caller.object_id) : caller.object_id;
  metadata["createdOn"] = stored ? stored->value("/properties/metadata/createdOn"_json_pointer, now) : now;
  metadata["updatedBy"] = caller.object_id;
  metadata["updatedOn"] = now;
  return metadata;
}

// A definition's properties with the members ARM knows spelled as it does (JSON member names
// are case-insensitive to ARM: "PolicyRule" is policyRule).
json canonical_members(const json& properties) {
  static const char* const kKnown[] = {"displayName", "policyType", "mode",      "description",
                                       "metadata",    "parameters", "policyRule"};
  json out = json::object();
  for (auto it = properties.begin(); it != properties.end(); ++it) {
    std::string key = it.key();
    for (const char* known : kKnown)
      if (iequals(key, known)) key = known;
    out[key] = it.value();
  }
  return out;
}

}  // namespace

// --- Definitions ---------------------------------------------------------------------------

Result<WriteOutcome> Emulator::put_policy_definition(const std::string& sub, const std::string& name, const json& body,
                                                     const Principal& caller) {
  if (auto st = require_object(body, ""); !st) return std::move(st).error();
  if (!json_member(body, "properties").is_object())
    return bad_request("InvalidPolicyRule", "Failed to parse policy rule: 'The policy definition '" + name +
                                                "' has no 'properties' object'.");
  const json p = canonical_members(json_member(body, "properties"));
  if (auto st = policy::check_definition(name, p); !st) return std::move(st).error();
  return write<WriteOutcome>([&]() -> Result<WriteOutcome> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    const std::string scope = "/subscriptions/" + identities_.find_subscription(sub)->id;
    const std::string id = scope + kDefinitionsPath + name;
    auto stored = load(id);
    if (!stored) return std::move(stored).error();
    const json metadata = stamped_metadata(p, *stored ? &**stored : nullptr, caller, format_arm_time(clock_.now_ms()));
    json properties = {
        {"policyType", "Custom"},
        {"mode", p.contains("mode") && p["mode"].is_string() ? p["mode"] : json("Indexed")},
        {"displayName", p.contains("displayName") ? p["displayName"] : json(nullptr)},
        {"description", p.contains("description") ? p["description"] : json(nullptr)},
        {"metadata", metadata},
        {"parameters", p.contains("parameters") && p["parameters"].is_object() ? p["parameters"] : json::object()},
        {"policyRule", p["policyRule"]}};
    json definition = {{"properties", properties}, {"id", id}, {"type", kDefinitionType}, {"name", name}};
    if (auto st = save(id, kDefinitionType, scope, name, definition); !st) return std::move(st).error();
    return WriteOutcome{definition, !*stored, std::nullopt};
  });
}

Result<json> Emulator::get_policy_definition(const std::string& sub, const std::string& name) {
  return read<json>([&]() -> Result<json> {
    if (!sub.empty()) {
      if (auto st = require_subscription(sub); !st) return std::move(st).error();
      auto stored = load("/subscriptions/" + identities_.find_subscription(sub)->id + kDefinitionsPath + name);
      if (!stored) return std::move(stored).error();
      if (*stored) return std::move(**stored);
    }
    if (const json* builtin = find_builtin_policy(name)) return *builtin;
    return definition_not_found(name);
  });
}

Result<std::optional<json>> Emulator::delete_policy_definition(const std::string& sub, const std::string& name) {
  return write<std::optional<json>>([&]() -> Result<std::optional<json>> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    const std::string scope = "/subscriptions/" + identities_.find_subscription(sub)->id;
    const std::string id = scope + kDefinitionsPath + name;
    auto stored = load(id);
    if (!stored) return std::move(stored).error();
    if (!*stored) return std::optional<json>{};
    auto rows = store_->list_in_scope(scope, kAssignmentType, 0, 1 << 30);
    if (!rows.ok()) return internal_error(rows.error().message);
    for (const auto& row : rows.value().rows) {
      json a = json::parse(row.body, nullptr, false);
      if (a.is_object() && iequals(a.value("/properties/policyDefinitionId"_json_pointer, std::string()), id))
        return bad_request("PolicyDefinitionInUse",
                           "The policy definition '" + name +
                               "' cannot be deleted because it is assigned by the policy assignment '" +
                               a.value("id", "") + "'. Delete the assignment first.");
    }
    if (auto st = erase_tree(id); !st) return std::move(st).error();
    return std::optional<json>{std::move(**stored)};
  });
}

Result<std::vector<json>> Emulator::list_policy_definitions(const std::string& sub, const std::string& policy_type) {
  return read<std::vector<json>>([&]() -> Result<std::vector<json>> {
    std::vector<json> out;
    if (policy_type.empty() || iequals(policy_type, "BuiltIn"))
      out.insert(out.end(), builtin_policies().begin(), builtin_policies().end());
    if (sub.empty() || !(policy_type.empty() || iequals(policy_type, "Custom"))) return out;
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    const std::string scope = "/subscriptions/" + identities_.find_subscription(sub)->id;
    auto rows = store_->list_children(scope, kDefinitionType, 0, 1 << 30);
    if (!rows.ok()) return internal_error(rows.error().message);
    for (const auto& row : rows.value().rows) {
      json d = json::parse(row.body, nullptr, false);
      if (d.is_object()) out.push_back(std::move(d));
    }
    return out;
  });
}

// A definition an assignment may name: a built-in by its tenant-level id, or a custom one of the
// assignment's subscription (a built-in's name under a subscription finds the built-in too).
Result<json> Emulator::resolve_policy_definition_locked(const std::string& definition_id) {
  const std::string id = trim_scope(definition_id);
  const std::string lower = to_lower(id);
  const size_t at = lower.rfind(to_lower(std::string(kDefinitionsPath)));
  const std::string scope = at == std::string::npos ? "" : id.substr(0, at);
  const std::string name = at == std::string::npos ? "" : id.substr(at + std::string(kDefinitionsPath).size());
  if (!name.empty() && name.find('/') == std::string::npos &&
      (scope.empty() || iequals(subscription_scope(scope), scope))) {
    if (!scope.empty()) {
      auto stored = load(scope + kDefinitionsPath + name);
      if (!stored) return std::move(stored).error();
      if (*stored) return std::move(**stored);
    }
    if (const json* builtin = find_builtin_policy(name)) return *builtin;
  }
  return definition_not_assignable(definition_id);
}

// --- Assignments ---------------------------------------------------------------------------

Result<WriteOutcome> Emulator::put_policy_assignment(const std::string& raw_scope, const std::string& name,
                                                     const json& body, const Principal& caller) {
  const std::string scope = trim_scope(raw_scope);
  if (auto st = require_object(body, ""); !st) return std::move(st).error();
  const json& p = json_member(body, "properties");
  if (!p.is_object()) return missing_parameter("properties");
  const std::string definition_id = json_text(p, "policyDefinitionId");
  if (definition_id.empty()) return missing_parameter("properties.policyDefinitionId");
  const std::string mode = p.contains("enforcementMode") && p["enforcementMode"].is_string()
                               ? p["enforcementMode"].get<std::string>()
                               : "Default";
  if (!iequals(mode, "Default") && !iequals(mode, "DoNotEnforce"))
    return invalid_content("Error converting value \"" + mode +
                           "\" to type 'EnforcementMode'. Path 'properties.enforcementMode'. "
                           "Allowed values: Default, DoNotEnforce.");
  const json& not_scopes = json_member(p, "notScopes");
  if (!not_scopes.is_null() && (!not_scopes.is_array() || !std::all_of(not_scopes.begin(), not_scopes.end(),
                                                                       [](const json& s) { return s.is_string(); })))
    return invalid_content("Expected an array of scope ids at path 'properties.notScopes'.");
  return write<WriteOutcome>([&]() -> Result<WriteOutcome> {
    auto target = require_scope(scope);
    if (!target) return std::move(target).error();
    auto definition = resolve_policy_definition_locked(definition_id);
    if (!definition) return std::move(definition).error();
    const std::string definition_sub = subscription_scope(definition->value("id", ""));
    if (!definition_sub.empty() && !iequals(definition_sub, subscription_scope(scope)))
      return definition_not_assignable(definition_id);  // another subscription's definition is not visible here
    const json& declared = definition->value("/properties/parameters"_json_pointer, json::object());
    auto values = policy::parameter_values(name, definition->value("name", ""), declared, json_member(p, "parameters"));
    if (!values) return std::move(values).error();
    const std::string canonical_scope = (*target)["id"];
    const std::string id = canonical_scope + kAssignmentsPath + name;
    auto stored = load(id);
    if (!stored) return std::move(stored).error();
    const json metadata = stamped_metadata(p, *stored ? &**stored : nullptr, caller, format_arm_time(clock_.now_ms()));
    json properties = {
        {"displayName", p.contains("displayName") ? p["displayName"] : json(nullptr)},
        {"policyDefinitionId", definition_id},
        {"scope", canonical_scope},
        {"notScopes", not_scopes.is_array() ? not_scopes : json::array()},
        {"parameters", p.contains("parameters") && p["parameters"].is_object() ? p["parameters"] : json::object()},
        {"metadata", metadata},
        {"enforcementMode", iequals(mode, "Default") ? "Default" : "DoNotEnforce"}};
    for (const char* optional : {"description", "nonComplianceMessages"})
      if (p.contains(optional) && !p[optional].is_null()) properties[optional] = p[optional];
    json assignment = {{"properties", properties}, {"id", id}, {"type", kAssignmentType}, {"name", name}};
    for (const char* optional : {"location", "identity"})
      if (body.contains(optional) && !body[optional].is_null()) assignment[optional] = body[optional];
    if (auto st = save(id, kAssignmentType, canonical_scope, name, assignment); !st) return std::move(st).error();
    return WriteOutcome{assignment, !*stored, std::nullopt};
  });
}

Result<json> Emulator::get_policy_assignment(const std::string& scope, const std::string& name) {
  return read<json>([&]() -> Result<json> {
    auto stored = load(trim_scope(scope) + kAssignmentsPath + name);
    if (!stored) return std::move(stored).error();
    if (!*stored) return not_found("PolicyAssignmentNotFound", "The policy assignment '" + name + "' is not found.");
    return std::move(**stored);
  });
}

Result<std::optional<json>> Emulator::delete_policy_assignment(const std::string& scope, const std::string& name) {
  return write<std::optional<json>>([&]() -> Result<std::optional<json>> {
    const std::string id = trim_scope(scope) + kAssignmentsPath + name;
    auto stored = load(id);
    if (!stored) return std::move(stored).error();
    if (!*stored) return std::optional<json>{};
    if (auto st = erase_tree(id); !st) return std::move(st).error();
    return std::optional<json>{std::move(**stored)};
  });
}

Result<std::vector<json>> Emulator::list_policy_assignments(const std::string& raw_scope,
                                                            const PolicyAssignmentFilter& filter) {
  return read<std::vector<json>>([&]() -> Result<std::vector<json>> {
    const std::string scope = trim_scope(raw_scope);
    auto target = require_scope(scope);
    if (!target) return std::move(target).error();
    auto rows = store_->list_in_scope(subscription_scope((*target)["id"]), kAssignmentType, 0, 1 << 30);
    if (!rows.ok()) return internal_error(rows.error().message);
    std::vector<json> out;
    for (const auto& row : rows.value().rows) {
      json a = json::parse(row.body, nullptr, false);
      if (!a.is_object()) continue;
      const std::string at = a.value("/properties/scope"_json_pointer, std::string());
      const bool above = scope_covers(at, scope);
      const bool below = scope_covers(scope, at);
      if (filter.at_exact_scope ? !iequals(at, scope) : filter.at_scope ? !above : !(above || below)) continue;
      if (!filter.definition_id.empty() &&
          !iequals(a.value("/properties/policyDefinitionId"_json_pointer, std::string()), filter.definition_id))
        continue;
      out.push_back(std::move(a));
    }
    return out;
  });
}

json Emulator::policy_events(const std::string& sub) {
  std::lock_guard lock(mutex_);
  json out = json::array();
  for (const json& e : policy_events_)
    if (sub.empty() || iequals(e.value("subscriptionId", ""), sub)) out.push_back(e);
  return {{"value", out}};
}

// --- Enforcement ---------------------------------------------------------------------------

Status Emulator::enforce_policies_locked(json& resource, const std::string& sub) {
  const std::string id = resource.value("id", "");
  auto rows = store_->list_in_scope("/subscriptions/" + sub, kAssignmentType, 0, 1 << 30);
  if (!rows.ok()) return internal_error(rows.error().message);
  // The resource as rules see it, rebuilt whenever append or modify changes the resource.
  json view = policy_view(resource, regions_);
  const std::string type = view.value("type", "");
  std::vector<Applicable> applicable;
  for (const auto& row : rows.value().rows) {
    json a = json::parse(row.body, nullptr, false);
    if (!a.is_object() || !scope_covers(a.value("/properties/scope"_json_pointer, std::string()), id) ||
        excluded(a, id))
      continue;
    auto definition =
        resolve_policy_definition_locked(a.value("/properties/policyDefinitionId"_json_pointer, std::string()));
    if (!definition) continue;  // a definition deleted behind the assignment's back applies nothing
    if (!policy::mode_applies(definition->value("/properties/mode"_json_pointer, std::string("Indexed")), type))
      continue;
    auto values = policy::parameter_values(a.value("name", ""), definition->value("name", ""),
                                           definition->value("/properties/parameters"_json_pointer, json::object()),
                                           a.value("/properties/parameters"_json_pointer, json::object()));
    if (!values) continue;
    const bool enforced = a.value("/properties/enforcementMode"_json_pointer, std::string("Default")) != "DoNotEnforce";
    applicable.push_back({std::move(a), std::move(*definition), std::move(*values), enforced});
  }
  if (applicable.empty()) return ok_status();

  const std::string group_id = group_of(id);
  std::optional<json> group;
  if (!group_id.empty() && !iequals(group_id, id)) {
    auto stored = load(group_id);
    if (stored && *stored) group = std::move(**stored);
  }
  auto evaluate = [&](const Applicable& a) {
    const json* rg = iequals(group_id, id) ? &resource : group ? &*group : nullptr;
    return policy::evaluate(a.definition.value("/properties/policyRule"_json_pointer, json::object()), a.values,
                            policy::Subject{view, rg, sub});
  };
  auto record = [&](const Applicable& a, const std::string& effect, bool enforced) {
    if (policy_events_.size() >= kMaxEvents) policy_events_.erase(policy_events_.begin());
    policy_events_.push_back(
        {{"timestamp", format_arm_time(clock_.now_ms())},
         {"resourceId", id},
         {"resourceType", resource.value("type", "")},
         {"resourceLocation", resource.value("location", "")},
         {"subscriptionId", sub},
         {"effect", effect},
         {"enforced", enforced},
         {"complianceState", effect == "append" || effect == "modify" ? "Compliant" : "NonCompliant"},
         {"policyAssignmentId", a.assignment.value("id", "")},
         {"policyAssignmentName", a.assignment.value("name", "")},
         {"policyAssignmentScope", a.assignment.value("/properties/scope"_json_pointer, std::string())},
         {"policyDefinitionId", a.definition.value("id", "")},
         {"policyDefinitionName", a.definition.value("name", "")}});
  };

  // Append and modify first: deny and audit judge the resource as it will be stored.
  for (const Applicable& a : applicable) {
    auto outcome = evaluate(a);
    if (!outcome || !outcome->matched || (outcome->effect != "append" && outcome->effect != "modify")) continue;
    record(a, outcome->effect, a.enforced);
    if (!a.enforced) continue;
    Status st = outcome->effect == "append" ? policy::apply_append(outcome->details, resource)
                                            : policy::apply_modify(outcome->details, resource);
    if (!st) return st;
    view = policy_view(resource, regions_);
  }
  std::vector<const Applicable*> denials;
  for (const Applicable& a : applicable) {
    auto outcome = evaluate(a);
    if (!outcome) {
      record(a, "error: " + outcome.error().message, false);
      continue;
    }
    if (!outcome->matched || (outcome->effect != "deny" && outcome->effect != "audit")) continue;
    record(a, outcome->effect, a.enforced);
    if (outcome->effect == "deny" && a.enforced) denials.push_back(&a);
  }
  if (!denials.empty()) return disallowed(resource.value("name", ""), denials);
  return ok_status();
}

}  // namespace acg
