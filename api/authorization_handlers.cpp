// Microsoft.Authorization: role assignments and role definitions at a subscription, resource
// group or resource scope (the scope is the request path before
// "/providers/Microsoft.Authorization"), with the $filter forms az and the SDKs send.

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

namespace {

// The scopes role assignments and definitions can sit at: a subscription, a resource group,
// a resource up to three levels deep (gallery / image / version).
const char* const kScopes[] = {
    "/subscriptions/{sub}",
    "/subscriptions/{sub}/resourcegroups/{rg}",
    "/subscriptions/{sub}/resourcegroups/{rg}/providers/{ns}/{t0}/{n0}",
    "/subscriptions/{sub}/resourcegroups/{rg}/providers/{ns}/{t0}/{n0}/{t1}/{n1}",
    "/subscriptions/{sub}/resourcegroups/{rg}/providers/{ns}/{t0}/{n0}/{t1}/{n1}/{t2}/{n2}",
};

std::string scope_of(const RequestContext& ctx) {
  const std::string& path = ctx.target.path;
  const size_t at = to_lower(path).rfind("/providers/microsoft.authorization/");
  return at == std::string::npos || at == 0 ? "/" : path.substr(0, at);
}

// "principalId eq 'x'", "assignedTo('x')", "atScope()", joined by "and".
Emulator::AssignmentFilter assignment_filter(const std::string& filter) {
  Emulator::AssignmentFilter out;
  const std::string lower = to_lower(filter);
  out.at_scope = lower.find("atscope()") != std::string::npos;
  for (const char* key : {"principalid eq '", "assignedto('"}) {
    const size_t at = lower.find(key);
    if (at == std::string::npos) continue;
    const size_t start = at + std::string(key).size();
    const size_t end = filter.find('\'', start);
    if (end != std::string::npos) out.principal_id = filter.substr(start, end - start);
  }
  return out;
}

// "roleName eq 'Reader'" -> "Reader".
std::string role_name_filter(const std::string& filter) {
  const std::string lower = to_lower(filter);
  const size_t at = lower.find("rolename eq '");
  if (at == std::string::npos) return "";
  const size_t start = at + 13;
  const size_t end = filter.find('\'', start);
  return end == std::string::npos ? "" : filter.substr(start, end - start);
}

void add_assignment_routes(Router& router, Services& s, const std::string& scope) {
  const std::string collection = scope + "/providers/Microsoft.Authorization/roleAssignments";
  const std::string item = collection + "/{assignment}";
  const ApiFamily family = ApiFamily::authorization;
  router.add("GET", collection, family, true, [&s](RequestContext& ctx) {
    return items_response(s.emulator.list_role_assignments(scope_of(ctx), assignment_filter(ctx.query("$filter"))));
  });
  router.add("PUT", item, family, true, [&s](RequestContext& ctx) {
    auto body = parse_json_body(ctx.request, false);
    if (!body) return error_response(body.error());
    auto outcome = s.emulator.put_role_assignment(scope_of(ctx), ctx.param("assignment"), *body, *ctx.principal);
    if (!outcome) return error_response(outcome.error());
    return json_response(outcome->created ? 201 : 200, outcome->resource);
  });
  router.add("GET", item, family, true, [&s](RequestContext& ctx) {
    auto assignment = s.emulator.get_role_assignment(scope_of(ctx), ctx.param("assignment"));
    if (!assignment) return error_response(assignment.error());
    return json_response(200, *assignment);
  });
  router.add("DELETE", item, family, true, [&s](RequestContext& ctx) {
    return removal_response(s.emulator.delete_role_assignment(scope_of(ctx), ctx.param("assignment")));
  });
}

void add_definition_routes(Router& router, Services& s, const std::string& scope) {
  const std::string collection = scope + "/providers/Microsoft.Authorization/roleDefinitions";
  const std::string item = collection + "/{definition}";
  const ApiFamily family = ApiFamily::authorization;
  router.add("GET", collection, family, true, [&s](RequestContext& ctx) {
    return items_response(s.emulator.list_role_definitions(scope_of(ctx), role_name_filter(ctx.query("$filter"))));
  });
  router.add("GET", item, family, true, [&s](RequestContext& ctx) {
    auto role = s.emulator.get_role_definition(scope_of(ctx), ctx.param("definition"));
    if (!role) return error_response(role.error());
    return json_response(200, *role);
  });
  if (scope.empty()) return;  // tenant-level definitions are read-only here
  router.add("PUT", item, family, true, [&s](RequestContext& ctx) {
    auto body = parse_json_body(ctx.request, false);
    if (!body) return error_response(body.error());
    auto outcome = s.emulator.put_role_definition(scope_of(ctx), ctx.param("definition"), *body);
    if (!outcome) return error_response(outcome.error());
    return json_response(outcome->created ? 201 : 200, outcome->resource);
  });
  router.add("DELETE", item, family, true, [&s](RequestContext& ctx) {
    return removal_response(s.emulator.delete_role_definition(scope_of(ctx), ctx.param("definition")));
  });
}

}  // namespace

void add_authorization_routes(Router& router, Services& s) {
  for (const char* scope : kScopes) {
    add_assignment_routes(router, s, scope);
    add_definition_routes(router, s, scope);
  }
  add_definition_routes(router, s, "");  // /providers/Microsoft.Authorization/roleDefinitions/{id}
}

}  // namespace acg::api
