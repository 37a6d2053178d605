#include "emulator/shared_galleries.h"

#include "emulator/gallery_deployment.h"
#include "emulator/region_catalog.h"
#include "emulator/replication.h"
#include "emulator/request_body.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kGalleryType = "Microsoft.Compute/galleries";
constexpr const char* kImageType = "Microsoft.Compute/galleries/images";
constexpr const char* kVersionType = "Microsoft.Compute/galleries/images/versions";

// The image definition properties a consumer sees (SharedGalleryImageProperties and
// CommunityGalleryImageProperties of the spec).
constexpr const char* kImageProperties[] = {"osType",       "osState",      "endOfLifeDate",       "identifier",
                                            "recommended",  "disallowed",   "hyperVGeneration",    "features",
                                            "purchasePlan", "architecture", "privacyStatementUri", "eula"};
// Community proxies carry a type, gallery first.
constexpr const char* kCommunityTypes[] = {"Microsoft.Compute/locations/communityGallery",
                                           "Microsoft.Compute/locations/communityGalleryImage",
                                           "Microsoft.Compute/locations/communityGalleryImageVersion"};

// What a consumer reached so far: the gallery as stored and the name it goes by publicly.
struct Reached {
  json gallery;
  std::string public_name;  // uniqueName or the public name, as stored
  json definition;          // when the ref names an image
};

std::string collection(Audience audience) {
  return audience == Audience::shared ? "sharedGalleries" : "communityGalleries";
}

// "/SharedGalleries/u/Images/d/Versions/v" for the first `depth` of names.
std::string unique_id(Audience audience, const std::vector<std::string>& names) {
  static const char* const kSegments[] = {"", "/Images/", "/Versions/"};
  std::string out = audience == Audience::shared ? "/SharedGalleries/" : "/CommunityGalleries/";
  for (size_t i = 0; i < names.size() && i < 3; ++i) out += kSegments[i] + names[i];
  return out;
}

// {name, location, type (community), identifier.uniqueId} of the proxy at names.size() - 1.
json proxy(Audience audience, const std::vector<std::string>& names, const std::string& region) {
  json out = {{"name", names.back()}, {"location", region}};
  if (audience == Audience::community) out["type"] = kCommunityTypes[names.size() - 1];
  out["identifier"] = {{"uniqueId", unique_id(audience, names)}};
  return out;
}

ArmError not_visible(const PublicGalleryRef& ref, size_t depth, const Consumer& consumer) {
  static const char* const kSegments[] = {"", "/images/", "/versions/"};
  std::string what = "Microsoft.Compute/locations/" + ref.region + "/" + collection(ref.audience) + "/";
  for (size_t i = 0; i < depth && i < ref.names.size(); ++i) what += kSegments[i] + ref.names[i];
  return not_found("ResourceNotFound",
                   "The Resource '" + what + "' was not found" +
                       (ref.audience == Audience::shared
                            ? ", or is not shared with subscription '" + consumer.subscription + "' there."
                            : std::string(" among the public community galleries there.")));
}

bool lives_in(const json& resource, const std::string& region) {
  return normalize_location(resource.value("location", "")) == normalize_location(region);
}

// A version being deleted is gone for its consumers already.
Result<bool> completed_in(const json& version, const std::string& region, Lookup& lookup) {
  if (version.value("/properties/provisioningState"_json_pointer, "") == "Deleting") return false;
  auto replicas = lookup.replicas(version);
  if (!replicas) return std::move(replicas).error();
  for (const RegionReplica& r : *replicas)
    if (normalize_location(r.region) == normalize_location(region)) return r.state == kCompleted;
  return false;
}

// Where a gallery or an image appears: where it lives, or where a version below it has Completed.
Result<bool> present_in(const json& resource, const std::string& region, Lookup& lookup) {
  if (lives_in(resource, region)) return true;
  auto versions = lookup.in_scope(resource.value("id", ""), kVersionType);
  if (!versions) return std::move(versions).error();
  for (const json& v : *versions) {
    auto done = completed_in(v, region, lookup);
    if (!done) return std::move(done).error();
    if (*done) return true;
  }
  return false;
}

json gallery_view(const PublicGalleryRef& ref, const Reached& reached) {
  json out = proxy(ref.audience, {reached.public_name}, ref.region);
  out["properties"] = json::object();
  if (ref.audience == Audience::community) {
    const json& info =
        json_member(json_member(json_member(reached.gallery, "properties"), "sharingProfile"), "communityGalleryInfo");
    json metadata = json::object();
    for (const char* key : {"publisherUri", "publisherContact", "eula"})
      if (!json_text(info, key).empty()) metadata[key] = info[key];
    metadata["publicNames"] = public_names(reached.gallery);
    out["properties"]["communityMetadata"] = std::move(metadata);
  }
  return out;
}

json image_view(const PublicGalleryRef& ref, const Reached& reached, const json& definition) {
  json out = proxy(ref.audience, {reached.public_name, definition.value("name", "")}, ref.region);
  const json& stored = json_member(definition, "properties");
  out["properties"] = json::object();
  for (const char* key : kImageProperties)
    if (stored.contains(key) && !stored[key].is_null()) out["properties"][key] = stored[key];
  return out;
}

// sizeInGB and hostCaching of a stored disk image, as a consumer's diskSizeGB and hostCaching.
json disk_view(const json& disk) {
  json out = json::object();
  if (disk.contains("lun")) out["lun"] = disk["lun"];
  if (json_member(disk, "sizeInGB").is_number()) out["diskSizeGB"] = disk["sizeInGB"];
  if (!json_text(disk, "hostCaching").empty()) out["hostCaching"] = disk["hostCaching"];
  return out;
}

