// Image versions (Microsoft.Compute/galleries/images/versions): the version name, where the
// image comes from (storageProfile), where it is published (publishingProfile), what may
// change once it is published, and when it may be deleted.
// Messages are the service's documented ones (../shared/reference/LIMITS.md §3, §4, §5, §7).
//
// Sources, exactly one kind per version:
//   storageProfile.source.id           a managed image, a virtual machine or a gallery image version
//   storageProfile.source.virtualMachineId   a virtual machine (api-version 2023-07-03+)
//   storageProfile.source.communityGalleryImageId  a public community image (its latest) or
//                                      image version, replicated to the version's region
//   storageProfile.osDiskImage.source  {id: a snapshot or disk} or {uri, storageAccountId: a VHD}
//   storageProfile.dataDiskImages[]    {lun, source} alongside an OS disk source
// A later PUT may omit the source (az's `image-version update` strips it): the stored one stays.

#include <algorithm>
#include <set>

#include "emulator/clock.h"
#include "emulator/gallery_deployment.h"
#include "emulator/publishing_profile.h"
#include "emulator/region_catalog.h"
#include "emulator/request_body.h"
#include "emulator/resource_type.h"
#include "emulator/sas.h"
#include "emulator/source_types.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"
#include "emulator/version_name.h"

namespace acg {

using nlohmann::json;

namespace {

ArmError change_not_allowed(const std::string& property) {
  return conflict("PropertyChangeNotAllowed",
                  "Changing property 'galleryImageVersion.properties." + property + "' is not allowed.");
}

// --- Shapes -------------------------------------------------------------------------------

Status check_disk_image(const json& image, const std::string& path, bool needs_lun) {
  if (image.is_null()) return ok_status();
  if (!image.is_object()) return invalid_content("Expected an object at path '" + path + "'");
  if (needs_lun && !json_member(image, "lun").is_number_integer())
    return invalid_parameter("Required parameter 'lun' is missing (null).", path + ".lun");
  if (auto st = optional_object(image, "source", path); !st) return st;
  for (const char* key : {"id", "uri", "storageAccountId"})
    if (auto st = optional_string(json_member(image, "source"), key, path + ".source"); !st) return st;
  return optional_string(image, "hostCaching", path);
}

Status check_storage_profile(const json& p) {
  const json& storage = json_member(p, "storageProfile");
  if (storage.is_null()) return ok_status();
  if (!storage.is_object()) return invalid_content("Expected an object at path 'properties.storageProfile'");
  if (auto st = optional_object(storage, "source", "properties.storageProfile"); !st) return st;
  for (const char* key : {"id", "virtualMachineId", "communityGalleryImageId"})
    if (auto st = optional_string(json_member(storage, "source"), key, "properties.storageProfile.source"); !st) return st;
  if (auto st = check_disk_image(json_member(storage, "osDiskImage"), "properties.storageProfile.osDiskImage", false); !st)
    return st;
  const json& data = json_member(storage, "dataDiskImages");
  if (!data.is_null() && !data.is_array())
    return invalid_content("Expected an array at path 'properties.storageProfile.dataDiskImages'");
  for (size_t i = 0; data.is_array() && i < data.size(); ++i)
    if (auto st = check_disk_image(data[i], "properties.storageProfile.dataDiskImages[" + std::to_string(i) + "]", true);
        !st)
      return st;
  return ok_status();
}

// --- Sources -------------------------------------------------------------------------------

enum class SourceKind { managed_image, virtual_machine, gallery_version, disk, snapshot, community_version, vhd, other };

SourceKind kind_of(const std::string& id) {
  const std::string lower = to_lower(id);
  if (lower.find("/providers/microsoft.compute/galleries/") != std::string::npos &&
      lower.find("/versions/") != std::string::npos)
    return SourceKind::gallery_version;
  if (lower.find("/providers/microsoft.compute/images/") != std::string::npos) return SourceKind::managed_image;
  if (lower.find("/providers/microsoft.compute/virtualmachines/") != std::string::npos) return SourceKind::virtual_machine;
  if (lower.find("/providers/microsoft.compute/snapshots/") != std::string::npos) return SourceKind::snapshot;
  if (lower.find("/providers/microsoft.compute/disks/") != std::string::npos) return SourceKind::disk;
  return SourceKind::other;
}

// Which source ids a storage profile names, by where they sit.
struct Sources {
  std::string artifact;              // storageProfile.source.id / virtualMachineId
  std::string artifact_path;         // its JSON path, for messages
  std::string community;             // storageProfile.source.communityGalleryImageId
  std::string os_disk;               // osDiskImage.source.id
  std::string os_vhd;                // osDiskImage.source.uri
  std::vector<std::string> data_disks;  // dataDiskImages[].source.id or uri
  bool any() const { return !artifact.empty() || !community.empty() || !os_disk.empty() || !os_vhd.empty(); }
};

Sources sources_of(const json& storage) {
  Sources s;
  const json& source = json_member(storage, "source");
  s.artifact = json_text(source, "id");
  s.artifact_path = "properties.storageProfile.source.id";
  if (s.artifact.empty()) {
    s.artifact = json_text(source, "virtualMachineId");
    s.artifact_path = "properties.storageProfile.source.virtualMachineId";
  }
  s.community = json_text(source, "communityGalleryImageId");
  const json& os_source = json_member(json_member(storage, "osDiskImage"), "source");
  s.os_vhd = without_sas(json_text(os_source, "uri"));
  // With a uri, an id names the storage account (the 2022-03-03 VHD form), not a disk.
  if (s.os_vhd.empty()) s.os_disk = json_text(os_source, "id");
  const json& data = json_member(storage, "dataDiskImages");
  for (size_t i = 0; data.is_array() && i < data.size(); ++i) {
    const json& ds = json_member(data[i], "source");
    std::string uri = without_sas(json_text(ds, "uri"));
    s.data_disks.push_back(uri.empty() ? json_text(ds, "id") : uri);
  }
  return s;
}

Status check_id_format(const std::string& id, const std::string& path) {
  if (istarts_with(id, "/subscriptions/") || istarts_with(id, "/providers/")) return ok_status();
  return invalid_parameter("Property id " + id + " at path '" + path +
                     "' is invalid. Expect fully qualified resource Id that start with '/subscriptions/<subscriptionID>' "
                     "or '/providers/<resourceProviderNamespace>/'.",
                 path);
}

Status check_one_source_kind(const Sources& s) {
  const bool os_disk = !s.os_disk.empty() || !s.os_vhd.empty();
  const int kinds = !s.artifact.empty() + !s.community.empty() + os_disk;
  if (kinds == 1 && (s.os_disk.empty() || s.os_vhd.empty())) return ok_status();
  return invalid_parameter("The gallery artifact version source can only be specified either directly under storageProfile or "
                 "within individual OS or data disks. One and only one source type (user image, snapshot, disk, "
                 "virtual machine) can be provided.",
                 "properties.storageProfile");
}

Status check_data_disks(const json& storage, const Sources& s) {
  const json& data = json_member(storage, "dataDiskImages");
  std::set<long long> luns;
  for (size_t i = 0; data.is_array() && i < data.size(); ++i)
    if (!luns.insert(data[i]["lun"].get<long long>()).second)
      return invalid_parameter("Duplicated lun numbers have been detected in the input data disks. Lun number must be unique for "
                     "each data disk.",
                     "properties.storageProfile.dataDiskImages");
  std::set<std::string> ids;
  for (const std::string& id : s.data_disks) {
    if (id.empty()) continue;
    const std::string key = to_lower(id);
    // The same snapshot or disk cannot be both. (The same VHD blob can: the official
    // WithVHD examples publish one blob as the OS disk and a data disk.)
    if (iequals(id, s.os_disk))
      return invalid_parameter("OSDiskImage and DataDiskImage cannot point to same blob " + id + ".",
                     "properties.storageProfile.dataDiskImages");
    if (istarts_with(id, "https://")) continue;
    if (!ids.insert(key).second)
      return invalid_parameter("Duplicated source ids are found in the input disks. Source id should be unique for each disk.",
                     "properties.storageProfile.dataDiskImages");
  }
  return ok_status();
}

// What a source says about the image it holds: OS type, state and Hyper-V generation (empty
// when the source does not record it, e.g. a snapshot's state).
struct SourceFacts {
  std::string os_type, os_state, hyper_v, location;
  json os_disk_image = json::object();      // sizeInGB, hostCaching of the image's OS disk
  json data_disk_images = json::array();    // {lun, sizeInGB, hostCaching} of its data disks
};

// A Compute disk description ({caching, diskSizeGB, lun}) as a gallery disk image.
json disk_image_of(const json& disk) {
  json out = json::object();
  if (json_member(disk, "lun").is_number_integer()) out["lun"] = disk["lun"];
  if (json_member(disk, "diskSizeGB").is_number_integer()) out["sizeInGB"] = disk["diskSizeGB"];
  if (!json_text(disk, "caching").empty()) out["hostCaching"] = disk["caching"];
  return out;
}

// The OS and data disks of a managed image or a VM, from its storage profile.
void disks_of(const json& storage_profile, SourceFacts& f) {
  f.os_disk_image = disk_image_of(json_member(storage_profile, "osDisk"));
  for (const json& d : json_member(storage_profile, "dataDisks")) f.data_disk_images.push_back(disk_image_of(d));
}

Result<SourceFacts> facts_of_gallery_version(const json& version, Lookup& lookup) {
  const std::string id = version["id"];
  auto definition = lookup.load(id.substr(0, id.rfind("/versions/")));
  if (!definition) return std::move(definition).error();
  SourceFacts f;
  if (*definition) {
    const json& p = (**definition)["properties"];
    f.os_type = json_text(p, "osType");
    f.os_state = json_text(p, "osState");
    f.hyper_v = json_text(p, "hyperVGeneration");
  }
  // The new version inherits the source version's disk layout, without its sources.
  const json& storage = json_member(json_member(version, "properties"), "storageProfile");
  f.os_disk_image = json_member(storage, "osDiskImage").is_object() ? storage["osDiskImage"] : json::object();
  f.os_disk_image.erase("source");
  for (json d : json_member(storage, "dataDiskImages")) {
    d.erase("source");
    f.data_disk_images.push_back(d);
  }
  return f;
}

Result<SourceFacts> facts_of(const json& source, SourceKind kind, Lookup& lookup) {
  const json& p = json_member(source, "properties");
  SourceFacts f;
  f.location = json_text(source, "location");
  switch (kind) {
    case SourceKind::managed_image: {
      const json& os = json_member(json_member(p, "storageProfile"), "osDisk");
      f.os_type = json_text(os, "osType");
      f.os_state = json_text(os, "osState");
      f.hyper_v = json_text(p, "hyperVGeneration");
      disks_of(json_member(p, "storageProfile"), f);
      return f;
    }
    case SourceKind::virtual_machine: {
      f.os_type = json_text(json_member(json_member(p, "storageProfile"), "osDisk"), "osType");
      f.os_state = is_generalized(source) ? "Generalized" : "Specialized";
      f.hyper_v = json_text(json_member(p, "instanceView"), "hyperVGeneration");
      disks_of(json_member(p, "storageProfile"), f);
      return f;
    }
    case SourceKind::snapshot:
    case SourceKind::disk:
      f.os_type = json_text(p, "osType");
      f.hyper_v = json_text(p, "hyperVGeneration");
      if (json_member(p, "diskSizeGB").is_number_integer()) f.os_disk_image["sizeInGB"] = p["diskSizeGB"];
      return f;
    case SourceKind::gallery_version: {
      auto g = facts_of_gallery_version(source, lookup);
      if (g) g->location.clear();  // a version is replicated to many regions
      return g;
    }
    default:
      return f;
  }
}

// The source must describe the same kind of image as the definition: OS type, OS state and
// Hyper-V generation, where the source records them.
Status check_same_image(const SourceFacts& facts, const std::string& id, const std::string& path, const json& definition) {
  const json& d = definition["properties"];
  const std::string want_type = json_text(d, "osType"), want_state = json_text(d, "osState"),
                    want_gen = json_text(d, "hyperVGeneration");
  if (!facts.os_type.empty() && !iequals(facts.os_type, want_type))
    return invalid_parameter("Cannot create Gallery Image Version from: " + id + " since it has a different OS type ['" +
                       facts.os_type + "'] than the parent gallery image OS type ['" + want_type + "'].",
                   path);
  if (!facts.os_state.empty() && !iequals(facts.os_state, want_state))
    return invalid_parameter("Cannot create Gallery Image Version from: " + id + " since the OS State in the parent gallery image (" +
                       want_state + ") is not " + facts.os_state + ".",
                   path);
  if (!facts.hyper_v.empty() && !want_gen.empty() && !iequals(facts.hyper_v, want_gen))
    return invalid_parameter("Cannot create Gallery Image Version from: " + id + " has a different Hypervisor generation ['" +
                       facts.hyper_v + "'] than the parent gallery image Hypervisor generation ['" + want_gen + "'].",
                   path);
  return ok_status();
}

// The source must exist, be of a kind allowed at its place, sit in the version's region and
// describe the same kind of image as the definition.
Result<SourceFacts> check_source(const std::string& id, const std::string& path, bool disk_place,
                                 const json& definition, const std::string& location, Lookup& lookup) {
  if (auto st = check_id_format(id, path); !st) return std::move(st).error();
  const SourceKind kind = kind_of(id);
  if (disk_place && kind != SourceKind::disk && kind != SourceKind::snapshot)
    return invalid_parameter("The source id: " + id + " must be a managed disk or snapshot.", path);
  if (!disk_place && kind != SourceKind::managed_image && kind != SourceKind::virtual_machine &&
      kind != SourceKind::gallery_version)
    return invalid_parameter("The source id: " + id + " must either be a managed image, virtual machine or another gallery image version.",
                   path);
  auto source = lookup.load(id);
  if (!source) return std::move(source).error();
  if (!*source) return invalid_parameter("Source was not found: " + id + ". Please make sure the source exists.", path);
  auto facts = facts_of(**source, kind, lookup);
  if (!facts) return facts;
  if (!facts->location.empty() && !iequals(facts->location, location))
    return invalid_parameter("Source " + id + " is not found. Please check source exists, and is in the same region as gallery "
                   "image version being created.",
                   path);
  if (auto st = check_same_image(*facts, id, path, definition); !st) return std::move(st).error();
  return facts;
}

// A community image source: public (gallery_sharing.h), its version (or its latest) Completed
// in the version's region, the same kind of image. The new version copies its disk layout.
Result<SourceFacts> check_community_source(const std::string& id, const json& definition, const std::string& location,
                                           const Consumer& consumer, Lookup& lookup) {
  const std::string path = "properties.storageProfile.source.communityGalleryImageId";
  if (!istarts_with(id, "/CommunityGalleries/"))
    return invalid_parameter("The community gallery image id '" + id + "' is not valid.", path);
  auto found = resolve_gallery_image(json{{"communityGalleryImageId", id}}, location, consumer, lookup);
  // Not found (or not public, or not replicated here): a source the request names badly, 400.
  if (!found) return found.error().status == 404 ? invalid_parameter(found.error().message, path) : found.error();
  if (!*found) return invalid_parameter("The community gallery image id '" + id + "' is not valid.", path);
  auto facts = facts_of_gallery_version((*found)->version, lookup);
  if (!facts) return facts;
  if (auto st = check_same_image(*facts, id, path, definition); !st) return std::move(st).error();
  return facts;
}

// A VHD source: a blob URI plus the storage account that holds it (which must exist).
Status check_vhd(const json& source, const std::string& path, Lookup& lookup) {
  const std::string uri = json_text(source, "uri");
  if (!istarts_with(uri, "https://"))
    return invalid_parameter("The VHD source uri '" + without_sas(uri) + "' is not an https blob URI.", path + ".uri");
  if (auto st = check_sas(uri, lookup.now_ms(), path + ".uri"); !st) return st;
  // 2022-03-03 names the account in source.id; later api-versions in storageAccountId.
  const std::string account =
      json_text(source, "storageAccountId").empty() ? json_text(source, "id") : json_text(source, "storageAccountId");
  if (account.empty())
    return invalid_parameter("Required parameter 'storageAccountId' is missing (null): a VHD source names the storage account "
                   "that holds the blob.",
                   path + ".storageAccountId");
  if (auto st = check_id_format(account, path + ".storageAccountId"); !st) return st;
  auto stored = lookup.load(account);
  if (!stored) return std::move(stored).error();
  if (!*stored)
    return invalid_parameter("Source was not found: " + account + ". Please make sure the source exists.", path + ".storageAccountId");
  return ok_status();
}

// A SAS signature is a secret: the stored (and returned) blob URIs keep no query.
void strip_sas(json& storage) {
  json& os = storage["osDiskImage"];
  if (os.is_object() && os["source"].is_object() && os["source"].contains("uri"))
    os["source"]["uri"] = without_sas(json_text(os["source"], "uri"));
  if (os.is_null()) storage.erase("osDiskImage");
  json& data = storage["dataDiskImages"];
  if (data.is_array())
    for (json& d : data)
      if (d.is_object() && d["source"].is_object() && d["source"].contains("uri"))
        d["source"]["uri"] = without_sas(json_text(d["source"], "uri"));
  if (data.is_null()) storage.erase("dataDiskImages");
}

// Validates the sources of a new version; returns its storage profile as stored.
Result<json> build_storage_profile(const json& storage, const json& definition, const std::string& location,
                                   const Consumer& consumer, Lookup& lookup) {
  const Sources s = sources_of(storage);
  if (!s.any())
    return invalid_parameter("Required parameter 'storageProfile.source' is missing (null): a version needs a source (a managed "
                   "image, a virtual machine, a gallery image version, an OS disk snapshot or disk, or a VHD).",
                   "properties.storageProfile");
  if (auto st = check_one_source_kind(s); !st) return std::move(st).error();
  if (auto st = check_data_disks(storage, s); !st) return std::move(st).error();

  json out = storage;
  if (!s.artifact.empty() || !s.community.empty()) {
    auto facts = !s.artifact.empty() ? check_source(s.artifact, s.artifact_path, false, definition, location, lookup)
                                     : check_community_source(s.community, definition, location, consumer, lookup);
    if (!facts) return std::move(facts).error();
    // The version describes the disks it captured: what the request gave wins.
    json os = facts->os_disk_image;
    if (json_member(storage, "osDiskImage").is_object()) os.update(storage["osDiskImage"]);
    if (!os.empty()) out["osDiskImage"] = os;
    if (!json_member(storage, "dataDiskImages").is_array() && !facts->data_disk_images.empty())
      out["dataDiskImages"] = facts->data_disk_images;
  } else if (!s.os_disk.empty()) {
    auto facts = check_source(s.os_disk, "properties.storageProfile.osDiskImage.source.id", true, definition, location, lookup);
    if (!facts) return std::move(facts).error();
    if (facts->os_disk_image.contains("sizeInGB")) out["osDiskImage"]["sizeInGB"] = facts->os_disk_image["sizeInGB"];
  } else if (auto st = check_vhd(storage["osDiskImage"]["source"], "properties.storageProfile.osDiskImage.source", lookup);
             !st) {
    return std::move(st).error();
  }
  const json& data = json_member(storage, "dataDiskImages");
  for (size_t i = 0; data.is_array() && i < data.size(); ++i) {
    const std::string path = "properties.storageProfile.dataDiskImages[" + std::to_string(i) + "].source";
    const json& source = json_member(data[i], "source");
    if (!json_text(source, "id").empty() && json_text(source, "uri").empty()) {
      auto facts = check_source(json_text(source, "id"), path + ".id", true, json{{"properties", json::object()}}, location,
                                lookup);
      if (!facts) return std::move(facts).error();
      if (facts->os_disk_image.contains("sizeInGB")) out["dataDiskImages"][i]["sizeInGB"] = facts->os_disk_image["sizeInGB"];
    } else if (!json_text(source, "uri").empty()) {
      if (auto st = check_vhd(source, path, lookup); !st) return std::move(st).error();
    }
  }
  strip_sas(out);
  return out;
}

// The stored storage profile stays; an update may restate it but not change a source or a disk.
Result<json> keep_storage_profile(const json& stored, const json& wanted) {
  const Sources before = sources_of(stored), after = sources_of(wanted);
  auto changed = [](const std::string& a, const std::string& b) { return !b.empty() && !iequals(a, b); };
  if (changed(before.artifact, after.artifact)) return change_not_allowed("storageProfile.source.id");
  if (changed(before.os_disk, after.os_disk)) return change_not_allowed("storageProfile.osDiskImage.source.id");
  if (changed(before.os_vhd, after.os_vhd)) return change_not_allowed("storageProfile.osDiskImage.source.uri");
  const json& data_before = json_member(stored, "dataDiskImages");
  const json& data_after = json_member(wanted, "dataDiskImages");
  if (data_after.is_array()) {
    std::set<long long> luns;
    for (const json& d : data_before.is_array() ? data_before : json::array()) luns.insert(d["lun"].get<long long>());
    for (const json& d : data_after)
      if (!luns.count(d["lun"].get<long long>()))
        return conflict("PropertyChangeNotAllowed",
                        "Adding new Data Disks or changing the LUN of a Data Disk in an existing Image is not allowed.");
  }
  return stored;
}


// targetRegions[].encryption: every disk encryption set named must exist, belong to the
// gallery's subscription and sit in that region; a data-disk LUN appears once per region.
// Every target region is encrypted when one is (LIMITS.md; issue 5 — one official example,
// Create_WithVHD, does otherwise, and the conformance runner expects its refusal). Not
// enforced, because the examples do otherwise: that each LUN be one of the version's data disks.
Status check_encryption(const json& profile, const std::string& subscription, Lookup& lookup) {
  // Customer-managed keys everywhere or nowhere: a replica left unencrypted would defeat them.
  std::string encrypted, plain;
  for (const json& region : json_member(profile, "targetRegions"))
    (json_member(region, "encryption").is_object() ? encrypted : plain) = json_text(region, "name");
  if (!encrypted.empty() && !plain.empty())
    return invalid_parameter("A disk encryption set is required in every target region when one region uses one: region '" +
                                 encrypted + "' is encrypted, region '" + plain + "' is not.",
                             "properties.publishingProfile.targetRegions.encryption");
  for (const json& region : json_member(profile, "targetRegions")) {
    const json& encryption = json_member(region, "encryption");
    if (!encryption.is_object()) continue;
    const std::string region_name = json_text(region, "name");
    std::vector<std::string> sets;
    if (!json_text(json_member(encryption, "osDiskImage"), "diskEncryptionSetId").empty())
      sets.push_back(json_text(encryption["osDiskImage"], "diskEncryptionSetId"));
    std::set<long long> seen;
    for (const json& d : json_member(encryption, "dataDiskImages")) {
      const long long lun = json_member(d, "lun").is_number_integer() ? d["lun"].get<long long>() : -1;
      if (!seen.insert(lun).second)
        return invalid_parameter("Duplicated lun " + std::to_string(lun) + " in the data disk image encryption of region '" +
                           region_name + "'.",
                       "properties.publishingProfile.targetRegions.encryption.dataDiskImages");
      if (!json_text(d, "diskEncryptionSetId").empty()) sets.push_back(json_text(d, "diskEncryptionSetId"));
    }
    for (const std::string& id : sets) {
      if (!istarts_with(id, "/subscriptions/" + subscription + "/"))
        return invalid_parameter("The disk encryption set " + id + " must be in the same subscription " + subscription +
                           " as the gallery.",
                       "properties.publishingProfile.targetRegions.encryption");
      auto des = lookup.load(id);
      if (!des) return std::move(des).error();
      if (!*des)
        return invalid_parameter("Disk encryption set " + id + " was not found.", "properties.publishingProfile.targetRegions.encryption");
      if (normalize_location(json_text(**des, "location")) != normalize_location(region_name))
        return invalid_parameter("The disk encryption set " + id + " is in region '" + json_text(**des, "location") +
                           "', not in target region '" + region_name +
                           "'. A region's replicas are encrypted with a disk encryption set of that region.",
                       "properties.publishingProfile.targetRegions.encryption");
    }
  }
  return ok_status();
}

class GalleryImageVersionType final : public ResourceType {
 public:
  json view(const json& stored, const std::string&) const override { return version_view(stored); }
  bool replicates() const override { return true; }
  std::string type() const override { return "Microsoft.Compute/galleries/images/versions"; }
  const ResourceType* parent() const override { return &gallery_image_type(); }

