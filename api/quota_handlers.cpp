// Subscription quotas (emulator/quotas.h): Compute's usages list, which `az vm list-usage`
// and the SDKs' `usage.list(location)` read, and the operator's /_emulator/quotas.

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"

namespace acg::api {

using nlohmann::json;

void add_quota_routes(Router& router, Services& s) {
  // ListUsagesResult: one page holds them all (three counters).
  router.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/usages", ApiFamily::compute,
             true, [&s](RequestContext& ctx) {
               auto usages = s.emulator.usages(ctx.param("sub"), ctx.param("location"));
               if (!usages) return error_response(usages.error());
               return list_response(ctx, ListPage{std::move(*usages), std::nullopt});
             });

  // The operator's view and overrides (no token, like every /_emulator endpoint).
  router.add("GET", "/_emulator/quotas/{sub}", ApiFamily::none, false, [&s](RequestContext& ctx) {
    auto quotas = s.emulator.quotas_of(ctx.param("sub"));
    if (!quotas) return error_response(quotas.error());
    return json_response(200, *quotas);
  });
  router.add("PUT", "/_emulator/quotas/{sub}", ApiFamily::none, false, [&s](RequestContext& ctx) {
    auto body = parse_json_body(ctx.request, false);
    if (!body) return error_response(body.error());
    auto quotas = s.emulator.set_quota_overrides(ctx.param("sub"), *body);
    if (!quotas) return error_response(quotas.error());
    return json_response(200, *quotas);
  });
  router.add("DELETE", "/_emulator/quotas/{sub}", ApiFamily::none, false, [&s](RequestContext& ctx) {
    auto quotas = s.emulator.clear_quota_overrides(ctx.param("sub"));
    if (!quotas) return error_response(quotas.error());
    return json_response(200, *quotas);
  });
}

}  // namespace acg::api
