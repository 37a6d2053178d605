// Microsoft.Resources/deployments at resource-group scope: PUT (long-running), GET, HEAD,
// list, DELETE, validate, cancel, exportTemplate, operations, and the deployment's status URL.
// Planning is emulator/arm_template.*; running is api/deployment_runner.*.

#include <regex>

#include "api/arm_conventions.h"
#include "api/deployment_runner.h"
#include "api/lenient_json.h"
#include "api/routes.h"
#include "emulator/arm_template.h"
#include "emulator/clock.h"
#include "emulator/emulator.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

namespace {

constexpr const char* kCollection = "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments";
constexpr const char* kOperationsBase = "/subscriptions/{sub}/resourcegroups/{rg}/deployments/{name}";
constexpr int kStatusLongPollMs = 300;  // a status poll waits this long for a run to end

std::string item(const std::string& suffix = {}) { return std::string(kCollection) + "/{name}" + suffix; }

// The deployment as GET shows it: without the members the emulator keeps to itself.
json public_view(json record) {
  for (auto it = record.begin(); it != record.end();) {
    if (istarts_with(it.key(), "acg:")) it = record.erase(it);
    else ++it;
  }
  return record;
}

// Deployment names: 1-64 of letters, digits, '-', '_', '.', '(' and ')'.
Status check_deployment_name(const std::string& name) {
  if (name.size() > 64)
    return bad_request("DeploymentNameLengthLimitExceeded",
                       "The provided deployment name '" + name + "' has a length of '" + std::to_string(name.size()) +
                           "' which exceeds the maximum length of '64'. Please see https://aka.ms/arm-deploy-resources "
                           "for usage details.");
  static const std::regex allowed("^[-\\w\\._\\(\\)]+$");
  if (name.empty() || !std::regex_match(name, allowed))
    return bad_request("InvalidDeploymentName", "The deployment name '" + name +
                                                    "' is invalid. It can contain only letters, digits, '-', '_', "
                                                    "'.', '(' and ')', up to 64 characters.");
  return ok_status();
}

std::string template_hash(const json& tmpl) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : tmpl.dump()) h = (h ^ c) * 1099511628211ULL;
  return std::to_string(h % 100000000000000000ULL);
}

// A deployment body: lenient JSON, as ARM reads it (az sends the template file's text).
Result<json> parse_deployment_body(const HttpRequest& request) {
  json body = parse_lenient_json(request.body);
  if (body.is_discarded() || !body.is_object())
    return bad_request("InvalidRequestContent",
                       "The request content was invalid and could not be deserialized: 'The body is not valid JSON.'.");
  return body;
}

struct Planned {
  json properties;  // the request's properties, as sent
  arm_template::DeploymentPlan plan;
};

// The request's deployment, checked and planned (what validate answers and PUT starts).
Result<Planned> plan_request(RequestContext& ctx, Services& s, const json& body) {
  if (auto st = check_deployment_name(ctx.param("name")); !st) return std::move(st).error();
  const json& properties = body.contains("properties") ? body["properties"] : json();
  auto group = s.emulator.get_resource_group(ctx.param("sub"), ctx.param("rg"));
  if (!group) return std::move(group).error();
  const Subscription* sub = s.emulator.identities().find_subscription(ctx.param("sub"));
  arm_template::DeploymentScope scope{sub->id, sub->display_name, sub->tenant_id, *group, ctx.param("name"),
                                      format_arm_time(s.emulator.clock().now_ms())};
  auto plan = arm_template::DeploymentPlan::build(properties, std::move(scope));
  if (!plan) return std::move(plan).error();
  return Planned{properties, std::move(*plan)};
}

// The properties every answer about a planned deployment shows.
json planned_properties(const Planned& p, const std::string& state, const std::string& correlation, std::int64_t now_ms) {
  return {{"templateHash", template_hash(p.properties.value("template", json::object()))},
          {"parameters", p.plan.parameters_view()},
          {"mode", "Incremental"},
          {"provisioningState", state},
          {"timestamp", format_arm_time(now_ms)},
          {"duration", "PT0S"},
          {"correlationId", correlation},
          {"providers", p.plan.providers()},
          {"dependencies", p.plan.dependencies()}};
}

