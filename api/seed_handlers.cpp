// /_emulator/seed and /_emulator/snapshot (README "Seeding and snapshots"): no token, like
// every /_emulator route; the work is api/seeder.h's.

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "api/seeder.h"

namespace acg::api {

void add_seed_routes(Router& router, Services& s) {
  // POST a seed document: 200 with a summary, or 400 InvalidSeed naming the entry that failed.
  router.add("POST", "/_emulator/seed", ApiFamily::none, false, [&s](RequestContext& ctx) {
    if (!s.seeder) return error_response(internal_error("Seeding is not available in this emulator."));
    auto body = parse_json_body(ctx.request, false);
    if (!body) return error_response(body.error());
    auto loaded = s.seeder->load(*body);
    if (!loaded) return error_response(loaded.error());
    return json_response(200, *loaded);
  });
  // The whole state as a seed document.
  router.add("GET", "/_emulator/snapshot", ApiFamily::none, false, [&s](RequestContext&) {
    if (!s.seeder) return error_response(internal_error("Snapshots are not available in this emulator."));
    auto snapshot = s.seeder->snapshot();
    if (!snapshot) return error_response(snapshot.error());
    return json_response(200, *snapshot);
  });
}

}  // namespace acg::api
