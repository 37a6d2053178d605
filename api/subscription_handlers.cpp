// Subscriptions, tenants and resource providers (Microsoft.Resources): what az login and the
// SDKs' provider-registration policy read.

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

namespace {

json subscription_json(const Subscription& s) {
  return json{{"id", "/subscriptions/" + s.id},
              {"subscriptionId", s.id},
              {"tenantId", s.tenant_id},
              {"displayName", s.display_name},
              {"state", "Enabled"},
              {"authorizationSource", "RoleBased"},
              {"managedByTenants", json::array()},
              {"subscriptionPolicies",
               {{"locationPlacementId", "Public_2014-09-01"},
                {"quotaId", "PayAsYouGo_2014-09-01"},
                {"spendingLimit", "Off"}}}};
}

struct ProviderType {
  const char* type;
  bool regional;  // locations listed (else global)
};

// Microsoft.Compute's gallery-related resource types with the api-versions this emulator serves.
const ProviderType kComputeTypes[] = {
    {"galleries", true},
    {"galleries/images", true},
    {"galleries/images/versions", true},
    {"galleries/applications", true},
    {"galleries/applications/versions", true},
    {"locations/capsOperations", false},
    {"locations/sharedGalleries", false},
    {"locations/communityGalleries", false},
};

json compute_provider(const std::string& sub, const Services& s) {
  json locations = json::array();
  for (const Region& r : s.emulator.regions().regions())
    if (r.supports_galleries) locations.push_back(r.display_name);
  json versions = json::array();
  const auto& gallery_versions = supported_api_versions(ApiFamily::gallery);
  for (auto it = gallery_versions.rbegin(); it != gallery_versions.rend(); ++it) versions.push_back(*it);
  json types = json::array();
  for (const auto& t : kComputeTypes)
    types.push_back({{"resourceType", t.type},
                     {"locations", t.regional ? locations : json::array()},
                     {"apiVersions", versions},
                     {"capabilities", "None"}});
  return json{{"id", "/subscriptions/" + sub + "/providers/Microsoft.Compute"},
              {"namespace", "Microsoft.Compute"},
              {"registrationState", "Registered"},
              {"registrationPolicy", "RegistrationRequired"},
              {"resourceTypes", types}};
}

json resources_provider(const std::string& sub) {
  json versions = json::array();
  const auto& group_versions = supported_api_versions(ApiFamily::resources);
  for (auto it = group_versions.rbegin(); it != group_versions.rend(); ++it) versions.push_back(*it);
  return json{{"id", "/subscriptions/" + sub + "/providers/Microsoft.Resources"},
              {"namespace", "Microsoft.Resources"},
              {"registrationState", "Registered"},
              {"registrationPolicy", "RegistrationFree"},
              {"resourceTypes",
               json::array({{{"resourceType", "resourceGroups"}, {"locations", json::array()}, {"apiVersions", versions}},
                            {{"resourceType", "subscriptions"}, {"locations", json::array()}, {"apiVersions", versions}}})}};
}

// The caller may see a subscription only within its own tenant.
Result<const Subscription*> visible_subscription(const RequestContext& ctx, const Services& s) {
  const Subscription* sub = s.emulator.identities().find_subscription(ctx.param("sub"));
  if (!sub || !ctx.principal || !iequals(sub->tenant_id, ctx.principal->tenant_id))
    return not_found("SubscriptionNotFound", "The subscription '" + ctx.param("sub") + "' could not be found.");
  return sub;
}

Result<json> provider(const RequestContext& ctx, const Services& s) {
  auto sub = visible_subscription(ctx, s);
  if (!sub) return std::move(sub).error();
  const std::string& ns = ctx.param("namespace");
  if (iequals(ns, "Microsoft.Compute")) return compute_provider((*sub)->id, s);
  if (iequals(ns, "Microsoft.Resources")) return resources_provider((*sub)->id);
  return not_found("InvalidResourceNamespace", "The resource namespace '" + ns + "' is invalid.");
}

HttpResponse respond(Result<json> result) {
  if (!result) return error_response(result.error());
  return json_response(200, *result);
}

}  // namespace

void add_subscription_routes(Router& router, Services& s) {
  router.add("GET", "/subscriptions", ApiFamily::subscriptions, true, [&s](RequestContext& ctx) {
    json value = json::array();
    // Only the subscriptions the caller holds a role in, as ARM lists them.
    for (const Subscription* sub : s.emulator.identities().subscriptions_of_tenant(ctx.principal->tenant_id))
      if (s.emulator.has_role_within(*ctx.principal, "/subscriptions/" + sub->id)) value.push_back(subscription_json(*sub));
    return json_response(200, json{{"value", value}});
  });
  router.add("GET", "/subscriptions/{sub}", ApiFamily::subscriptions, true, [&s](RequestContext& ctx) {
    auto sub = visible_subscription(ctx, s);
    if (!sub) return error_response(sub.error());
    return json_response(200, subscription_json(**sub));
  });
  router.add("GET", "/tenants", ApiFamily::subscriptions, true, [&s](RequestContext& ctx) {
    const Tenant* t = s.emulator.identities().find_tenant(ctx.principal->tenant_id);
    json value = json::array();
    if (t)
      value.push_back({{"id", "/tenants/" + t->id},
                       {"tenantId", t->id},
                       {"tenantCategory", "Home"},
                       {"displayName", t->display_name},
                       {"defaultDomain", t->default_domain},
                       {"domains", json::array({t->default_domain})}});
    return json_response(200, json{{"value", value}});
  });
  router.add("GET", "/subscriptions/{sub}/providers", ApiFamily::resources, true, [&s](RequestContext& ctx) {
    auto sub = visible_subscription(ctx, s);
    if (!sub) return error_response(sub.error());
    return json_response(200, json{{"value", json::array({compute_provider((*sub)->id, s),
                                                          resources_provider((*sub)->id)})}});
  });
  router.add("GET", "/subscriptions/{sub}/providers/{namespace}", ApiFamily::resources, true,
             [&s](RequestContext& ctx) { return respond(provider(ctx, s)); });
  router.add("POST", "/subscriptions/{sub}/providers/{namespace}/register", ApiFamily::resources, true,
             [&s](RequestContext& ctx) { return respond(provider(ctx, s)); });
}

}  // namespace acg::api
