#include "emulator/gallery_deployment.h"

#include "emulator/region_catalog.h"
#include "emulator/replication.h"
#include "emulator/request_body.h"
#include "emulator/text.h"
#include "emulator/version_name.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kVersionType = "Microsoft.Compute/galleries/images/versions";

ArmError image_not_found(const std::string& image, const std::string& message_tail) {
  return not_found("GalleryImageNotFound", "The gallery image " + image + " " + message_tail);
}

ArmError not_in_region(const std::string& image, const std::string& region) {
  return image_not_found(image, "is not available in " + region +
                                    " region. Please contact image owner to replicate to this region, or change "
                                    "your requested region.");
}

Result<bool> completed_in(const json& version, const std::string& region, Lookup& lookup) {
  auto replicas = lookup.replicas(version);
  if (!replicas) return std::move(replicas).error();
  for (const RegionReplica& r : *replicas)
    if (r.region == region) return r.state == kCompleted;
  return false;
}

// "/SharedGalleries/<name>/Images/<d>[/Versions/<v>]" → {gallery name, definition, version}.
struct PublicReference {
  std::string gallery, definition, version;
};

std::optional<PublicReference> parse_public_reference(const std::string& id, const std::string& root) {
  std::vector<std::string> parts;
  size_t start = 1;
  if (!istarts_with(id, "/" + root + "/")) return std::nullopt;
  while (start <= id.size()) {
    size_t slash = id.find('/', start);
    if (slash == std::string::npos) slash = id.size();
    parts.push_back(id.substr(start, slash - start));
    start = slash + 1;
  }
  if (parts.size() == 4 && iequals(parts[2], "Images")) return PublicReference{parts[1], parts[3], ""};
  if (parts.size() == 6 && iequals(parts[2], "Images") && iequals(parts[4], "Versions"))
    return PublicReference{parts[1], parts[3], parts[5]};
  return std::nullopt;
}

// The definition id a shared or community gallery reference names, or "" when no gallery
// goes by that name for this consumer. Shared galleries go by identifier.uniqueName,
// community galleries by their public names.
Result<std::string> public_definition_id(const PublicReference& ref, bool community, const Consumer& consumer,
                                         Lookup& lookup) {
  auto gallery = find_public_gallery(community ? Audience::community : Audience::shared, ref.gallery, consumer, false,
                                     true, lookup);
  if (!gallery) return std::move(gallery).error();
  if (!*gallery) return std::string();
  return (**gallery)["id"].get<std::string>() + "/images/" + ref.definition;
}

// The definition id and the version name (empty: latest) an image reference names.
struct Target {
  std::string definition_id, version, shown;  // shown: the id as the client gave it
};

Result<std::optional<Target>> target_of(const json& reference, const Consumer& consumer, Lookup& lookup) {
  for (auto [key, root, community] : {std::tuple{"sharedGalleryImageId", "SharedGalleries", false},
                                      std::tuple{"communityGalleryImageId", "CommunityGalleries", true}}) {
    const std::string id = json_text(reference, key);
    if (id.empty()) continue;
    auto ref = parse_public_reference(id, root);
    if (!ref) return bad_request("InvalidParameter", "The " + std::string(key) + " '" + id + "' is not valid.",
                                 std::string("properties.storageProfile.imageReference.") + key);
    auto definition = public_definition_id(*ref, community, consumer, lookup);
    if (!definition) return std::move(definition).error();
    if (definition->empty()) return image_not_found(id, "was not found.");
    return std::optional<Target>{Target{*definition, ref->version, id}};
  }
  const std::string id = json_text(reference, "id");
  const std::string lower = to_lower(id);
  const size_t galleries = lower.find("/providers/microsoft.compute/galleries/");
  if (galleries == std::string::npos || lower.find("/images/", galleries) == std::string::npos)
    return std::optional<Target>{};
  if (const size_t versions = lower.find("/versions/"); versions != std::string::npos)
    return std::optional<Target>{Target{id.substr(0, versions), id.substr(versions + 10), id}};
  return std::optional<Target>{Target{id, "", id}};
}

}  // namespace

// The region's flag wins over the version's own (documented: "the regional flag takes precedence").
bool excluded_from_latest(const json& version, const std::string& region) {
  const json& profile = json_member(json_member(version, "properties"), "publishingProfile");
  bool excluded = profile.value("excludeFromLatest", false);
  if (region.empty() || !profile.contains("targetRegions")) return excluded;
  for (const json& r : profile["targetRegions"])
    if (normalize_location(r.value("name", "")) == normalize_location(region) && r.contains("excludeFromLatest") &&
        r["excludeFromLatest"].is_boolean())
      return r["excludeFromLatest"].get<bool>();
  return excluded;
}

std::optional<json> pick_latest_version(const std::vector<json>& versions, const std::string& region,
                                        const std::function<bool(const json&)>& usable) {
  std::optional<VersionName> best_name;
  std::optional<json> best;
  for (const json& version : versions) {
    auto name = parse_version_name(version.value("name", ""));
    if (!name || excluded_from_latest(version, region) || (usable && !usable(version))) continue;
    if (!best_name || *name > *best_name) {
      best_name = name;
      best = version;
    }
  }
  return best;
}

Result<std::optional<GalleryDeployment>> resolve_gallery_image(const json& reference, const std::string& location,
                                                               const Consumer& consumer, Lookup& lookup) {
  auto target = target_of(reference, consumer, lookup);
  if (!target) return std::move(target).error();
  if (!*target) return std::optional<GalleryDeployment>{};
  const Target& t = **target;
  const Region* r = lookup.regions().find(location);
  const std::string region = r ? r->name : normalize_location(location);

  auto definition = lookup.load(t.definition_id);
  if (!definition) return std::move(definition).error();
  if (!*definition) return image_not_found(t.shown, "was not found.");
  GalleryDeployment out{std::move(**definition), json()};
  if (!t.version.empty()) {
    auto version = lookup.load(t.definition_id + "/versions/" + t.version);
    if (!version) return std::move(version).error();
    if (!*version) return image_not_found(t.shown, "was not found.");
    auto ready = completed_in(**version, region, lookup);
    if (!ready) return std::move(ready).error();
    if (!*ready) return not_in_region(t.shown, region);
    out.version = std::move(**version);
    return std::optional<GalleryDeployment>{std::move(out)};
  }
  auto versions = lookup.children(out.definition["id"], kVersionType);
  if (!versions) return std::move(versions).error();
  std::optional<ArmError> lookup_error;
  auto latest = pick_latest_version(*versions, region, [&](const json& v) {
    auto ready = completed_in(v, region, lookup);
    if (!ready) lookup_error = ready.error();
    return ready && *ready;
  });
  if (lookup_error) return std::move(*lookup_error);
  if (!latest)
    return image_not_found(t.shown, "has no version that can be deployed as 'latest' in " + region +
                                        " region: every version is excluded from latest there or not yet "
                                        "replicated to it.");
  out.version = std::move(*latest);
  return std::optional<GalleryDeployment>{std::move(out)};
}

}  // namespace acg
