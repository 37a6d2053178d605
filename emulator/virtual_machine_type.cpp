// Virtual machines (Microsoft.Compute/virtualMachines), CRP, as far as a capture source needs:
// size, storage profile (an OS disk from an image or an attached disk, data disks), OS and
// network profiles kept as given, the OS type and Hyper-V generation, and whether the VM is
// generalized (see source_types.h). No guest runs; what the create brings into being is
// written with it (ResourceType::companions): the managed OS disk of a VM created from an
// image (Microsoft.Compute/disks, named osDisk.name, attached: managedBy the VM), and the
// back reference properties.virtualMachine on each NIC the VM names (which must exist).
//
//   create ──► Specialized ──generalize_vm()──► Generalized ──(no update; capture allowed)
//   power: (running) ──set_power_state("deallocated")──► deallocated   (POST .../deallocate)
//
// The OS type comes from the request, else from the attached disk, the managed image or the
// gallery image definition the VM names, else from the OS profile's configuration.

#include <algorithm>
#include <set>

#include "emulator/clock.h"
#include "emulator/gallery_deployment.h"
#include "emulator/network_types.h"
#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/source_types.h"
#include "emulator/text.h"
#include "emulator/vm_licensing.h"

namespace acg {

using nlohmann::json;

namespace {

const std::string kStorage = "properties.storageProfile";
const std::string kOsDisk = kStorage + ".osDisk";
const EnumRule kOsType{kOsDisk + ".osType", kOsTypes};
const EnumRule kOsCreateOption{kOsDisk + ".createOption", {"FromImage", "Attach"}};
const EnumRule kOsCaching{kOsDisk + ".caching", kCachingTypes};
const EnumRule kDataCreateOption{kStorage + ".dataDisks.createOption", {"Empty", "Attach", "FromImage"}};
const EnumRule kDataCaching{kStorage + ".dataDisks.caching", kCachingTypes};

// Set by the service, never taken from a request.
const char* const kReadOnly[] = {"provisioningState", "vmId", "timeCreated", "instanceView"};
const char* const kGeneralizedCode = "OSState/generalized";
// The size of an OS disk created from an image that names none (marketplace Linux images: 30 GiB).
constexpr int kDefaultOsDiskGB = 30;

EnumRule account_type_rule(const std::string& disk_path) {
  return EnumRule{disk_path + ".managedDisk.storageAccountType", kDiskSkus};
}

Status check_managed_disk(const json& disk, const std::string& path) {
  if (auto st = optional_reference(disk, "managedDisk", path); !st) return st;
  return check_enum(object_at(disk, "managedDisk"), "storageAccountType", account_type_rule(path));
}

Status check_storage_shape(const json& storage) {
  if (auto st = optional_object(storage, "imageReference", kStorage); !st) return st;
  for (const char* key : {"id", "publisher", "offer", "sku", "version", "sharedGalleryImageId", "communityGalleryImageId"})
    if (auto st = optional_string(object_at(storage, "imageReference"), key, kStorage + ".imageReference"); !st) return st;
  if (auto st = optional_object(storage, "osDisk", kStorage); !st) return st;
  const json os = object_at(storage, "osDisk");
  if (auto st = optional_string(os, "name", kOsDisk); !st) return st;
  if (auto st = optional_integer(os, "diskSizeGB", kOsDisk, 1); !st) return st;
  if (auto st = check_enum(os, "osType", kOsType); !st) return st;
  if (auto st = check_enum(os, "createOption", kOsCreateOption); !st) return st;
  if (auto st = check_enum(os, "caching", kOsCaching); !st) return st;
  if (auto st = check_managed_disk(os, kOsDisk); !st) return st;
  if (auto st = optional_object(os, "diffDiskSettings", kOsDisk); !st) return st;

  if (auto st = optional_array(storage, "dataDisks", kStorage); !st) return st;
  const std::string data_path = kStorage + ".dataDisks";
  std::set<std::int64_t> luns;
  for (const json& disk : storage.value("dataDisks", json::array())) {
    if (!disk.is_object()) return invalid_content("Expected objects at path '" + data_path + "'");
    if (auto st = optional_integer(disk, "lun", data_path, 0); !st) return st;
    if (!disk.contains("lun") || disk["lun"].is_null()) return missing_parameter(data_path + ".lun");
    if (!luns.insert(disk["lun"].get<std::int64_t>()).second || disk["lun"].get<std::int64_t>() > 63)
      return invalid_parameter("The lun " + disk["lun"].dump() + " is not valid: luns are 0 to 63, each used once.",
                               data_path + ".lun");
    if (auto st = optional_integer(disk, "diskSizeGB", data_path, 1); !st) return st;
    if (auto st = check_enum(disk, "createOption", kDataCreateOption); !st) return st;
    if (auto st = check_enum(disk, "caching", kDataCaching); !st) return st;
    if (auto st = check_managed_disk(disk, data_path); !st) return st;
    if (!disk.contains("createOption")) return missing_parameter(data_path + ".createOption");
    const std::string option = *canonical_enum(kDataCreateOption, disk["createOption"]);
    if (option == "Empty" && !disk.contains("diskSizeGB")) return missing_parameter(data_path + ".diskSizeGB");
    if (option == "Attach" && reference_id(disk, "managedDisk").empty())
      return missing_parameter(data_path + ".managedDisk.id");
  }
  return ok_status();
}

// The top-level `plan` (a marketplace plan) and properties.licenseType.
Status check_licensing_shape(const json& body) {
  if (auto st = optional_object(body, "plan", ""); !st) return st;
  for (const char* key : {"name", "publisher", "product", "promotionCode"})
    if (auto st = optional_string(json_member(body, "plan"), key, "plan"); !st) return st;
  return optional_string(json_member(body, "properties"), "licenseType", "properties");
}

// osProfile.linuxConfiguration: the SSH keys are kept and returned (the emulator's SSH endpoint
// for builds authenticates by them). An empty keyData is accepted: Packer sends one with
// communicator "none" (real Azure refuses it).
Status check_linux_shape(const json& linux_config) {
  const std::string path = "properties.osProfile.linuxConfiguration";
  if (auto st = optional_bool(linux_config, "disablePasswordAuthentication", path); !st) return st;
  if (auto st = optional_object(linux_config, "ssh", path); !st) return st;
  if (auto st = optional_array(object_at(linux_config, "ssh"), "publicKeys", path + ".ssh"); !st) return st;
  for (const json& key : object_at(linux_config, "ssh").value("publicKeys", json::array())) {
    if (!key.is_object()) return invalid_content("Expected objects at path '" + path + ".ssh.publicKeys'");
    for (const char* member : {"path", "keyData"})
      if (auto st = optional_string(key, member, path + ".ssh.publicKeys"); !st) return st;
  }
  return ok_status();
}

Status check_network_shape(const json& network) {
  if (auto st = optional_array(network, "networkInterfaces", "properties.networkProfile"); !st) return st;
  for (const json& nic : network.value("networkInterfaces", json::array())) {
    if (!nic.is_object()) return invalid_content("Expected objects at path 'properties.networkProfile.networkInterfaces'");
    if (auto st = optional_string(nic, "id", "properties.networkProfile.networkInterfaces"); !st) return st;
  }
  return ok_status();
}

Status check_shapes(const json& p) {
  for (const char* key : {"hardwareProfile", "storageProfile", "osProfile", "networkProfile"})
    if (auto st = optional_object(p, key, "properties"); !st) return st;
  if (auto st = optional_string(object_at(p, "hardwareProfile"), "vmSize", "properties.hardwareProfile"); !st) return st;
  const json os_profile = object_at(p, "osProfile");
  for (const char* key : {"computerName", "adminUsername", "adminPassword", "customData"})
    if (auto st = optional_string(os_profile, key, "properties.osProfile"); !st) return st;
  for (const char* key : {"linuxConfiguration", "windowsConfiguration"})
    if (auto st = optional_object(os_profile, key, "properties.osProfile"); !st) return st;
  if (auto st = check_linux_shape(object_at(os_profile, "linuxConfiguration")); !st) return st;
  if (auto st = check_network_shape(object_at(p, "networkProfile")); !st) return st;
  return check_storage_shape(object_at(p, "storageProfile"));
}

// The OS type and generation of what the VM's OS disk comes from, when the emulator knows it:
// an attached disk, a managed image, or a gallery image definition (or one of its versions).
struct Origin {
  std::string os_type;
  std::string generation;
  json disk;  // the attached disk, when Attach
};

Result<Origin> origin_of(const json& storage, const std::string& option, Lookup& lookup) {
  Origin origin;
  if (option == "Attach") {
    auto disk = load_reference(lookup, reference_id(storage["osDisk"], "managedDisk"), {"Microsoft.Compute/disks"},
                               kOsDisk + ".managedDisk.id");
    if (!disk) return std::move(disk).error();
    origin.os_type = disk->value("/properties/osType"_json_pointer, "");
    origin.generation = disk->value("/properties/hyperVGeneration"_json_pointer, "");
    origin.disk = std::move(*disk);
    return origin;
  }
  std::string image = object_at(storage, "imageReference").value("id", "");
  if (!istarts_with(image, "/subscriptions/")) return origin;  // a platform image: not known here
  const std::string lower = to_lower(image);
  if (size_t versions = lower.find("/versions/"); lower.find("/galleries/") != std::string::npos && versions != std::string::npos)
    image = image.substr(0, versions);  // a gallery image version: its definition says
  auto found = lookup.load(image);
  if (!found) return std::move(found).error();
  if (!*found) return origin;
  const json& p = (**found)["properties"];
  if (iequals((**found).value("type", ""), "Microsoft.Compute/images")) {
    origin.os_type = p.value("/storageProfile/osDisk/osType"_json_pointer, "");
    origin.generation = p.value("hyperVGeneration", "");
  } else if (iequals((**found).value("type", ""), "Microsoft.Compute/galleries/images")) {
    origin.os_type = p.value("osType", "");
    origin.generation = p.value("hyperVGeneration", "");
  }
  return origin;
}

// "<vm>_OsDisk_1_<32 hex>", as Compute names an OS disk the request leaves unnamed: unique in
// the VM's resource group, so a VM deleted and created again gets a new disk.
Result<std::string> generated_os_disk_name(const WriteRequest& request, Lookup& lookup) {
  for (int attempt = 0;; ++attempt) {
    std::string hex = derived_guid(to_lower(request.id) + "|osdisk|" + std::to_string(lookup.now_ms()) + "|" +
                                   std::to_string(attempt));
    hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
    const std::string name = request.name + "_OsDisk_1_" + hex;
    auto taken = lookup.load(request.parent["id"].get<std::string>() + "/providers/Microsoft.Compute/disks/" + name);
    if (!taken) return std::move(taken).error();
    if (!*taken) return name;
  }
}

// The stored storage profile and the VM's generation, from the request's.
Result<std::pair<json, std::string>> resolve_storage(const WriteRequest& request, json storage, const json& os_profile,
                                                      Lookup& lookup) {
  json& os = storage["osDisk"];
  if (!os.is_object()) os = json::object();
  canonicalise_enum(os, "osType", kOsType);
  canonicalise_enum(os, "caching", kOsCaching);
  if (!os.contains("createOption")) os["createOption"] = "FromImage";
  canonicalise_enum(os, "createOption", kOsCreateOption);
  auto origin = origin_of(storage, os["createOption"].get<std::string>(), lookup);
  if (!origin) return std::move(origin).error();

  std::string os_type = os.value("osType", origin->os_type);
  if (os_type.empty() && os_profile.contains("linuxConfiguration")) os_type = "Linux";
  if (os_type.empty() && os_profile.contains("windowsConfiguration")) os_type = "Windows";
  if (os_type.empty())
    return invalid_parameter("Required parameter 'storageProfile.osDisk.osType' is missing (null): it cannot be derived "
                             "from the image this VM names.",
                             kOsDisk + ".osType");
  if (!origin->os_type.empty() && os_type != origin->os_type)
    return invalid_parameter("The osType '" + os_type + "' does not match that of the VM's source, '" + origin->os_type + "'.",
                             kOsDisk + ".osType");
  os["osType"] = os_type;
  if (!os.contains("name")) {
    auto name = generated_os_disk_name(request, lookup);
    if (!name) return std::move(name).error();
    os["name"] = *name;
  }
  if (!os.contains("caching")) os["caching"] = "ReadWrite";
  json& managed = os["managedDisk"];
  if (!managed.is_object()) managed = json::object();
  if (!origin->disk.is_null()) {
    managed["id"] = origin->disk["id"];
    if (!os.contains("diskSizeGB") && origin->disk["properties"].contains("diskSizeGB"))
      os["diskSizeGB"] = origin->disk["properties"]["diskSizeGB"];
    if (!managed.contains("storageAccountType"))
      managed["storageAccountType"] = origin->disk.value("/sku/name"_json_pointer, "Standard_LRS");
  }
  canonicalise_enum(managed, "storageAccountType", account_type_rule(kOsDisk));
  if (!managed.contains("storageAccountType")) managed["storageAccountType"] = "Standard_LRS";
  if (origin->disk.is_null()) {
    // Created from an image: the OS disk is a new managed disk in the VM's resource group
    // (written with the VM, see companions()).
    const std::string disk_id = request.parent["id"].get<std::string>() + "/providers/Microsoft.Compute/disks/" +
                                os["name"].get<std::string>();
    auto existing = lookup.load(disk_id);
    if (!existing) return std::move(existing).error();
    if (*existing)
      return bad_request("ConflictingUserInput", "Disk " + os["name"].get<std::string>() + " already exists in resource group " +
                                                     to_upper(request.parent.value("name", "")) +
                                                     ". Only CreateOption.Attach is supported.",
                         kOsDisk + ".createOption");
    managed["id"] = disk_id;
    if (!os.contains("diskSizeGB")) os["diskSizeGB"] = kDefaultOsDiskGB;
  }

  json data = json::array();
  for (json disk : storage.value("dataDisks", json::array())) {
    canonicalise_enum(disk, "createOption", kDataCreateOption);
    canonicalise_enum(disk, "caching", kDataCaching);
    if (disk.contains("managedDisk"))
      canonicalise_enum(disk["managedDisk"], "storageAccountType", account_type_rule(kStorage + ".dataDisks"));
    if (!disk.contains("caching")) disk["caching"] = "None";
    if (disk["createOption"] == "Attach") {
      auto attached = load_reference(lookup, reference_id(disk, "managedDisk"), {"Microsoft.Compute/disks"},
                                     kStorage + ".dataDisks.managedDisk.id");
      if (!attached) return std::move(attached).error();
      disk["managedDisk"]["id"] = (*attached)["id"];
      if (!disk.contains("diskSizeGB") && (*attached)["properties"].contains("diskSizeGB"))
        disk["diskSizeGB"] = (*attached)["properties"]["diskSizeGB"];
    }
    data.push_back(std::move(disk));
  }
  storage["dataDisks"] = std::move(data);
  return std::pair{std::move(storage), origin->generation.empty() ? std::string("V1") : origin->generation};
}

// A VM deployed from a gallery image: the version must be replicated to the VM's region
// (resolve_gallery_image), an ephemeral OS disk is refused (a rule of this product: the
// emulator keeps no local image cache to place one on), a specialized image brings its own
// OS configuration and a generalized one needs it. Fills the OS type from the definition
// and records the version deployed as imageReference.exactVersion.
// The definition deployed from is left in `definition` (null when the image is not a gallery's).
Status apply_gallery_image(const WriteRequest& request, json& in, Lookup& lookup, json& definition_out) {
  json& storage = in["storageProfile"];
  if (!storage.is_object()) return ok_status();
  auto gallery = resolve_gallery_image(object_at(storage, "imageReference"), json_text(request.body, "location"),
                                       Consumer{request.subscription, request.tenant}, lookup);
  if (!gallery) return std::move(gallery).error();
  if (!*gallery) return ok_status();
  if (auto st = check_purchase_plan(request, (*gallery)->definition, lookup); !st) return st;
  definition_out = (*gallery)->definition;
  if (object_at(storage, "osDisk").contains("diffDiskSettings"))
    return invalid_parameter("An ephemeral OS disk (diffDiskSettings) cannot be created from a gallery image in "
                             "acg-emulator. Remove 'diffDiskSettings' or deploy a platform image.",
                             kOsDisk + ".diffDiskSettings");
  const json& definition = (*gallery)->definition["properties"];
  const bool has_os_profile = json_member(json_member(request.body, "properties"), "osProfile").is_object();
  if (iequals(json_text(definition, "osState"), "Specialized") && has_os_profile)
    return invalid_parameter("Parameter 'osProfile' is not allowed.", "osProfile");
  if (!iequals(json_text(definition, "osState"), "Specialized") && !has_os_profile)
    return invalid_parameter("Required parameter 'osProfile' is missing (null).", "osProfile");
  json& os = storage["osDisk"];
  if (!os.is_object()) os = json::object();
  if (!os.contains("osType") && !json_text(definition, "osType").empty()) os["osType"] = definition["osType"];
  storage["imageReference"]["exactVersion"] = (*gallery)->version["name"];
  return ok_status();
}

// "/subscriptions/{sub}/..." -> "{sub}".
std::string subscription_of(const std::string& id) {
  const size_t start = std::string("/subscriptions/").size();
  return id.substr(start, id.find('/', start) - start);
}

// The managed disk a VM created from an image gets as its OS disk, as DiskRP shows it; null
// when the OS disk was attached (it exists already).
json os_disk_of(const json& vm, Lookup& lookup) {
  const json& os = vm["properties"]["storageProfile"]["osDisk"];
  if (os.value("createOption", "") != "FromImage") return json();
  const std::string id = os.value("/managedDisk/id"_json_pointer, "");
  if (id.empty()) return json();
  const json image = vm.value("/properties/storageProfile/imageReference"_json_pointer, json::object());
  json creation = {{"createOption", "FromImage"}};
  if (image.contains("id")) {
    const bool gallery = to_lower(image.value("id", "")).find("/galleries/") != std::string::npos;
    creation[gallery ? "galleryImageReference" : "imageReference"] = {{"id", image["id"]}};
  } else {
    creation["imageReference"] = {
        {"id", "/Subscriptions/" + subscription_of(vm["id"]) + "/Providers/Microsoft.Compute/Locations/" +
                   vm.value("location", "") + "/Publishers/" + image.value("publisher", "") +
                   "/ArtifactTypes/VMImage/Offers/" + image.value("offer", "") + "/Skus/" + image.value("sku", "") +
                   "/Versions/" + image.value("version", "latest")}};
  }
  const std::string account = os.value("/managedDisk/storageAccountType"_json_pointer, "Standard_LRS");
  const std::int64_t now = lookup.now_ms();
  json properties = {{"osType", os.value("osType", "")},
                     {"hyperVGeneration", vm.value("/properties/instanceView/hyperVGeneration"_json_pointer, "V1")},
                     {"creationData", creation},
                     {"diskSizeGB", os.value("diskSizeGB", kDefaultOsDiskGB)},
                     {"diskState", "Attached"},
                     {"timeCreated", format_arm_time(now)},
                     {"uniqueId", derived_guid(to_lower(id) + "|" + std::to_string(now))},
                     {"encryption", {{"type", "EncryptionAtRestWithPlatformKey"}}},
                     {"networkAccessPolicy", "AllowAll"},
                     {"publicNetworkAccess", "Enabled"},
                     {"provisioningState", "Succeeded"}};
  return {{"id", id},
          {"name", os.value("name", "")},
          {"type", "Microsoft.Compute/disks"},
          {"location", vm.value("location", "")},
          {"managedBy", vm["id"]},
          {"sku", {{"name", account}, {"tier", istarts_with(account, "Premium") ? "Premium" : "Standard"}}},
          {"properties", properties}};
}

// What booting a VM takes in the modelled world, scaled like replication.
constexpr double kVmBootSeconds = 60;

class VirtualMachineType final : public ResourceType {
 public:
  std::string type() const override { return "Microsoft.Compute/virtualMachines"; }
  bool needs_gallery_region() const override { return false; }