std::string correlation_of(const RequestContext& ctx) {
  std::string_view c = ctx.request.header("x-ms-correlation-request-id");
  return c.empty() ? ctx.request_id : std::string(c);
}

std::string status_url(const RequestContext& ctx, const json& record) {
  return ctx.base_url + record.value("id", "") + "/operationStatuses/" +
         record.value("/properties/correlationId"_json_pointer, "") + "?api-version=" + ctx.api_version;
}

HttpResponse put_deployment(RequestContext& ctx, Services& s) {
  auto body = parse_deployment_body(ctx.request);
  if (!body) return error_response(body.error());
  auto planned = plan_request(ctx, s, *body);
  if (!planned) return error_response(planned.error());
  json record = {{"properties", planned_properties(*planned, "Accepted", correlation_of(ctx), s.emulator.clock().now_ms())},
                 {"acg:request", planned->properties},
                 {"acg:principal", ctx.principal ? ctx.principal->object_id : ""},
                 {"acg:address", ctx.request.remote_address}};
  if (body->contains("tags") && (*body)["tags"].is_object()) record["tags"] = (*body)["tags"];
  auto outcome = s.emulator.start_deployment(ctx.param("sub"), ctx.param("rg"), ctx.param("name"), record);
  if (!outcome) return error_response(outcome.error());
  s.deployments->submit(outcome->resource["id"]);
  HttpResponse r = json_response(outcome->created ? 201 : 200, public_view(outcome->resource));
  r.set_header("Azure-AsyncOperation", status_url(ctx, outcome->resource));
  r.set_header("Retry-After", "1");
  return r;
}

HttpResponse validate_deployment(RequestContext& ctx, Services& s) {
  auto body = parse_deployment_body(ctx.request);
  if (!body) return error_response(body.error());
  auto planned = plan_request(ctx, s, *body);
  if (!planned) return error_response(planned.error());
  json properties = planned_properties(*planned, "Succeeded", correlation_of(ctx), s.emulator.clock().now_ms());
  json validated = json::array();
  for (const auto& r : planned->plan.resources()) validated.push_back({{"id", r.id}});
  properties["validatedResources"] = validated;
  auto group = s.emulator.get_resource_group(ctx.param("sub"), ctx.param("rg"));
  const std::string id = (group ? (*group)["id"].get<std::string>() : std::string()) +
                         "/providers/Microsoft.Resources/deployments/" + ctx.param("name");
  return json_response(200, {{"id", id}, {"name", ctx.param("name")}, {"type", "Microsoft.Resources/deployments"},
                             {"properties", properties}});
}

HttpResponse get_deployment(RequestContext& ctx, Services& s) {
  auto record = s.emulator.get_deployment(ctx.param("sub"), ctx.param("rg"), ctx.param("name"));
  if (!record) return error_response(record.error());
  return json_response(200, public_view(*record));
}

// The deployment's Azure-AsyncOperation URL: {"status": Accepted|Running|Succeeded|Failed|Canceled}.
HttpResponse deployment_status(RequestContext& ctx, Services& s) {
  auto record = s.emulator.get_deployment(ctx.param("sub"), ctx.param("rg"), ctx.param("name"));
  if (!record) return error_response(record.error());
  std::string state = record->value("/properties/provisioningState"_json_pointer, "");
  if (state == "Accepted" || state == "Running") {
    // A short deployment ends within a poll's wait: answer its end rather than make the
    // client sleep for Retry-After.
    s.deployments->wait_until_idle((*record)["id"], kStatusLongPollMs);
    record = s.emulator.get_deployment(ctx.param("sub"), ctx.param("rg"), ctx.param("name"));
    if (!record) return error_response(record.error());
    state = record->value("/properties/provisioningState"_json_pointer, "");
  }
  json body = {{"status", state}};
  if (const json* error = &(*record)["properties"]["error"]; !error->is_null()) body["error"] = *error;
  HttpResponse r = json_response(200, body);
  if (state == "Accepted" || state == "Running") r.set_header("Retry-After", "1");
  return r;
}

// The deployment's operation records, in the order they were written.
Result<std::vector<json>> operations_of(RequestContext& ctx, Services& s) {
  auto record = s.emulator.get_deployment(ctx.param("sub"), ctx.param("rg"), ctx.param("name"));
  if (!record) return std::move(record).error();
  return s.emulator.deployment_operations((*record)["id"]);
}

