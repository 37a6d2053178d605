// Managed disks (Microsoft.Compute/disks) and snapshots (Microsoft.Compute/snapshots), DiskRP:
// the sku beside properties, creationData and what each createOption needs, sizes, and the
// read-only facts set at creation (timeCreated, uniqueId, diskState, diskSizeBytes).
//
// A write merges: properties a PUT leaves out keep their stored values. creationData is
// fixed once created; a disk may grow but never shrink.

#include <algorithm>
#include <initializer_list>

#include "emulator/clock.h"
#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/source_types.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

const std::vector<const char*> kCreateOptions = {"Empty",     "FromImage",    "Import",
                                                 "Copy",      "Restore",      "Upload",
                                                 "CopyStart", "ImportSecure", "UploadPreparedSecure",
                                                 "CopyFromSanSnapshot"};
// Snapshots are stored on standard HDD, premium SSD or zone-redundant HDD only.
const std::vector<const char*> kSnapshotSkus = {"Standard_LRS", "Premium_LRS", "Standard_ZRS"};

const EnumRule kOsType{"properties.osType", kOsTypes};
const EnumRule kHyperV{"properties.hyperVGeneration", kHyperVGenerations};
const EnumRule kCreateOption{"properties.creationData.createOption", kCreateOptions};

// Set by the service, never taken from a request.
const char* const kReadOnly[] = {"provisioningState", "timeCreated", "uniqueId", "diskState", "diskSizeBytes"};
// What identifies the source of a disk: fixed once created.
const char* const kSourceKeys[] = {"createOption", "sourceResourceId", "sourceUri", "storageAccountId"};

constexpr std::int64_t kGiB = std::int64_t{1} << 30;
constexpr std::int64_t kMaxDiskSizeGB = 65536;
constexpr std::int64_t kVhdFooterBytes = 512;

std::string sku_tier(const std::string& sku) {
  if (istarts_with(sku, "Premium")) return "Premium";
  if (istarts_with(sku, "UltraSSD")) return "Ultra";
  return "Standard";
}

bool is_read_only(const std::string& key) {
  for (const char* k : kReadOnly)
    if (key == k) return true;
  return false;
}

ArmError change_not_allowed(const std::string& property) {
  return conflict("PropertyChangeNotAllowed", "Changing property '" + property + "' is not allowed.");
}

bool one_of(const std::string& value, std::initializer_list<const char*> options) {
  for (const char* o : options)
    if (value == o) return true;
  return false;
}

Status check_creation_data_shape(const json& creation) {
  const char* path = "properties.creationData";
  for (const char* key : {"createOption", "sourceResourceId", "sourceUri", "storageAccountId"})
    if (auto st = optional_string(creation, key, path); !st) return st;
  for (const char* key : {"imageReference", "galleryImageReference"})
    if (auto st = optional_reference(creation, key, path); !st) return st;
  if (auto st = optional_integer(creation, "uploadSizeBytes", path, 1); !st) return st;
  return check_enum(creation, "createOption", kCreateOption);
}

// What each createOption needs besides itself.
Status check_create_requirements(const json& p, const json& creation, const std::string& option) {
  auto has_string = [](const json& parent, const char* key) {
    return parent.contains(key) && parent[key].is_string() && !parent[key].get<std::string>().empty();
  };
  if (option == "Empty" && !p.contains("diskSizeGB")) return missing_parameter("properties.diskSizeGB");
  if (one_of(option, {"Copy", "CopyStart", "Restore", "CopyFromSanSnapshot"}) &&
      !has_string(creation, "sourceResourceId"))
    return missing_parameter("properties.creationData.sourceResourceId");
  if (one_of(option, {"Import", "ImportSecure"}) && !has_string(creation, "sourceUri"))
    return missing_parameter("properties.creationData.sourceUri");
  if (option == "FromImage" && reference_id(creation, "imageReference").empty() &&
      !creation.contains("galleryImageReference"))
    return missing_parameter("properties.creationData.imageReference");
  if (one_of(option, {"Upload", "UploadPreparedSecure"}) && !creation.contains("uploadSizeBytes"))
    return missing_parameter("properties.creationData.uploadSizeBytes");
  return ok_status();
}

