// The emulator's own endpoints under /_emulator: no token needed (they are for the operator
// and the test harness, on a loopback address by default).

#include "api/arm_conventions.h"
#include "api/routes.h"
#include <cstdlib>

#include "emulator/emulator.h"

namespace acg::api {

using nlohmann::json;

namespace {

ArmError invalid_request(const std::string& message, const std::string& target = {}) {
  return ArmError{400, "InvalidRequestContent", message, target, {}};
}

// A number member, or `fallback` when absent; an error when present but not a number.
Result<double> number_member(const json& body, const char* key, double fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  if (!body[key].is_number()) return invalid_request(std::string("'") + key + "' must be a number.", key);
  return body[key].get<double>();
}

// POST /_emulator/clock/advance: {"seconds": N} or {"milliseconds": N}, or ?seconds=N.
Result<std::int64_t> advance_amount(RequestContext& ctx) {
  if (!ctx.query("seconds").empty() || !ctx.query("milliseconds").empty()) {
    const bool seconds = !ctx.query("seconds").empty();
    const std::string text = seconds ? ctx.query("seconds") : ctx.query("milliseconds");
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || value < 0)
      return invalid_request("'" + text + "' is not a non-negative number.");
    return static_cast<std::int64_t>(seconds ? value * 1000 : value);
  }
  auto body = parse_json_body(ctx.request, false);
  if (!body) return std::move(body).error();
  auto seconds = number_member(*body, "seconds", 0);
  auto millis = number_member(*body, "milliseconds", 0);
  if (!seconds) return std::move(seconds).error();
  if (!millis) return std::move(millis).error();
  if (*seconds < 0 || *millis < 0 || *seconds > 3.2e9 || *millis > 3.2e12)
    return invalid_request("Time only moves forward, by at most a century at once.");
  return static_cast<std::int64_t>(*seconds * 1000 + *millis);
}

Result<RegionFault> region_fault_of(const json& f, const RegionCatalog& regions) {
  if (!f.is_object() || !f.contains("region") || !f["region"].is_string())
    return invalid_request("A region fault needs 'region' (e.g. \"eastus2\").", "regions");
  const Region* region = regions.find(f["region"].get<std::string>());
  if (!region) return invalid_request("Unknown region '" + f["region"].get<std::string>() + "'.", "regions.region");
  RegionFault fault{region->name, f.value("fail", false), 1, 1};
  if (f.contains("fail") && !f["fail"].is_boolean()) return invalid_request("'fail' must be true or false.", "regions.fail");
  auto probability = number_member(f, "probability", 1);
  auto slow = number_member(f, "slowFactor", 1);
  if (!probability) return std::move(probability).error();
  if (!slow) return std::move(slow).error();
  if (*probability < 0 || *probability > 1) return invalid_request("'probability' must be within 0..1.", "regions.probability");
  if (*slow < 1 || *slow > 1e6) return invalid_request("'slowFactor' must be within 1..1000000.", "regions.slowFactor");
  fault.probability = *probability;
  fault.slow_factor = *slow;
  return fault;
}

Result<OperationFault> operation_fault_of(const json& f) {
  if (!f.is_object()) return invalid_request("An operation fault is an object.", "operations");
  OperationFault fault{f.value("method", "*"), f.value("resourceType", "*"), 1,
                       ArmError{500, "InternalServerError",
                                "An internal server error occurred (injected by /_emulator/faults).", {}, {}}};
  auto count = number_member(f, "count", 1);
  auto status = number_member(f, "status", 500);
  if (!count) return std::move(count).error();
  if (!status) return std::move(status).error();
  if (*count < 1 || *status < 400 || *status > 599)
    return invalid_request("'count' must be >= 1 and 'status' an HTTP error status (400..599).", "operations");
  fault.remaining = static_cast<int>(*count);
  fault.error.status = static_cast<int>(*status);
  if (f.contains("code") && f["code"].is_string()) fault.error.code = f["code"];
  if (f.contains("message") && f["message"].is_string()) fault.error.message = f["message"];
  return fault;
}

// POST /_emulator/faults: {"seed"?, "regions": [...], "operations": [...]} adds faults.
Status add_faults(RequestContext& ctx, Emulator& emulator) {
  auto body = parse_json_body(ctx.request, false);
  if (!body) return std::move(body).error();
  if (!body->is_object()) return invalid_request("The body must be a JSON object.");
  std::vector<RegionFault> regions;
  std::vector<OperationFault> operations;
  for (const json& f : body->value("regions", json::array())) {
    auto fault = region_fault_of(f, emulator.regions());
    if (!fault) return std::move(fault).error();
    regions.push_back(*fault);
  }
  for (const json& f : body->value("operations", json::array())) {
    auto fault = operation_fault_of(f);
    if (!fault) return std::move(fault).error();
    operations.push_back(*fault);
  }
  // All or nothing: only a fully valid body changes the plan.
  FaultPlan& plan = emulator.faults();
  if (body->contains("seed") && (*body)["seed"].is_number_unsigned()) plan.seed((*body)["seed"].get<std::uint64_t>());
  for (auto& f : regions) plan.add_region_fault(std::move(f));
  for (auto& f : operations) plan.add_operation_fault(std::move(f));
  return ok_status();
}

}  // namespace

