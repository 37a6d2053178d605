// GET /_emulator/metrics: the operator's Prometheus scrape target (text exposition 0.0.4).
// No token, like every /_emulator route.

#include "api/arm_conventions.h"
#include "api/metrics.h"
#include "api/routes.h"
#include "emulator/emulator.h"

namespace acg::api {

void add_metrics_routes(Router& router, Services& s) {
  router.add("GET", "/_emulator/metrics", ApiFamily::none, false, [&s](RequestContext&) {
    if (!s.metrics) return error_response(not_found("NotFound", "This emulator keeps no metrics."));
    auto counts = s.emulator.counts();
    if (!counts) return error_response(counts.error());
    MetricsGauges gauges{counts->operations_in_progress, counts->jobs_by_state, counts->resources_by_type};
    HttpResponse r;
    r.body = s.metrics->render(gauges);
    r.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return r;
  });
}

}  // namespace acg::api
