// The live dashboard under /_emulator/ui: a read-only page (api/ui/, compiled into the binary
// by emulator/data/embed.cmake) and the JSON snapshot it polls, /_emulator/ui/state.
//
//   GET /_emulator/ui           index.html
//   GET /_emulator/ui/app.js    the page's script
//   GET /_emulator/ui/app.css   its styles
//   GET /_emulator/ui/state     subscriptions -> resource groups -> galleries -> definitions ->
//                               versions (per-region replication), deployments, recent
//                               operations, quotas in use, the clock
//
// No token, like every /_emulator route. The assets are a fixed table: any other name is 404,
// so no request can reach the file system. Every answer says Cache-Control: no-store and
// carries a Content-Security-Policy that admits only this origin's script and styles.

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"
#include "emulator/resource_type.h"
#include "emulator/text.h"

// Defined in the files embed.cmake generates from api/ui/.
extern const char* const acg_ui_index_html;
extern const char* const acg_ui_app_js;
extern const char* const acg_ui_app_css;

namespace acg::api {

using nlohmann::json;

namespace {

// A snapshot stays small enough to poll every second: at most this many of each kind.
constexpr std::size_t kMaxItems = 2000;
constexpr std::size_t kRecentOperations = 25;

constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void secure(HttpResponse& r) {
  r.set_header("Cache-Control", "no-store");
  r.set_header("Content-Security-Policy", kContentSecurityPolicy);
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("Referrer-Policy", "no-referrer");
}

HttpResponse asset(const char* body, const char* content_type) {
  HttpResponse r;
  r.body.assign(body, std::strlen(body));
  r.set_header("Content-Type", content_type);
  secure(r);
  return r;
}

struct Asset {
  const char* name;
  const char* const* body;
  const char* content_type;
};

const Asset kAssets[] = {
    {"index.html", &acg_ui_index_html, "text/html; charset=utf-8"},
    {"app.js", &acg_ui_app_js, "text/javascript; charset=utf-8"},
    {"app.css", &acg_ui_app_css, "text/css; charset=utf-8"},
};

// Every item of a paged listing, up to kMaxItems.
template <class Lister>
std::vector<json> all_pages(Lister list) {
  std::vector<json> out;
  std::string continuation;
  do {
    auto page = list(continuation);
    if (!page) break;
    for (auto& item : page->items) out.push_back(std::move(item));
    continuation = page->continuation.value_or("");
  } while (!continuation.empty() && out.size() < kMaxItems);
  if (out.size() > kMaxItems) out.resize(kMaxItems);
  return out;
}

// "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d/versions/v"
// -> {s, rg, {g, d, v}}.
ResourceRef ref_of_id(const std::string& id) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= id.size()) {
    const std::size_t slash = id.find('/', start);
    const std::size_t end = slash == std::string::npos ? id.size() : slash;
    parts.push_back(id.substr(start, end - start));
    start = end + 1;
  }
  ResourceRef ref;
  if (parts.size() >= 4) ref = {parts[1], parts[3], {}};
  for (std::size_t i = 7; i < parts.size(); i += 2) ref.names.push_back(parts[i]);
  return ref;
}

// The lower-cased id of the resource that contains `id` (strip "/<type>/<name>").
std::string parent_key(const std::string& id) {
  std::string key = to_lower(id);
  for (int i = 0; i < 2; ++i) key = key.substr(0, key.rfind('/'));
  return key;
}

// The object member `key` of j, or {} when absent or not an object.
json object_at(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_object() ? j[key] : json::object();
}

std::string str(const json& j, const char* pointer) {
  const json v = j.value(json::json_pointer(pointer), json());
  return v.is_string() ? v.get<std::string>() : std::string();
}

json gallery_view(const json& g) {
  const json props = object_at(g, "properties");
  const json sharing = object_at(props, "sharingProfile");
  return {{"name", g.value("name", "")},
          {"id", g.value("id", "")},
          {"location", g.value("location", "")},
          {"provisioningState", props.value("provisioningState", "")},
          {"description", props.value("description", "")},
          {"sharing",
           {{"permissions", sharing.value("permissions", "Private")},
            {"groups", sharing.value("groups", json::array())},
            {"communityGalleryEnabled", sharing.value("/communityGalleryInfo/communityGalleryEnabled"_json_pointer, false)},
            {"publicNames", sharing.value("/communityGalleryInfo/publicNames"_json_pointer, json::array())},
            {"sharingStatus", str(props, "/sharingStatus/aggregatedState")}}},
          {"definitions", json::array()}};
}

json definition_view(const json& d) {
  const json props = object_at(d, "properties");
  return {{"name", d.value("name", "")},
          {"id", d.value("id", "")},
          {"publisher", str(props, "/identifier/publisher")},
          {"offer", str(props, "/identifier/offer")},
          {"sku", str(props, "/identifier/sku")},
          {"osType", props.value("osType", "")},
          {"osState", props.value("osState", "")},
          {"hyperVGeneration", props.value("hyperVGeneration", "")},
          {"provisioningState", props.value("provisioningState", "")},
          {"versions", json::array()}};
}

