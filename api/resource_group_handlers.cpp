// Resource groups (Microsoft.Resources/resourceGroups).

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"

namespace acg::api {

using nlohmann::json;

namespace {

constexpr const char* kGroup = "/subscriptions/{sub}/resourcegroups/{rg}";

// Location URL of a group deletion: ARM's /operationresults form, answering 202 until done.
std::string deletion_status_url(const RequestContext& ctx, const OperationRef& op) {
  return ctx.base_url + "/subscriptions/" + op.subscription + "/operationresults/" + op.id +
         "?api-version=" + ctx.api_version;
}

HttpResponse put_group(RequestContext& ctx, Services& s) {
  auto body = parse_json_body(ctx.request, false);
  if (!body) return error_response(body.error());
  auto outcome = s.emulator.put_resource_group(ctx.param("sub"), ctx.param("rg"), *body);
  if (!outcome) return error_response(outcome.error());
  return json_response(outcome->created ? 201 : 200, outcome->resource);
}

HttpResponse delete_group(RequestContext& ctx, Services& s) {
  auto outcome = s.emulator.delete_resource_group(ctx.param("sub"), ctx.param("rg"));
  if (!outcome) return error_response(outcome.error());
  if (!outcome->existed)
    return error_response(not_found("ResourceGroupNotFound", "Resource group '" + ctx.param("rg") + "' could not be found."));
  if (!outcome->operation) return empty_response(200);
  HttpResponse r = empty_response(202);
  r.set_header("Location", deletion_status_url(ctx, *outcome->operation));
  r.set_header("Retry-After", "1");
  return r;
}

// GET of a deletion's Location: 202 while running, 200 once the group is gone.
HttpResponse deletion_status(RequestContext& ctx, Services& s) {
  auto op = s.emulator.get_operation(ctx.param("sub"), ctx.param("operation"));
  if (!op) return error_response(op.error());
  return monitor_response(ctx, *op, ctx.base_url + ctx.target.path + "?api-version=" + ctx.api_version);
}

}  // namespace

void add_resource_group_routes(Router& router, Services& s) {
  router.add("GET", "/subscriptions/{sub}/resourcegroups", ApiFamily::resources, true, [&s](RequestContext& ctx) {
    auto page = s.emulator.list_resource_groups(ctx.param("sub"), ctx.query("$skiptoken"));
    if (!page) return error_response(page.error());
    return list_response(ctx, *page);
  });
  router.add("PUT", kGroup, ApiFamily::resources, true, [&s](RequestContext& ctx) { return put_group(ctx, s); });
  router.add("GET", kGroup, ApiFamily::resources, true, [&s](RequestContext& ctx) {
    auto group = s.emulator.get_resource_group(ctx.param("sub"), ctx.param("rg"));
    if (!group) return error_response(group.error());
    return json_response(200, *group);
  });
  router.add("HEAD", kGroup, ApiFamily::resources, true, [&s](RequestContext& ctx) {
    auto group = s.emulator.get_resource_group(ctx.param("sub"), ctx.param("rg"));
    if (!group && group.error().status != 404) return error_response(group.error());
    return empty_response(group ? 204 : 404);
  });
  router.add("PATCH", kGroup, ApiFamily::resources, true, [&s](RequestContext& ctx) {
    auto body = parse_json_body(ctx.request, false);
    if (!body) return error_response(body.error());
    auto group = s.emulator.patch_resource_group(ctx.param("sub"), ctx.param("rg"), *body);
    if (!group) return error_response(group.error());
    return json_response(200, *group);
  });
  router.add("DELETE", kGroup, ApiFamily::resources, true, [&s](RequestContext& ctx) { return delete_group(ctx, s); });
  router.add("GET", "/subscriptions/{sub}/operationresults/{operation}", ApiFamily::any, true,
             [&s](RequestContext& ctx) { return deletion_status(ctx, s); });
}

}  // namespace acg::api