class DiskLikeType final : public ResourceType {
 public:
  explicit DiskLikeType(bool snapshot)
      : snapshot_(snapshot), sku_rule_{"sku.name", snapshot ? kSnapshotSkus : kDiskSkus} {}

  std::string type() const override { return snapshot_ ? "Microsoft.Compute/snapshots" : "Microsoft.Compute/disks"; }
  bool needs_gallery_region() const override { return false; }

  Status check_name(std::string_view name) const override {
    return check_compute_name(name, 80, snapshot_ ? "snapshotName" : "diskName");
  }

  Status check_body(const json& body, bool patch) const override {
    if (auto st = optional_object(body, "sku", ""); !st) return st;
    const json sku = object_at(body, "sku");
    if (auto st = optional_string(sku, "name", "sku"); !st) return st;
    if (auto st = check_enum(sku, "name", sku_rule_); !st) return st;

    const json p = object_at(body, "properties");
    if (auto st = check_enum(p, "osType", kOsType); !st) return st;
    if (auto st = check_enum(p, "hyperVGeneration", kHyperV); !st) return st;
    if (auto st = optional_object(p, "creationData", "properties"); !st) return st;
    if (auto st = optional_integer(p, "diskSizeGB", "properties", 1); !st) return st;
    if (p.contains("diskSizeGB") && p["diskSizeGB"].is_number_integer() && p["diskSizeGB"].get<std::int64_t>() > kMaxDiskSizeGB)
      return invalid_parameter("The value " + p["diskSizeGB"].dump() +
                                   " of parameter 'diskSizeGB' is not valid. Disks are at most " +
                                   std::to_string(kMaxDiskSizeGB) + " GB.",
                               "properties.diskSizeGB");
    if (auto st = optional_bool(p, "incremental", "properties"); !st) return st;
    const json creation = object_at(p, "creationData");
    if (auto st = check_creation_data_shape(creation); !st) return st;
    if (patch) return ok_status();

    if (!creation.contains("createOption") || creation["createOption"].is_null())
      return missing_parameter("properties.creationData.createOption");
    return check_create_requirements(p, creation, *canonical_enum(kCreateOption, creation["createOption"]));
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    json in = object_at(request.body, "properties");
    canonicalise_enum(in, "osType", kOsType);
    canonicalise_enum(in, "hyperVGeneration", kHyperV);
    auto out = request.stored ? update(request, in) : create(request, in, lookup);
    if (!out) return out;
    if (out->contains("diskSizeGB")) (*out)["diskSizeBytes"] = (*out)["diskSizeGB"].get<std::int64_t>() * kGiB;
    return out;
  }

  void apply_members(json& resource, const json& body, const WriteRequest&) const override {
    const json sku = object_at(body, "sku");
    std::string name;
    if (sku.contains("name") && sku["name"].is_string()) {
      auto canonical = canonical_enum(sku_rule_, sku["name"]);
      name = canonical ? *canonical : sku["name"].get<std::string>();
    } else if (resource.contains("sku")) {
      return;  // a write that leaves the sku out keeps it
    } else {
      name = "Standard_LRS";
    }
    resource["sku"] = {{"name", name}, {"tier", sku_tier(name)}};
  }

