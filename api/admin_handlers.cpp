// The emulator's own endpoints under /_emulator: no token needed (they are for the operator
// and the test harness, on a loopback address by default).

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"

namespace acg::api {

using nlohmann::json;

void add_admin_routes(Router& router, Services& s) {
  router.add("GET", "/_emulator/health", ApiFamily::none, false, [&s](RequestContext&) {
    return json_response(200, json{{"status", "ok"}, {"version", s.version}});
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
}

void add_not_implemented_routes(Router& router) {
  // Operations of the real API (../shared/reference/OPERATIONS.md and the source resources
  // clients create) that later work will serve. Answering 501 beats a silent 404 or success.
  static const char* const kPaths[] = {
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/share",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/scripts",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/scripts/{s}",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/inVMAccessControlProfiles",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/softdeletedartifacttypes/{t}/artifacts/{a}/versions",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/sharedGalleries",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/sharedGalleries/{g}",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/communityGalleries/{g}",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/scripts/{s}/versions",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/scripts/{s}/versions/{v}",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/inVMAccessControlProfiles/{p}",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/inVMAccessControlProfiles/{p}/versions",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/inVMAccessControlProfiles/{p}/versions/{v}",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/sharedGalleries/{g}/images",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/sharedGalleries/{g}/images/{i}",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/sharedGalleries/{g}/images/{i}/versions",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/sharedGalleries/{g}/images/{i}/versions/{v}",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/communityGalleries/{g}/images",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/communityGalleries/{g}/images/{i}",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/communityGalleries/{g}/images/{i}/versions",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/communityGalleries/{g}/images/{i}/versions/{v}",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/sharedGallerySubscriptions/{s}/sharedGalleries/{g}/accept",
      "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{l}/sharedGallerySubscriptions/{s}/sharedGalleries/{g}/reject",
      "/providers/Microsoft.Compute/locations/{l}/tenantLevelSharedGallerySubscriptions/{s}/sharedGalleries/{g}/accept",
      "/providers/Microsoft.Compute/locations/{l}/tenantLevelSharedGallerySubscriptions/{s}/sharedGalleries/{g}/reject",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{n}",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments",
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{n}",
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
  add_identity_routes(router, services);
  add_subscription_routes(router, services);
  add_resource_group_routes(router, services);
  add_gallery_routes(router, services);
  add_source_routes(router, services);
  add_not_implemented_routes(router);
  return router;
}

}  // namespace acg::api