void add_admin_routes(Router& router, Services& s) {
  router.add("GET", "/_emulator/health", ApiFamily::none, false, [&s](RequestContext&) {
    json health{{"status", "ok"}, {"version", s.version}};
    if (s.ports) {
      // The listeners, as bound (port 0 picks a free one): 0 means off.
      health["ports"] = {{"https", s.ports->https.load()}, {"proxy", s.ports->proxy.load()}, {"ssh", s.ports->ssh.load()}};
    }
    return json_response(200, health);
  });
  router.add("GET", "/_emulator/ca.pem", ApiFamily::none, false, [&s](RequestContext&) {
    HttpResponse r;
    r.body = s.ca_certificate_pem;
    r.set_header("Content-Type", "application/x-pem-file");
    return r;
  });
  router.add("POST", "/_emulator/reset", ApiFamily::none, false, [&s](RequestContext&) {
    if (auto st = s.emulator.reset(); !st) return error_response(st.error());
    return json_response(200, json{{"status", "reset"}});
  });
  // Identities at run time: {"tenants", "subscriptions", "principals"} in one call, or one
  // principal at /_emulator/principals.
  router.add("GET", "/_emulator/identities", ApiFamily::none, false,
             [&s](RequestContext&) { return json_response(200, s.emulator.identities_json()); });
  router.add("GET", "/_emulator/principals", ApiFamily::none, false, [&s](RequestContext&) {
    return json_response(200, json{{"value", s.emulator.identities_json()["principals"]}});
  });
  router.add("POST", "/_emulator/identities", ApiFamily::none, false, [&s](RequestContext& ctx) {
    auto body = parse_json_body(ctx.request, false);
    if (!body) return error_response(body.error());
    auto added = s.emulator.add_identities(*body);
    if (!added) return error_response(added.error());
    return json_response(201, *added);
  });
  router.add("POST", "/_emulator/principals", ApiFamily::none, false, [&s](RequestContext& ctx) {
    auto body = parse_json_body(ctx.request, false);
    if (!body) return error_response(body.error());
    auto added = s.emulator.add_identities(json{{"principals", json::array({*body})}});
    if (!added) return error_response(added.error());
    return json_response(201, (*added)["principals"][0]);
  });
  // Private endpoint emulation: {"galleryId", "allowedAddressRanges": [...]}; [] lifts it.
  router.add("GET", "/_emulator/network-rules", ApiFamily::none, false,
             [&s](RequestContext&) { return json_response(200, s.emulator.network_rules_json()); });
  router.add("PUT", "/_emulator/network-rules", ApiFamily::none, false, [&s](RequestContext& ctx) {
    auto body = parse_json_body(ctx.request, false);
    if (!body) return error_response(body.error());
    if (!body->is_object() || !(*body)["galleryId"].is_string() || !(*body)["allowedAddressRanges"].is_array())
      return error_response(invalid_request("The body needs 'galleryId' and 'allowedAddressRanges' (an array)."));
    std::vector<std::string> ranges;
    for (const json& r : (*body)["allowedAddressRanges"]) {
      if (!r.is_string()) return error_response(invalid_request("allowedAddressRanges holds strings.", "allowedAddressRanges"));
      ranges.push_back(r);
    }
    if (auto st = s.emulator.set_network_rule((*body)["galleryId"], ranges); !st) return error_response(st.error());
    return json_response(200, s.emulator.network_rules_json());
  });
  router.add("GET", "/_emulator/clock", ApiFamily::none, false,
             [&s](RequestContext&) { return json_response(200, s.emulator.clock_info()); });
  router.add("POST", "/_emulator/clock/advance", ApiFamily::none, false, [&s](RequestContext& ctx) {
    auto delta = advance_amount(ctx);
    if (!delta) return error_response(delta.error());
    if (auto st = s.emulator.advance_clock(*delta); !st) return error_response(st.error());
    return json_response(200, s.emulator.clock_info());
  });
  // Build logs (image pipelines): ?resourceId=<id> one resource's lines, else which exist.
  router.add("GET", "/_emulator/buildlogs", ApiFamily::none, false, [&s](RequestContext& ctx) {
    const std::string id = ctx.query("resourceId");
    auto log = id.empty() ? s.emulator.build_logs() : s.emulator.build_log(id);
    if (!log) return error_response(log.error());
    return json_response(200, *log);
  });
  router.add("GET", "/_emulator/replications", ApiFamily::none, false, [&s](RequestContext& ctx) {
    // $top bounds the answer (default 1000): a lab's thousands of jobs need not all travel.
    std::size_t top = 1000;
    if (const std::string text = ctx.query("$top"); !text.empty()) {
      char* end = nullptr;
      const long long value = std::strtoll(text.c_str(), &end, 10);
      if (end == text.c_str() || *end != '\0' || value < 0)
        return error_response(invalid_request("$top must be a non-negative integer.", "$top"));
      top = static_cast<std::size_t>(value);
    }
    auto jobs = s.emulator.replications(top);
    if (!jobs) return error_response(jobs.error());
    return json_response(200, *jobs);
  });
  router.add("GET", "/_emulator/faults", ApiFamily::none, false,
             [&s](RequestContext&) { return json_response(200, s.emulator.faults().to_json()); });
  router.add("POST", "/_emulator/faults", ApiFamily::none, false, [&s](RequestContext& ctx) {
    if (auto st = add_faults(ctx, s.emulator); !st) return error_response(st.error());
    return json_response(200, s.emulator.faults().to_json());
  });
  router.add("DELETE", "/_emulator/faults", ApiFamily::none, false, [&s](RequestContext&) {
    s.emulator.faults().clear();
    return json_response(200, s.emulator.faults().to_json());
  });
}