HttpResponse list_deployment_operations(RequestContext& ctx, Services& s) {
  auto operations = operations_of(ctx, s);
  if (!operations) return error_response(operations.error());
  return json_response(200, {{"value", *operations}});
}

HttpResponse get_deployment_operation(RequestContext& ctx, Services& s) {
  auto operations = operations_of(ctx, s);
  if (!operations) return error_response(operations.error());
  for (const json& op : *operations)
    if (iequals(op.value("operationId", ""), ctx.param("op"))) return json_response(200, op);
  return error_response(not_found("DeploymentOperationNotFound", "The operation '" + ctx.param("op") +
                                                                      "' of deployment '" + ctx.param("name") +
                                                                      "' could not be found."));
}

HttpResponse cancel_deployment(RequestContext& ctx, Services& s) {
  auto record = s.emulator.get_deployment(ctx.param("sub"), ctx.param("rg"), ctx.param("name"));
  if (!record) return error_response(record.error());
  const std::string state = record->value("/properties/provisioningState"_json_pointer, "");
  if ((state != "Accepted" && state != "Running") || !s.deployments->cancel((*record)["id"]))
    return error_response(conflict("DeploymentCannotBeCanceled", "The deployment '" + ctx.param("name") +
                                                                      "' cannot be canceled: its provisioning state is '" +
                                                                      state + "'."));
  return empty_response(204);
}

HttpResponse export_template(RequestContext& ctx, Services& s) {
  auto record = s.emulator.get_deployment(ctx.param("sub"), ctx.param("rg"), ctx.param("name"));
  if (!record) return error_response(record.error());
  return json_response(200, {{"template", record->value("/acg:request/template"_json_pointer, json::object())}});
}

HttpResponse delete_deployment(RequestContext& ctx, Services& s) {
  auto existed = s.emulator.delete_deployment(ctx.param("sub"), ctx.param("rg"), ctx.param("name"));
  if (!existed) return error_response(existed.error());
  return empty_response(204);  // deleted at once: both SDKs take 204 as the end of the LRO
}

}  // namespace

void add_deployment_routes(Router& router, Services& s) {
  const ApiFamily family = ApiFamily::resources;
  router.add("GET", kCollection, family, true, [&s](RequestContext& ctx) {
    auto page = s.emulator.list_deployments(ctx.param("sub"), ctx.param("rg"), ctx.query("$skiptoken"));
    if (!page) return error_response(page.error());
    for (json& record : page->items) record = public_view(std::move(record));
    return list_response(ctx, *page);
  });
  router.add("PUT", item(), family, true, [&s](RequestContext& ctx) { return put_deployment(ctx, s); });
  router.add("GET", item(), family, true, [&s](RequestContext& ctx) { return get_deployment(ctx, s); });
  router.add("HEAD", item(), family, true, [&s](RequestContext& ctx) {
    auto record = s.emulator.get_deployment(ctx.param("sub"), ctx.param("rg"), ctx.param("name"));
    if (!record && record.error().status != 404) return error_response(record.error());
    return empty_response(record ? 204 : 404);
  });
  router.add("DELETE", item(), family, true, [&s](RequestContext& ctx) { return delete_deployment(ctx, s); });
  router.add("POST", item("/validate"), family, true, [&s](RequestContext& ctx) { return validate_deployment(ctx, s); });
  router.add("POST", item("/cancel"), family, true, [&s](RequestContext& ctx) { return cancel_deployment(ctx, s); });
  router.add("POST", item("/exportTemplate"), family, true, [&s](RequestContext& ctx) { return export_template(ctx, s); });
  // Deployment operations live outside the provider path in ARM's spec
  // (…/resourcegroups/{rg}/deployments/{name}/operations); both spellings are served.
  for (const std::string& base : {item(), std::string(kOperationsBase)}) {
    router.add("GET", base + "/operations", family, true, [&s](RequestContext& ctx) { return list_deployment_operations(ctx, s); });
    router.add("GET", base + "/operations/{op}", family, true, [&s](RequestContext& ctx) { return get_deployment_operation(ctx, s); });
  }
  router.add("GET", item("/operationStatuses/{op}"), ApiFamily::any, true,
             [&s](RequestContext& ctx) { return deployment_status(ctx, s); });
}

}  // namespace acg::api