 private:
  Result<json> create(const WriteRequest& request, const json& in, Lookup& lookup) const {
    json out = in;  // what the client gave round-trips; the service's facts are set below
    for (const char* key : kReadOnly) out.erase(key);
    json& creation = out["creationData"];
    canonicalise_enum(creation, "createOption", kCreateOption);
    const std::string option = creation["createOption"];

    if (one_of(option, {"Copy", "CopyStart"})) {
      auto source = load_reference(lookup, creation["sourceResourceId"], {"Microsoft.Compute/disks", "Microsoft.Compute/snapshots"},
                                   "properties.creationData.sourceResourceId");
      if (!source) return std::move(source).error();
      const json& from = (*source)["properties"];
      creation["sourceResourceId"] = (*source)["id"];
      if (from.contains("uniqueId")) creation["sourceUniqueId"] = from["uniqueId"];
      for (const char* key : {"osType", "hyperVGeneration"})
        if (!out.contains(key) && from.contains(key)) out[key] = from[key];
      if (from.contains("diskSizeGB")) {
        if (!out.contains("diskSizeGB")) out["diskSizeGB"] = from["diskSizeGB"];
        else if (out["diskSizeGB"].get<std::int64_t>() < from["diskSizeGB"].get<std::int64_t>())
          return invalid_parameter("The disk size " + out["diskSizeGB"].dump() +
                                       " GB is smaller than the size of the source, " + from["diskSizeGB"].dump() +
                                       " GB. A copy can only be as large or larger.",
                                   "properties.diskSizeGB");
      }
    }
    if (one_of(option, {"Import", "ImportSecure"}) && creation.contains("storageAccountId")) {
      auto account = load_reference(lookup, creation["storageAccountId"], {"Microsoft.Storage/storageAccounts"},
                                    "properties.creationData.storageAccountId");
      if (!account) return std::move(account).error();
      creation["storageAccountId"] = (*account)["id"];
    }
    const bool upload = one_of(option, {"Upload", "UploadPreparedSecure"});
    if (upload) {
      // A VHD to upload is whole GiBs plus its 512-byte footer.
      std::int64_t bytes = std::max<std::int64_t>(creation["uploadSizeBytes"].get<std::int64_t>() - kVhdFooterBytes, 1);
      out["diskSizeGB"] = (bytes + kGiB - 1) / kGiB;
    }

    const std::int64_t now = lookup.now_ms();
    out["timeCreated"] = format_arm_time(now);
    out["uniqueId"] = derived_guid(to_lower(request.id) + "|" + std::to_string(now));
    out["diskState"] = upload ? "ReadyToUpload" : "Unattached";
    if (!out.contains("encryption")) out["encryption"] = {{"type", "EncryptionAtRestWithPlatformKey"}};
    if (!out.contains("networkAccessPolicy")) out["networkAccessPolicy"] = "AllowAll";
    if (!out.contains("publicNetworkAccess")) out["publicNetworkAccess"] = "Enabled";
    if (snapshot_ && !out.contains("incremental")) out["incremental"] = false;
    return out;
  }

  // The stored properties with the write's changes.
  Result<json> update(const WriteRequest& request, const json& in) const {
    const json& stored = (*request.stored)["properties"];
    const json wanted = object_at(in, "creationData");
    const json current = object_at(stored, "creationData");
    for (const char* key : kSourceKeys)
      if (wanted.contains(key) && wanted[key].is_string() &&
          !iequals(wanted[key].get<std::string>(), current.value(key, "")))
        return change_not_allowed(std::string("creationData.") + key);
    if (snapshot_ && in.contains("incremental") && in["incremental"].is_boolean() &&
        in["incremental"] != stored.value("incremental", false))
      return change_not_allowed("incremental");
    if (in.contains("diskSizeGB") && in["diskSizeGB"].is_number_integer() && stored.contains("diskSizeGB") &&
        in["diskSizeGB"].get<std::int64_t>() < stored["diskSizeGB"].get<std::int64_t>())
      return invalid_parameter("Disk '" + request.name + "' cannot shrink from " + stored["diskSizeGB"].dump() +
                                   " GB to " + in["diskSizeGB"].dump() + " GB: a disk can only grow.",
                               "properties.diskSizeGB");
    json out = stored;
    for (auto& [key, value] : in.items()) {
      if (key == "creationData" || key == "incremental" || is_read_only(key)) continue;
      if (value.is_null()) out.erase(key);
      else out[key] = value;
    }
    return out;
  }

  bool snapshot_;
  EnumRule sku_rule_;

 public:
  // A disk a VM still uses (its OS disk, created with it: managedBy) is not deleted.
  Status check_delete(const json& stored, Lookup& lookup) const override {
    const std::string vm_id = stored.value("managedBy", "");
    if (snapshot_ || vm_id.empty()) return ok_status();
    auto vm = lookup.load(vm_id);
    if (!vm) return std::move(vm).error();
    if (!*vm) return ok_status();  // the VM is gone: the disk was detached with it
    return conflict("OperationNotAllowed",
                    "Disk " + stored.value("name", "") + " is attached to VM " + (**vm)["id"].get<std::string>() + ".");
  }
};

}  // namespace

const ResourceType& snapshot_type() {
  static const DiskLikeType type(true);
  return type;
}

const ResourceType& disk_type() {
  static const DiskLikeType type(false);
  return type;
}

}  // namespace acg
