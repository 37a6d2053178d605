// Storage cost on the admin API (no token, like every /_emulator route):
//   GET /_emulator/cost?scope=ID[&keep=N[&olderThanDays=D][&deleteEndOfLife=true]]
//   GET /_emulator/prices                      the price table in use
// and the ARM list the retention tool reads to find versions VMs use:
//   GET /subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines

#include <charconv>

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"
#include "emulator/source_types.h"

namespace acg::api {

using nlohmann::json;

namespace {

ArmError invalid_query(const std::string& name, const std::string& value, const std::string& expected) {
  return bad_request("InvalidQueryParameterValue",
                     "The value '" + value + "' of query parameter '" + name + "' is not valid: " + expected + ".", name);
}

Result<int> count_parameter(RequestContext& ctx, const char* name) {
  const std::string text = ctx.query(name);
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0)
    return invalid_query(name, text, "a whole number >= 0");
  return value;
}

// keep / olderThanDays / deleteEndOfLife: a retention policy to plan, when keep is given.
Result<std::optional<RetentionPolicy>> policy_of(RequestContext& ctx) {
  const bool any = !ctx.query("keep").empty() || !ctx.query("olderThanDays").empty() || !ctx.query("deleteEndOfLife").empty();
  if (!any) return std::optional<RetentionPolicy>{};
  if (ctx.query("keep").empty())
    return invalid_query("keep", "", "a retention plan needs keep (the newest versions kept per definition)");
  RetentionPolicy policy;
  auto keep = count_parameter(ctx, "keep");
  if (!keep) return std::move(keep).error();
  policy.keep = *keep;
  if (!ctx.query("olderThanDays").empty()) {
    auto days = count_parameter(ctx, "olderThanDays");
    if (!days) return std::move(days).error();
    policy.older_than_days = *days;
  }
  const std::string eol = ctx.query("deleteEndOfLife");
  if (!eol.empty() && eol != "true" && eol != "false") return invalid_query("deleteEndOfLife", eol, "true or false");
  policy.delete_end_of_life = eol == "true";
  return std::optional<RetentionPolicy>{policy};
}

}  // namespace

void add_cost_routes(Router& router, Services& s) {
  router.add("GET", "/_emulator/cost", ApiFamily::none, false, [&s](RequestContext& ctx) {
    const std::string scope = ctx.query("scope");
    if (scope.empty())
      return error_response(bad_request("InvalidScope", "The query parameter 'scope' is required: a subscription, "
                                                        "resource group, gallery, image definition or image version id.",
                                        "scope"));
    auto policy = policy_of(ctx);
    if (!policy) return error_response(policy.error());
    auto report = s.emulator.storage_cost(scope, *policy);
    if (!report) return error_response(report.error());
    return json_response(200, *report);
  });
  router.add("GET", "/_emulator/prices", ApiFamily::none, false,
             [&s](RequestContext&) { return json_response(200, s.emulator.settings().prices.to_json()); });
  router.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines", ApiFamily::compute, true,
             [&s](RequestContext& ctx) {
               auto page = s.emulator.list_resources_in_subscription(virtual_machine_type(), ctx.param("sub"),
                                                                     ctx.query("$skiptoken"));
               if (!page) return error_response(page.error());
               return list_response(ctx, *page);
             });
}

}  // namespace acg::api