  Status check_name(std::string_view name) const override { return check_compute_name(name, 64, "vmName"); }

  std::int64_t provisioning_ms(const Lookup& lookup) const override {
    const ReplicationModel& model = lookup.settings().replication;
    return model.instant() ? 0 : static_cast<std::int64_t>(kVmBootSeconds * 1000 / model.speed);
  }

  Status check_body(const json& body, bool patch) const override {
    const json p = object_at(body, "properties");
    if (auto st = check_shapes(p); !st) return st;
    if (auto st = check_licensing_shape(body); !st) return st;
    if (patch) return ok_status();
    if (object_at(p, "hardwareProfile").value("vmSize", "").empty())
      return missing_parameter("properties.hardwareProfile.vmSize");
    if (!p.contains("storageProfile") || !p["storageProfile"].is_object()) return missing_parameter(kStorage);
    const json storage = p["storageProfile"];
    const json os = object_at(storage, "osDisk");
    std::string option = os.contains("createOption") ? *canonical_enum(kOsCreateOption, os["createOption"]) : "FromImage";
    if (option == "FromImage" && !storage.contains("imageReference")) return missing_parameter(kStorage + ".imageReference");
    if (option == "Attach" && reference_id(os, "managedDisk").empty()) return missing_parameter(kOsDisk + ".managedDisk.id");
    return ok_status();
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    json in = object_at(request.body, "properties");
    for (const char* key : kReadOnly) in.erase(key);
    json& os_profile = in["osProfile"];
    if (os_profile.is_object()) {
      os_profile.erase("adminPassword");  // secrets are never stored or returned
      os_profile.erase("customData");
    } else {
      in.erase("osProfile");
    }
    if (request.stored) return update(request, in);
    json definition;
    if (auto st = apply_gallery_image(request, in, lookup, definition); !st) return std::move(st).error();

    if (auto st = check_vm_nics(object_at(in, "networkProfile"), request.id, json_text(request.body, "location"), lookup); !st)
      return std::move(st).error();
    auto storage = resolve_storage(request, object_at(in, "storageProfile"), object_at(in, "osProfile"), lookup);
    if (!storage) return std::move(storage).error();
    const std::string os_type = storage->first["osDisk"].value("osType", "");
    if (auto st = check_license_type(json_member(in, "licenseType"), os_type, definition); !st)
      return std::move(st).error();
    json out = std::move(in);
    out["storageProfile"] = std::move(storage->first);
    const std::int64_t now = lookup.now_ms();
    out["vmId"] = derived_guid(to_lower(request.id) + "|" + std::to_string(now));
    out["timeCreated"] = format_arm_time(now);
    out["instanceView"] = {{"hyperVGeneration", storage->second}, {"statuses", json::array()}};
    return out;
  }