  Status check_name(std::string_view name) const override {
    return check_version_name(name, "image", "galleryImageVersionName");
  }

  Status check_body(const json& body, bool) const override {
    const json& p = json_member(body, "properties");
    if (p.is_null()) return ok_status();
    if (auto st = check_publishing_profile(p); !st) return st;
    if (auto st = check_storage_profile(p); !st) return st;
    if (auto st = optional_object(p, "safetyProfile", "properties"); !st) return st;
    for (const char* key : {"allowDeletionOfReplicatedLocations", "blockDeletionBeforeEndOfLife"})
      if (auto st = optional_bool(json_member(p, "safetyProfile"), key, "properties.safetyProfile"); !st) return st;
    return ok_status();
  }

  // The storage profile a create asks for. api-versions before 2019-07-01 named the source
  // as publishingProfile.source.managedImage.id (Packer 1.6 sends that at 2019-03-01); it
  // means what storageProfile.source.id means today.
  static json storage_profile_in(const json& in) {
    json storage = json_member(in, "storageProfile").is_object() ? in["storageProfile"] : json::object();
    const std::string image = json_text(json_member(json_member(json_member(in, "publishingProfile"), "source"), "managedImage"), "id");
    if (!image.empty() && !json_member(storage, "source").is_object()) storage["source"] = {{"id", image}};
    return storage;
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    const json& in = json_member(request.body, "properties");
    const json* stored = request.stored ? &(*request.stored)["properties"] : nullptr;
    const std::string location = request.stored ? json_text(*request.stored, "location") : json_text(request.body, "location");
    const json& definition = request.parent;
    const std::string region = lookup.regions().find(location) ? lookup.regions().find(location)->name : location;

    json out = stored ? *stored : json::object();
    if (stored) {
      auto storage = keep_storage_profile(out["storageProfile"], json_member(in, "storageProfile"));
      if (!storage) return std::move(storage).error();
      if (auto st = check_fixed_publishing(out["publishingProfile"], json_member(in, "publishingProfile"), "galleryImageVersion"); !st)
        return std::move(st).error();
    } else {
      if (auto st = check_version_limit(request, lookup); !st) return std::move(st).error();
      auto storage = build_storage_profile(storage_profile_in(in), definition, region,
                                           Consumer{request.subscription, request.tenant}, lookup);
      if (!storage) return std::move(storage).error();
      out["storageProfile"] = *storage;
      // Security settings (UEFI keys) are part of what was published: kept as given.
      if (json_member(in, "securityProfile").is_object()) out["securityProfile"] = in["securityProfile"];
    }
    const json& profile_in = json_member(in, "publishingProfile");
    auto profile = build_publishing_profile(profile_in.is_object() ? profile_in : json::object(),
                                            stored ? &out["publishingProfile"] : nullptr, region, lookup,
                                            PublishingRules{type(), true});
    if (!profile) return std::move(profile).error();
    if (stored)
      if (auto st = check_region_removal(*stored, *profile); !st) return std::move(st).error();
    if (auto st = check_encryption(*profile, request.subscription, lookup); !st)
      return std::move(st).error();
    if (!stored) (*profile)["publishedDate"] = format_arm_time(lookup.now_ms());
    out["publishingProfile"] = *profile;

    json safety = out.value("safetyProfile", json{{"allowDeletionOfReplicatedLocations", true}});
    const json& safety_in = json_member(in, "safetyProfile");
    for (const char* key : {"allowDeletionOfReplicatedLocations", "blockDeletionBeforeEndOfLife"})
      if (json_member(safety_in, key).is_boolean()) safety[key] = safety_in[key];
    out["safetyProfile"] = safety;
    out.erase("replicationStatus");
    return out;
  }