// A version with one entry per target region: the profile's counts beside the replication
// status ($expand=ReplicationStatus gives its summary in target-region order).
json version_view(const json& v, const RegionCatalog& regions) {
  const json props = object_at(v, "properties");
  const json profile = object_at(props, "publishingProfile");
  const json summary = props.value("/replicationStatus/summary"_json_pointer, json::array());
  const json targets = profile.value("targetRegions", json::array());
  json out_regions = json::array();
  for (std::size_t i = 0; i < std::max(targets.size(), summary.size()); ++i) {
    const json target = i < targets.size() ? targets[i] : json::object();
    const json status = i < summary.size() ? summary[i] : json::object();
    std::string name = target.value("name", status.value("region", ""));
    if (const Region* region = regions.find(name)) name = region->display_name;
    out_regions.push_back({{"region", name},
                           {"state", status.value("state", "Unknown")},
                           {"progress", status.value("progress", 0)},
                           {"details", status.value("details", "")},
                           {"replicaCount", target.value("regionalReplicaCount", profile.value("replicaCount", 1))},
                           {"storageAccountType", target.value("storageAccountType", profile.value("storageAccountType", ""))},
                           {"excludeFromLatest", target.value("excludeFromLatest", profile.value("excludeFromLatest", false))}});
  }
  return {{"name", v.value("name", "")},
          {"id", v.value("id", "")},
          {"location", v.value("location", "")},
          {"provisioningState", props.value("provisioningState", "")},
          {"replicationState", str(props, "/replicationStatus/aggregatedState")},
          {"replicaCount", profile.value("replicaCount", 1)},
          {"storageAccountType", profile.value("storageAccountType", "")},
          {"excludeFromLatest", profile.value("excludeFromLatest", false)},
          {"endOfLifeDate", profile.value("endOfLifeDate", "")},
          {"publishedDate", profile.value("publishedDate", "")},
          {"regions", std::move(out_regions)}};
}

json operation_view(const OperationStatus& op) {
  json out = {{"id", op.id},         {"kind", op.kind},         {"status", op.status},
              {"startTime", op.start_time}, {"endTime", op.end_time}, {"resourceId", op.resource_id}};
  if (op.error) out["error"] = {{"code", op.error->code}, {"message", op.error->message}};
  return out;
}

// Counts per (subscription, region) of galleries, definitions and versions.
struct Usage {
  int galleries = 0, definitions = 0, versions = 0;
};