  // What the create writes beside the VM: its new OS disk, and each NIC pointing back at it.
  Result<std::vector<json>> companions(const json& vm, Lookup& lookup) const override {
    std::vector<json> out;
    if (json disk = os_disk_of(vm, lookup); !disk.is_null()) out.push_back(std::move(disk));
    for (const json& ref : vm.value("/properties/networkProfile/networkInterfaces"_json_pointer, json::array())) {
      auto nic = lookup.load(json_text(ref, "id"));
      if (!nic) return std::move(nic).error();
      if (!*nic) continue;
      (**nic)["properties"]["virtualMachine"] = {{"id", vm["id"]}};
      out.push_back(std::move(**nic));
    }
    return out;
  }

  // The marketplace plan is the one the VM was created with: kept on updates (update() refuses
  // another).
  void apply_members(json& resource, const json& body, const WriteRequest& request) const override {
    if (!request.stored && json_member(body, "plan").is_object()) resource["plan"] = body["plan"];
  }

 private:
  // A specialized VM may change its size, profiles and licence type; its OS disk, image and
  // plan are fixed.
  static Result<json> update(const WriteRequest& request, const json& in) {
    const json& stored = (*request.stored)["properties"];
    if (is_generalized(*request.stored))
      return conflict("OperationNotAllowed",
                      "Operation 'Update' is not allowed on VM '" + request.name + "' since the VM is generalized.");
    const json& plan = json_member(request.body, "plan");
    if (plan.is_object() && plan != json_member(*request.stored, "plan"))
      return conflict("PropertyChangeNotAllowed", "Changing property 'plan' is not allowed.");
    if (auto st = check_license_type(json_member(in, "licenseType"),
                                     stored.value("/storageProfile/osDisk/osType"_json_pointer, ""), json());
        !st)
      return std::move(st).error();
    const json wanted = object_at(in, "storageProfile");
    const json& current = stored["storageProfile"];
    std::string os_type = object_at(wanted, "osDisk").value("osType", "");
    if (!os_type.empty() && !iequals(os_type, current["osDisk"].value("osType", "")))
      return conflict("PropertyChangeNotAllowed", "Changing property 'storageProfile.osDisk.osType' is not allowed.");
    if (wanted.contains("imageReference") && current.contains("imageReference") &&
        !iequals(object_at(wanted, "imageReference").value("id", ""), current["imageReference"].value("id", "")))
      return conflict("PropertyChangeNotAllowed", "Changing property 'storageProfile.imageReference' is not allowed.");
    json out = stored;
    for (auto& [key, value] : in.items()) {
      if (key == "storageProfile") continue;
      if (value.is_null()) out.erase(key);
      else out[key] = value;
    }
    return out;
  }
};

}  // namespace

const ResourceType& virtual_machine_type() {
  static const VirtualMachineType type;
  return type;
}

bool is_generalized(const json& vm) {
  const json statuses = vm.value("/properties/instanceView/statuses"_json_pointer, json::array());
  for (const json& s : statuses)
    if (s.is_object() && iequals(s.value("code", ""), kGeneralizedCode)) return true;
  return false;
}

void set_power_state(json& vm, const std::string& state) {
  json& view = vm["properties"]["instanceView"];
  if (!view.is_object()) view = {{"hyperVGeneration", "V1"}};
  if (!view["statuses"].is_array()) view["statuses"] = json::array();
  json& statuses = view["statuses"];
  for (auto it = statuses.begin(); it != statuses.end();) {
    if (it->is_object() && istarts_with(it->value("code", ""), "PowerState/")) it = statuses.erase(it);
    else ++it;
  }
  std::string display = "VM " + state;
  statuses.push_back({{"code", "PowerState/" + state}, {"level", "Info"}, {"displayStatus", display}});
}

std::string power_state(const json& vm) {
  for (const json& s : vm.value("/properties/instanceView/statuses"_json_pointer, json::array()))
    if (s.is_object() && istarts_with(s.value("code", ""), "PowerState/")) return s["code"].get<std::string>().substr(11);
  return "running";
}

Result<std::vector<json>> released_by_vm(const json& vm, Lookup& lookup) {
  std::vector<json> out;
  const std::string vm_id = vm.value("id", "");
  std::vector<std::string> ids;
  for (const json& ref : vm.value("/properties/networkProfile/networkInterfaces"_json_pointer, json::array()))
    ids.push_back(json_text(ref, "id"));
  ids.push_back(vm.value("/properties/storageProfile/osDisk/managedDisk/id"_json_pointer, ""));
  for (const std::string& id : ids) {
    if (id.empty()) continue;
    auto found = lookup.load(id);
    if (!found) return std::move(found).error();
    if (!*found) continue;
    json& r = **found;
    if (iequals(r.value("/properties/virtualMachine/id"_json_pointer, ""), vm_id)) {
      r["properties"].erase("virtualMachine");
      out.push_back(std::move(r));
    } else if (iequals(r.value("managedBy", ""), vm_id)) {
      r.erase("managedBy");
      r["properties"]["diskState"] = "Unattached";
      out.push_back(std::move(r));
    }
  }
  return out;
}

Status generalize_vm(json& vm) {
  if (is_generalized(vm)) return ok_status();
  json& view = vm["properties"]["instanceView"];
  if (!view.is_object()) view = {{"hyperVGeneration", "V1"}};
  if (!view["statuses"].is_array()) view["statuses"] = json::array();
  view["statuses"].push_back({{"code", kGeneralizedCode}, {"level", "Info"}, {"displayStatus", "VM generalized"}});
  return ok_status();
}

}  // namespace acg