void add_not_implemented_routes(Router& router) {
  // Operations of the real API (../shared/reference/OPERATIONS.md and the source resources
  // clients create) that later work will serve. Answering 501 beats a silent 404 or success.
  static const char* const kPaths[] = {
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/scripts",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/scripts/{s}",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/inVMAccessControlProfiles",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/scripts/{s}/versions",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/scripts/{s}/versions/{v}",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/inVMAccessControlProfiles/{p}",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/inVMAccessControlProfiles/{p}/versions",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/inVMAccessControlProfiles/{p}/versions/{v}",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/sharedGallerySubscriptions/{s}/sharedGalleries/{g}/accept",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/sharedGallerySubscriptions/{s}/sharedGalleries/{g}/reject",
      "/providers/Microsoft.Compute/locations/{l}/tenantLevelSharedGallerySubscriptions/{s}/sharedGalleries/{g}/accept",
      "/providers/Microsoft.Compute/locations/{l}/tenantLevelSharedGallerySubscriptions/{s}/sharedGalleries/{g}/reject",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{n}",
  };
  for (const char* path : kPaths)
    for (const char* method : {"GET", "PUT", "PATCH", "DELETE", "POST"})
      router.add(method, path, ApiFamily::none, true, [](RequestContext& ctx) {
        return error_response(ArmError{501, "NotImplemented",
                                       "The operation '" + ctx.request.method + " " + ctx.target.path +
                                           "' is part of the real ARM API but is not implemented by "
                                           "this version of acg-emulator.",
                                       {}, {}});
      });
}

Router build_router(Services& services) {
  Router router;
  add_admin_routes(router, services);
  add_seed_routes(router, services);
  add_identity_routes(router, services);
  add_subscription_routes(router, services);
  add_resource_group_routes(router, services);
  add_gallery_routes(router, services);
  add_source_routes(router, services);
  add_network_routes(router, services);
  add_authorization_routes(router, services);
  add_policy_routes(router, services);
  add_sharing_routes(router, services);
  add_deployment_routes(router, services);
  add_dashboard_routes(router, services);
  add_metrics_routes(router, services);
  add_cost_routes(router, services);
  add_quota_routes(router, services);
  add_marketplace_routes(router, services);
  add_image_builder_routes(router, services);
  add_not_implemented_routes(router);
  return router;
}

}  // namespace acg::api
