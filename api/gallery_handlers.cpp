// Galleries (Microsoft.Compute/galleries) and the status of Compute's long-running operations.

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"

namespace acg::api {

using nlohmann::json;

namespace {

constexpr const char* kGallery =
    "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{gallery}";

GalleryRef gallery_ref(const RequestContext& ctx) {
  return GalleryRef{ctx.param("sub"), ctx.param("rg"), ctx.param("gallery")};
}

HttpResponse write_gallery(RequestContext& ctx, Services& s, bool patch) {
  auto body = parse_json_body(ctx.request, false);
  if (!body) return error_response(body.error());
  auto outcome = patch ? s.emulator.patch_gallery(gallery_ref(ctx), *body)
                       : s.emulator.put_gallery(gallery_ref(ctx), *body);
  if (!outcome) return error_response(outcome.error());
  if (patch) outcome->created = false;  // PATCH answers 200 only (Python SDK rejects others)
  return write_response(ctx, *outcome);
}

HttpResponse list_page(const RequestContext& ctx, Result<ListPage> page) {
  if (!page) return error_response(page.error());
  return list_response(ctx, *page);
}

json operation_json(const OperationStatus& op) {
  json body = {{"name", op.id}, {"status", op.status}, {"startTime", op.start_time}};
  if (!op.end_time.empty()) body["endTime"] = op.end_time;
  if (op.error) body["error"] = error_to_json(*op.error);
  return body;
}

// Azure-AsyncOperation: always 200 with the status body. Location (monitor=true): 202 while
// running, then 200 (Compute's DELETE and POST monitors).
HttpResponse operation_status(RequestContext& ctx, Services& s) {
  auto op = s.emulator.get_operation(ctx.param("sub"), ctx.param("operation"));
  if (!op) return error_response(op.error());
  if (ctx.query("monitor") != "true") {
    HttpResponse r = json_response(200, operation_json(*op));
    if (op->status == "InProgress") r.set_header("Retry-After", "1");
    return r;
  }
  if (op->status == "InProgress") {
    HttpResponse r = empty_response(202);
    r.set_header("Location", ctx.base_url + ctx.target.path + "?monitor=true&api-version=" + ctx.api_version);
    r.set_header("Retry-After", "1");
    return r;
  }
  if (op->error) return error_response(*op->error);
  return empty_response(200);
}

}  // namespace

void add_gallery_routes(Router& router, Services& s) {
  router.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/galleries", ApiFamily::gallery, true,
             [&s](RequestContext& ctx) {
               return list_page(ctx, s.emulator.list_galleries_in_subscription(ctx.param("sub"), ctx.query("$skiptoken")));
             });
  router.add("GET", "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries",
             ApiFamily::gallery, true, [&s](RequestContext& ctx) {
               return list_page(ctx, s.emulator.list_galleries_in_group(ctx.param("sub"), ctx.param("rg"),
                                                                        ctx.query("$skiptoken")));
             });
  router.add("PUT", kGallery, ApiFamily::gallery, true, [&s](RequestContext& ctx) { return write_gallery(ctx, s, false); });
  router.add("PATCH", kGallery, ApiFamily::gallery, true, [&s](RequestContext& ctx) { return write_gallery(ctx, s, true); });
  router.add("GET", kGallery, ApiFamily::gallery, true, [&s](RequestContext& ctx) {
    auto gallery = s.emulator.get_gallery(gallery_ref(ctx));
    if (!gallery) return error_response(gallery.error());
    return json_response(200, *gallery);
  });
  router.add("DELETE", kGallery, ApiFamily::gallery, true, [&s](RequestContext& ctx) {
    auto outcome = s.emulator.delete_gallery(gallery_ref(ctx));
    if (!outcome) return error_response(outcome.error());
    return delete_response(ctx, *outcome);
  });
  router.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/capsOperations/{operation}",
             ApiFamily::any, true, [&s](RequestContext& ctx) { return operation_status(ctx, s); });
}

}  // namespace acg::api