json dashboard_state(Services& s) {
  Emulator& emulator = s.emulator;
  const RegionCatalog& regions = emulator.regions();
  json totals = {{"subscriptions", 0}, {"resourceGroups", 0}, {"galleries", 0},     {"definitions", 0},
                 {"versions", 0},      {"replicating", 0},    {"deployments", 0}};
  std::map<std::pair<std::string, std::string>, Usage> usage;
  auto region_name = [&](const std::string& location) {
    const Region* region = regions.find(location);
    return region ? region->name : to_lower(location);
  };

  json subscriptions = json::array();
  const json identities = emulator.identities_json();  // the loop below must not outlive it
  for (const json& sub : identities["subscriptions"]) {
    const std::string sub_id = sub.value("id", "");
    json groups = json::array();
    std::map<std::string, std::size_t> group_at;  // lower-cased id -> index in groups
    for (const json& rg : all_pages([&](const std::string& c) { return emulator.list_resource_groups(sub_id, c); })) {
      json deployments = json::array();
      for (const json& d : all_pages([&](const std::string& c) {
             return emulator.list_deployments(sub_id, rg.value("name", ""), c);
           })) {
        deployments.push_back({{"name", d.value("name", "")},
                               {"provisioningState", str(d, "/properties/provisioningState")},
                               {"timestamp", str(d, "/properties/timestamp")},
                               {"duration", str(d, "/properties/duration")},
                               {"error", str(d, "/properties/error/message")}});
      }
      totals["deployments"] = totals["deployments"].get<int>() + static_cast<int>(deployments.size());
      group_at[to_lower(rg.value("id", ""))] = groups.size();
      groups.push_back({{"name", rg.value("name", "")},
                        {"location", rg.value("location", "")},
                        {"provisioningState", str(rg, "/properties/provisioningState")},
                        {"galleries", json::array()},
                        {"deployments", std::move(deployments)}});
    }

    // Galleries, then their definitions, then versions, each hung under its parent by id.
    std::map<std::string, json*> gallery_at, definition_at;
    for (const json& g : all_pages([&](const std::string& c) {
           return emulator.list_resources_in_subscription(gallery_type(), sub_id, c);
         })) {
      auto it = group_at.find(parent_key(parent_key(g.value("id", ""))));  // skip providers/Microsoft.Compute
      if (it == group_at.end()) continue;
      json& list = groups[it->second]["galleries"];
      list.push_back(gallery_view(g));
      ++usage[{sub_id, region_name(g.value("location", ""))}].galleries;
      totals["galleries"] = totals["galleries"].get<int>() + 1;
    }
    // Pointers into `groups` are taken only once every gallery is in place.
    for (auto& group : groups)
      for (auto& gallery : group["galleries"]) gallery_at[to_lower(gallery["id"].get<std::string>())] = &gallery;

    for (const json& d : all_pages([&](const std::string& c) {
           return emulator.list_resources_in_subscription(gallery_image_type(), sub_id, c);
         })) {
      auto it = gallery_at.find(parent_key(d.value("id", "")));
      if (it == gallery_at.end()) continue;
      (*it->second)["definitions"].push_back(definition_view(d));
      ++usage[{sub_id, region_name(d.value("location", ""))}].definitions;
      totals["definitions"] = totals["definitions"].get<int>() + 1;
    }
    for (auto& [key, gallery] : gallery_at)
      for (auto& definition : (*gallery)["definitions"])
        definition_at[to_lower(definition["id"].get<std::string>())] = &definition;

    for (const json& v : all_pages([&](const std::string& c) {
           return emulator.list_resources_in_subscription(gallery_image_version_type(), sub_id, c);
         })) {
      auto it = definition_at.find(parent_key(v.value("id", "")));
      if (it == definition_at.end()) continue;
      auto expanded = emulator.get_resource(gallery_image_version_type(), ref_of_id(v.value("id", "")),
                                            "ReplicationStatus");
      json view = version_view(expanded ? *expanded : v, regions);
      for (const json& r : view["regions"])
        if (r["state"] == "Replicating") totals["replicating"] = totals["replicating"].get<int>() + 1;
      (*it->second)["versions"].push_back(std::move(view));
      ++usage[{sub_id, region_name(v.value("location", ""))}].versions;
      totals["versions"] = totals["versions"].get<int>() + 1;
    }

    totals["resourceGroups"] = totals["resourceGroups"].get<int>() + static_cast<int>(groups.size());
    subscriptions.push_back({{"subscriptionId", sub_id},
                             {"displayName", sub.value("displayName", "")},
                             {"tenantId", sub.value("tenantId", "")},
                             {"resourceGroups", std::move(groups)}});
  }
  totals["subscriptions"] = static_cast<int>(subscriptions.size());

  // The limits each subscription really has (admin overrides, config, documented defaults).
  std::map<std::string, json> limits_of;
  json quotas = json::array();
  for (const auto& [key, u] : usage) {
    json& limits = limits_of[key.first];
    if (limits.is_null()) {
      auto q = emulator.quotas_of(key.first);
      limits = q ? (*q)["limits"] : json::object();
    }
    auto limit = [&](const char* kind) { return limits.value(kind, std::int64_t{0}); };
    const Region* region = regions.find(key.second);
    quotas.push_back({{"subscriptionId", key.first},
                      {"region", region ? region->display_name : key.second},
                      {"galleries", {{"used", u.galleries}, {"limit", limit("galleries")}}},
                      {"definitions", {{"used", u.definitions}, {"limit", limit("imageDefinitions")}}},
                      {"versions", {{"used", u.versions}, {"limit", limit("imageVersions")}}}});
  }

  json operations = json::array();
  if (auto ops = emulator.recent_operations(kRecentOperations))
    for (const auto& op : *ops) operations.push_back(operation_view(op));

  return {{"emulatorVersion", s.version},
          {"clock", emulator.clock_info()},
          {"totals", std::move(totals)},
          {"subscriptions", std::move(subscriptions)},
          {"operations", std::move(operations)},
          {"quotas", std::move(quotas)}};
}

}  // namespace

void add_dashboard_routes(Router& router, Services& s) {
  router.add("GET", "/_emulator/ui", ApiFamily::none, false,
             [](RequestContext&) { return asset(acg_ui_index_html, "text/html; charset=utf-8"); });
  router.add("GET", "/_emulator/ui/state", ApiFamily::none, false, [&s](RequestContext&) {
    HttpResponse r = json_response(200, dashboard_state(s));
    secure(r);
    return r;
  });
  // One segment only: "/_emulator/ui/../x" has more and matches no route (404); a name not in
  // the table, whatever its encoding decoded to, is 404 here.
  router.add("GET", "/_emulator/ui/{asset}", ApiFamily::none, false, [](RequestContext& ctx) {
    const std::string& name = ctx.param("asset");
    for (const Asset& a : kAssets)
      if (name == a.name) return asset(*a.body, a.content_type);
    HttpResponse r = error_response(
        ArmError{404, "NotFound", "The dashboard has no asset named '" + name + "'.", {}, {}});
    secure(r);
    return r;
  });
}

}  // namespace acg::api