  Status check_delete(const json& stored, Lookup& lookup) const override {
    const json& p = json_member(stored, "properties");
    if (json_member(json_member(p, "safetyProfile"), "blockDeletionBeforeEndOfLife") != json(true)) return ok_status();
    std::int64_t eol = 0;
    const std::string date = json_text(json_member(p, "publishingProfile"), "endOfLifeDate");
    if (!date.empty() && parse_iso8601(date, eol) && eol <= lookup.now_ms()) return ok_status();
    return conflict("DeleteGalleryImageVersionBlockedBeforeEndOfLife",
                    "Deletion of Gallery image version is not allowed because the image is enabled for "
                    "blockDeletionBeforeEndOfLife and its endOfLifeDate has not reached yet.");
  }

 private:
  static Status check_version_limit(const WriteRequest& request, Lookup& lookup) {
    auto siblings = lookup.children(request.parent["id"], "Microsoft.Compute/galleries/images/versions");
    if (!siblings) return std::move(siblings).error();
    const int limit = lookup.settings().max_versions_per_definition;
    if (static_cast<int>(siblings->size()) < limit) return ok_status();
    return conflict("OperationNotAllowed", "The gallery image '" + request.parent["name"].get<std::string>() +
                                               "' already holds " + std::to_string(limit) +
                                               " versions, the most this emulator allows per image definition "
                                               "(--max-versions-per-definition).");
  }
};

}  // namespace

const ResourceType& gallery_image_version_type() {
  static const GalleryImageVersionType type;
  return type;
}

}  // namespace acg
