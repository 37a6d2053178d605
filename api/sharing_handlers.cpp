// Gallery sharing over HTTP: POST .../galleries/{g}/share, and the consumer reads under
// /subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/sharedGalleries/...
// and .../communityGalleries/... (rules in emulator/gallery_sharing.h and shared_galleries.h).

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

namespace {

// A consumer route: which proxies, how many names the path carries, and whether it lists.
struct PublicRoute {
  Audience audience;
  size_t names;  // a get: the item's depth (1 gallery .. 3 version); a list: its parent's (0 .. 2)
  bool list;
};

// ".../locations/{location}/sharedGalleries/{n0}/images/{n1}/versions" and the like.
std::string public_template(const PublicRoute& route) {
  static const char* const kItems[] = {"/{n0}", "/images/{n1}", "/versions/{n2}"};
  static const char* const kCollections[] = {"", "/images", "/versions"};
  std::string path = "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/";
  path += route.audience == Audience::shared ? "sharedGalleries" : "communityGalleries";
  for (size_t i = 0; i < route.names; ++i) path += kItems[i];
  if (route.list && route.names > 0) path += kCollections[route.names];
  return path;
}

// sharedTo: absent, or "tenant" (only galleries shared with the consumer's whole tenant).
Result<bool> tenant_only(const RequestContext& ctx) {
  const std::string value = ctx.query("sharedTo");
  if (value.empty()) return false;
  if (iequals(value, "tenant")) return true;
  return bad_request("InvalidParameter",
                     "The value '" + value + "' of parameter 'sharedTo' is not valid. Allowed values are 'tenant'.",
                     "sharedTo");
}

HttpResponse public_read(RequestContext& ctx, Services& s, const PublicRoute& route) {
  PublicGalleryRef ref{route.audience, ctx.param("location"), {}, false};
  for (size_t i = 0; i < route.names; ++i) ref.names.push_back(ctx.param("n" + std::to_string(i)));
  if (!route.list) {
    auto item = s.emulator.get_public_resource(ctx.param("sub"), std::move(ref));
    if (!item) return error_response(item.error());
    return json_response(200, *item);
  }
  auto tenant = tenant_only(ctx);
  if (!tenant) return error_response(tenant.error());
  ref.tenant_only = *tenant;
  auto page = s.emulator.list_public_resources(ctx.param("sub"), std::move(ref), ctx.query("$skiptoken"));
  if (!page) return error_response(page.error());
  return list_response(ctx, *page);
}

// Answers the SharingUpdate as applied: 200 at once, or 202 and a long-running operation
// whose Location answers the same body at the end (what az prints).
HttpResponse share(RequestContext& ctx, Services& s) {
  auto body = parse_json_body(ctx.request, false);
  if (!body) return error_response(body.error());
  ResourceRef ref{ctx.param("sub"), ctx.param("rg"), {ctx.param("g")}};
  auto outcome = s.emulator.share_gallery(ref, *body);
  if (!outcome) return error_response(outcome.error());
  return action_response(ctx, outcome->update, outcome->operation);
}

}  // namespace

void add_sharing_routes(Router& router, Services& s) {
  router.add("POST", "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/share",
             ApiFamily::gallery, true, [&s](RequestContext& ctx) { return share(ctx, s); });
  // Direct sharing lists galleries, images and versions; a community gallery is reached by
  // its public name only (az lists them through Azure Resource Graph, not Compute).
  const PublicRoute routes[] = {
      {Audience::shared, 0, true},     {Audience::shared, 1, false},    {Audience::shared, 1, true},
      {Audience::shared, 2, false},    {Audience::shared, 2, true},     {Audience::shared, 3, false},
      {Audience::community, 1, false}, {Audience::community, 1, true},  {Audience::community, 2, false},
      {Audience::community, 2, true},  {Audience::community, 3, false},
  };
  for (const PublicRoute& route : routes)
    router.add("GET", public_template(route), ApiFamily::gallery, true,
               [&s, route](RequestContext& ctx) { return public_read(ctx, s, route); });
}

}  // namespace acg::api
