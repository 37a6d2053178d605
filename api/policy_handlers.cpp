// Azure Policy: Microsoft.Authorization policyDefinitions (built-in at the tenant root, custom
// at a subscription) and policyAssignments at a subscription or resource group, at the
// api-versions az (2021-06-01) and the SDKs send; what the assignments decided (audit, deny,
// append, modify) as Microsoft.PolicyInsights policy states and at GET /_emulator/policy/events.
// Rules: emulator/policies.cpp.

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

namespace {

const char* const kAssignmentScopes[] = {"/subscriptions/{sub}", "/subscriptions/{sub}/resourcegroups/{rg}"};

// The scope of an assignment route: the path before "/providers/Microsoft.Authorization".
std::string assignment_scope(const RequestContext& ctx) {
  const std::string& path = ctx.target.path;
  return path.substr(0, to_lower(path).rfind("/providers/microsoft.authorization/"));
}

// The quoted text after `key` in a $filter ("policyType eq 'BuiltIn'" -> BuiltIn), or "".
std::string quoted_after(const std::string& filter, const std::string& key) {
  const size_t at = to_lower(filter).find(key);
  if (at == std::string::npos) return "";
  const size_t start = filter.find('\'', at + key.size());
  const size_t end = start == std::string::npos ? start : filter.find('\'', start + 1);
  return end == std::string::npos ? "" : filter.substr(start + 1, end - start - 1);
}

Emulator::PolicyAssignmentFilter assignment_filter(const std::string& filter) {
  Emulator::PolicyAssignmentFilter out;
  const std::string lower = to_lower(filter);
  out.at_exact_scope = lower.find("atexactscope()") != std::string::npos;
  out.at_scope = !out.at_exact_scope && lower.find("atscope()") != std::string::npos;
  out.definition_id = quoted_after(filter, "policydefinitionid eq");
  return out;
}

// A PUT of a policy definition or assignment answers 201 whether it created or updated (the
// SDKs accept nothing else: azure-mgmt-resource's create and create_or_update expect [201]).
HttpResponse written(const Result<WriteOutcome>& outcome) {
  if (!outcome) return error_response(outcome.error());
  return json_response(201, outcome->resource);
}

void add_definition_routes(Router& router, Services& s) {
  const ApiFamily family = ApiFamily::policy;
  const std::string builtins = "/providers/Microsoft.Authorization/policyDefinitions";
  router.add("GET", builtins, family, true, [&s](RequestContext& ctx) {
    return items_response(s.emulator.list_policy_definitions("", quoted_after(ctx.query("$filter"), "policytype eq")));
  });
  router.add("GET", builtins + "/{name}", family, true, [&s](RequestContext& ctx) {
    auto definition = s.emulator.get_policy_definition("", ctx.param("name"));
    if (!definition) return error_response(definition.error());
    return json_response(200, *definition);
  });
  const std::string custom = "/subscriptions/{sub}/providers/Microsoft.Authorization/policyDefinitions";
  router.add("GET", custom, family, true, [&s](RequestContext& ctx) {
    return items_response(
        s.emulator.list_policy_definitions(ctx.param("sub"), quoted_after(ctx.query("$filter"), "policytype eq")));
  });
  router.add("GET", custom + "/{name}", family, true, [&s](RequestContext& ctx) {
    auto definition = s.emulator.get_policy_definition(ctx.param("sub"), ctx.param("name"));
    if (!definition) return error_response(definition.error());
    return json_response(200, *definition);
  });
  router.add("PUT", custom + "/{name}", family, true, [&s](RequestContext& ctx) {
    auto body = parse_json_body(ctx.request, false);
    if (!body) return error_response(body.error());
    return written(s.emulator.put_policy_definition(ctx.param("sub"), ctx.param("name"), *body, *ctx.principal));
  });
  router.add("DELETE", custom + "/{name}", family, true, [&s](RequestContext& ctx) {
    return removal_response(s.emulator.delete_policy_definition(ctx.param("sub"), ctx.param("name")));
  });
}

void add_assignment_routes(Router& router, Services& s, const std::string& scope) {
  const std::string collection = scope + "/providers/Microsoft.Authorization/policyAssignments";
  const std::string item = collection + "/{name}";
  const ApiFamily family = ApiFamily::policy;
  router.add("GET", collection, family, true, [&s](RequestContext& ctx) {
    return items_response(
        s.emulator.list_policy_assignments(assignment_scope(ctx), assignment_filter(ctx.query("$filter"))));
  });
  router.add("PUT", item, family, true, [&s](RequestContext& ctx) {
    auto body = parse_json_body(ctx.request, false);
    if (!body) return error_response(body.error());
    return written(s.emulator.put_policy_assignment(assignment_scope(ctx), ctx.param("name"), *body, *ctx.principal));
  });
  router.add("GET", item, family, true, [&s](RequestContext& ctx) {
    auto assignment = s.emulator.get_policy_assignment(assignment_scope(ctx), ctx.param("name"));
    if (!assignment) return error_response(assignment.error());
    return json_response(200, *assignment);
  });
  router.add("DELETE", item, family, true, [&s](RequestContext& ctx) {
    return removal_response(s.emulator.delete_policy_assignment(assignment_scope(ctx), ctx.param("name")));
  });
}

// Microsoft.PolicyInsights policy states (az policy state list): the latest decision per resource
// and assignment ("latest"), or every decision ("default"), from the recorded events.
HttpResponse policy_states(Services& s, RequestContext& ctx) {
  const std::string which = to_lower(ctx.param("states"));
  if (which != "latest" && which != "default")
    return error_response(bad_request(
        "InvalidPolicyStatesResource",
        "The policy states resource '" + ctx.param("states") + "' is not valid. Use 'latest' or 'default'."));
  const json events = s.emulator.policy_events(ctx.param("sub"))["value"];
  const std::string group = ctx.params.count("rg")
                                ? to_lower("/subscriptions/" + ctx.param("sub") + "/resourceGroups/" + ctx.param("rg"))
                                : "";
  json states = json::array();
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    const json& e = *it;
    const std::string resource = e.value("resourceId", "");
    if (!group.empty() && to_lower(resource).rfind(group, 0) != 0) continue;
    if (which == "latest") {
      bool seen = false;
      for (const json& st : states)
        seen = seen || (iequals(st.value("resourceId", ""), resource) &&
                        iequals(st.value("policyAssignmentId", ""), e.value("policyAssignmentId", "")));
      if (seen) continue;
    }
    const std::string effect = e.value("effect", "");
    states.push_back({{"timestamp", e["timestamp"]},
                      {"resourceId", resource},
                      {"policyAssignmentId", e["policyAssignmentId"]},
                      {"policyDefinitionId", e["policyDefinitionId"]},
                      {"isCompliant", e.value("complianceState", "") == "Compliant"},
                      {"complianceState", e["complianceState"]},
                      {"subscriptionId", e["subscriptionId"]},
                      {"resourceType", e["resourceType"]},
                      {"resourceLocation", e["resourceLocation"]},
                      {"policyAssignmentName", e["policyAssignmentName"]},
                      {"policyAssignmentScope", e["policyAssignmentScope"]},
                      {"policyDefinitionName", e["policyDefinitionName"]},
                      {"policyDefinitionAction", effect}});
  }
  return json_response(200, json{{"@odata.count", states.size()}, {"value", states}});
}

}  // namespace

void add_policy_routes(Router& router, Services& s) {
  add_definition_routes(router, s);
  for (const char* scope : kAssignmentScopes) add_assignment_routes(router, s, scope);
  for (const char* scope : kAssignmentScopes)
    router.add("POST", std::string(scope) + "/providers/Microsoft.PolicyInsights/policyStates/{states}/queryResults",
               ApiFamily::any, true, [&s](RequestContext& ctx) { return policy_states(s, ctx); });
  // What the assignments decided: ?subscription= keeps one subscription's.
  router.add("GET", "/_emulator/policy/events", ApiFamily::none, false, [&s](RequestContext& ctx) {
    return json_response(200, s.emulator.policy_events(ctx.query("subscription")));
  });
}

}  // namespace acg::api