json version_view(const PublicGalleryRef& ref, const Reached& reached, const json& version) {
  json out = proxy(ref.audience, {reached.public_name, reached.definition.value("name", ""), version.value("name", "")},
                   ref.region);
  const json& stored = json_member(version, "properties");
  const json& publishing = json_member(stored, "publishingProfile");
  json properties = json::object();
  for (const char* key : {"publishedDate", "endOfLifeDate"})
    if (!json_text(publishing, key).empty()) properties[key] = publishing[key];
  properties["excludeFromLatest"] = excluded_from_latest(version, ref.region);
  json storage = json::object();
  const json& disks = json_member(stored, "storageProfile");
  if (json_member(disks, "osDiskImage").is_object()) storage["osDiskImage"] = disk_view(disks["osDiskImage"]);
  if (json_member(disks, "dataDiskImages").is_array()) {
    storage["dataDiskImages"] = json::array();
    for (const json& d : disks["dataDiskImages"]) storage["dataDiskImages"].push_back(disk_view(d));
  }
  properties["storageProfile"] = std::move(storage);
  out["properties"] = std::move(properties);
  return out;
}

// The gallery ref.names[0] names, visible to the consumer and present in the region.
Result<Reached> reach_gallery(const PublicGalleryRef& ref, const Consumer& consumer, Lookup& lookup) {
  auto gallery = find_public_gallery(ref.audience, ref.names.at(0), consumer, ref.tenant_only, false, lookup);
  if (!gallery) return std::move(gallery).error();
  if (!*gallery) return not_visible(ref, 1, consumer);
  auto present = present_in(**gallery, ref.region, lookup);
  if (!present) return std::move(present).error();
  if (!*present) return not_visible(ref, 1, consumer);
  Reached out{std::move(**gallery), "", json()};
  if (ref.audience == Audience::shared) {
    out.public_name = out.gallery.value("/properties/identifier/uniqueName"_json_pointer, "");
  } else {
    for (const std::string& name : public_names(out.gallery))
      if (iequals(name, ref.names[0])) out.public_name = name;
  }
  return out;
}

// ...and its image ref.names[1], present in the region.
Result<Reached> reach_image(const PublicGalleryRef& ref, const Consumer& consumer, Lookup& lookup) {
  auto reached = reach_gallery(ref, consumer, lookup);
  if (!reached) return reached;
  auto definition = lookup.load(reached->gallery.value("id", "") + "/images/" + ref.names.at(1));
  if (!definition) return std::move(definition).error();
  if (!*definition) return not_visible(ref, 2, consumer);
  auto present = present_in(**definition, ref.region, lookup);
  if (!present) return std::move(present).error();
  if (!*present) return not_visible(ref, 2, consumer);
  reached->definition = std::move(**definition);
  return reached;
}

Result<std::vector<json>> list_shared_galleries(const PublicGalleryRef& ref, const Consumer& consumer, Lookup& lookup) {
  auto galleries = lookup.in_scope("", kGalleryType);
  if (!galleries) return std::move(galleries).error();
  std::vector<json> out;
  for (json& g : *galleries) {
    if (!shared_with(g, consumer, ref.tenant_only)) continue;
    auto present = present_in(g, ref.region, lookup);
    if (!present) return std::move(present).error();
    if (!*present) continue;
    const std::string unique = g.value("/properties/identifier/uniqueName"_json_pointer, "");
    out.push_back(gallery_view(ref, Reached{std::move(g), unique, json()}));
  }
  return out;
}

}  // namespace

Result<json> read_public_resource(const PublicGalleryRef& ref, const Consumer& consumer, Lookup& lookup) {
  if (ref.names.empty() || ref.names.size() > 3) return internal_error("A shared gallery read names 1 to 3 items.");
  if (ref.names.size() == 1) {
    auto reached = reach_gallery(ref, consumer, lookup);
    if (!reached) return std::move(reached).error();
    return gallery_view(ref, *reached);
  }
  auto reached = reach_image(ref, consumer, lookup);
  if (!reached) return std::move(reached).error();
  if (ref.names.size() == 2) return image_view(ref, *reached, reached->definition);
  auto version = lookup.load(reached->definition.value("id", "") + "/versions/" + ref.names[2]);
  if (!version) return std::move(version).error();
  if (!*version) return not_visible(ref, 3, consumer);
  auto done = completed_in(**version, ref.region, lookup);
  if (!done) return std::move(done).error();
  if (!*done) return not_visible(ref, 3, consumer);
  return version_view(ref, *reached, **version);
}

Result<std::vector<json>> read_public_listing(const PublicGalleryRef& ref, const Consumer& consumer, Lookup& lookup) {
  if (ref.names.empty()) return list_shared_galleries(ref, consumer, lookup);
  std::vector<json> out;
  if (ref.names.size() == 1) {
    auto reached = reach_gallery(ref, consumer, lookup);
    if (!reached) return std::move(reached).error();
    auto images = lookup.children(reached->gallery.value("id", ""), kImageType);
    if (!images) return std::move(images).error();
    for (const json& d : *images) {
      auto present = present_in(d, ref.region, lookup);
      if (!present) return std::move(present).error();
      if (*present) out.push_back(image_view(ref, *reached, d));
    }
    return out;
  }
  auto reached = reach_image(ref, consumer, lookup);
  if (!reached) return std::move(reached).error();
  auto versions = lookup.children(reached->definition.value("id", ""), kVersionType);
  if (!versions) return std::move(versions).error();
  for (const json& v : *versions) {
    auto done = completed_in(v, ref.region, lookup);
    if (!done) return std::move(done).error();
    if (*done) out.push_back(version_view(ref, *reached, v));
  }
  return out;
}

}  // namespace acg
