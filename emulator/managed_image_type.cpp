// Managed images (Microsoft.Compute/images), CRP: an OS disk and data disks, each from a
// snapshot, a managed disk or a blob, or the disks of a generalized virtual machine
// (sourceVirtualMachine). What an image is made of is fixed once it exists: an update may
// restate it (any casing) and change tags only.

#include <set>

#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/source_types.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

const std::string kOsDiskPath = "properties.storageProfile.osDisk";
const EnumRule kHyperV{"properties.hyperVGeneration", kHyperVGenerations};

EnumRule rule(const std::string& path, const char* key, const std::vector<const char*>& values) {
  return EnumRule{path + "." + key, values};
}

// The enum members of one image disk, canonicalised in place.
void canonicalise_disk(json& disk, const std::string& path) {
  canonicalise_enum(disk, "osType", rule(path, "osType", kOsTypes));
  canonicalise_enum(disk, "osState", rule(path, "osState", kOsStates));
  canonicalise_enum(disk, "caching", rule(path, "caching", kCachingTypes));
  canonicalise_enum(disk, "storageAccountType", rule(path, "storageAccountType", kDiskSkus));
}

bool has_source(const json& disk) {
  return !reference_id(disk, "snapshot").empty() || !reference_id(disk, "managedDisk").empty() ||
         (disk.contains("blobUri") && disk["blobUri"].is_string());
}

Status check_disk_shape(const json& disk, const std::string& path) {
  for (const char* key : {"snapshot", "managedDisk"})
    if (auto st = optional_reference(disk, key, path); !st) return st;
  if (auto st = optional_string(disk, "blobUri", path); !st) return st;
  if (auto st = optional_integer(disk, "diskSizeGB", path, 1); !st) return st;
  if (auto st = check_enum(disk, "caching", rule(path, "caching", kCachingTypes)); !st) return st;
  return check_enum(disk, "storageAccountType", rule(path, "storageAccountType", kDiskSkus));
}

Status check_data_disks(const json& storage) {
  const std::string path = "properties.storageProfile.dataDisks";
  auto it = storage.find("dataDisks");
  if (it == storage.end() || !it->is_array()) return ok_status();
  std::set<std::int64_t> luns;
  for (const json& disk : *it) {
    if (!disk.is_object()) return invalid_content("Expected objects at path '" + path + "'");
    if (auto st = optional_integer(disk, "lun", path, 0); !st) return st;
    if (!disk.contains("lun") || disk["lun"].is_null()) return missing_parameter(path + ".lun");
    std::int64_t lun = disk["lun"];
    if (lun > 63) return invalid_parameter("The value " + std::to_string(lun) + " of 'lun' is not valid: a lun is 0 to 63.", path + ".lun");
    if (!luns.insert(lun).second)
      return invalid_parameter("Two data disks use lun " + std::to_string(lun) + ". Each lun may be used once.", path);
    if (auto st = check_disk_shape(disk, path); !st) return st;
    if (!has_source(disk))
      return invalid_parameter("One of 'snapshot', 'managedDisk' or 'blobUri' is required for the data disk at lun " +
                                   std::to_string(lun) + ".",
                               path);
  }
  return ok_status();
}

Status check_shapes(const json& p) {
  if (auto st = optional_reference(p, "sourceVirtualMachine", "properties"); !st) return st;
  if (auto st = optional_object(p, "storageProfile", "properties"); !st) return st;
  if (auto st = check_enum(p, "hyperVGeneration", kHyperV); !st) return st;
  const json storage = object_at(p, "storageProfile");
  if (auto st = optional_object(storage, "osDisk", "properties.storageProfile"); !st) return st;
  if (auto st = optional_array(storage, "dataDisks", "properties.storageProfile"); !st) return st;
  if (auto st = optional_bool(storage, "zoneResilient", "properties.storageProfile"); !st) return st;
  const json os = object_at(storage, "osDisk");
  if (auto st = check_disk_shape(os, kOsDiskPath); !st) return st;
  if (auto st = check_enum(os, "osType", rule(kOsDiskPath, "osType", kOsTypes)); !st) return st;
  if (auto st = check_enum(os, "osState", rule(kOsDiskPath, "osState", kOsStates)); !st) return st;
  return check_data_disks(storage);
}

// One disk of the image from its snapshot or managed disk (which must exist) or blob: ids in
// the service's casing, size and storage type defaulting to the source's.
Result<json> resolve_disk(json disk, const std::string& path, const char* default_caching, Lookup& lookup) {
  canonicalise_disk(disk, path);
  json source;
  for (auto [key, type] : {std::pair{"snapshot", "Microsoft.Compute/snapshots"}, std::pair{"managedDisk", "Microsoft.Compute/disks"}}) {
    std::string id = reference_id(disk, key);
    if (id.empty()) continue;
    auto found = load_reference(lookup, id, {type}, path + "." + key + ".id");
    if (!found) return std::move(found).error();
    disk[key] = {{"id", (*found)["id"]}};
    source = std::move(*found);
  }
  if (!disk.contains("diskSizeGB") && source.contains("properties") && source["properties"].contains("diskSizeGB"))
    disk["diskSizeGB"] = source["properties"]["diskSizeGB"];
  if (!disk.contains("storageAccountType"))
    disk["storageAccountType"] = source.is_object() ? source.value("/sku/name"_json_pointer, "Standard_LRS") : "Standard_LRS";
  if (!disk.contains("caching")) disk["caching"] = default_caching;
  return disk;
}

// The storage profile captured from a generalized virtual machine: its OS type, "Generalized",
// its disks. Disk settings the request gives (caching, storage type, size) win.
Result<json> capture(const json& vm, const json& requested_os) {
  const json& vm_storage = vm["properties"]["storageProfile"];
  const json vm_os = object_at(vm_storage, "osDisk");
  json os = {{"osType", vm_os.value("osType", "")},
             {"osState", "Generalized"},
             {"caching", vm_os.value("caching", "ReadWrite")},
             {"storageAccountType", vm_os.value("/managedDisk/storageAccountType"_json_pointer, "Standard_LRS")}};
  if (std::string id = reference_id(vm_os, "managedDisk"); !id.empty()) os["managedDisk"] = {{"id", id}};
  if (vm_os.contains("diskSizeGB")) os["diskSizeGB"] = vm_os["diskSizeGB"];
  json requested = requested_os;
  canonicalise_disk(requested, kOsDiskPath);
  for (const char* key : {"osType", "osState"})
    if (requested.contains(key) && requested[key].is_string() && requested[key] != os[key])
      return invalid_parameter("The " + std::string(key) + " '" + requested[key].get<std::string>() +
                                   "' does not match the source virtual machine's, '" + os[key].get<std::string>() + "'.",
                               kOsDiskPath + "." + key);
  for (const char* key : {"caching", "storageAccountType", "diskSizeGB"})
    if (requested.contains(key) && !requested[key].is_null()) os[key] = requested[key];

  json data = json::array();
  if (vm_storage.contains("dataDisks") && vm_storage["dataDisks"].is_array())
    for (const json& d : vm_storage["dataDisks"]) {
      json disk = {{"lun", d.value("lun", 0)},
                   {"caching", d.value("caching", "None")},
                   {"storageAccountType", d.value("/managedDisk/storageAccountType"_json_pointer, "Standard_LRS")}};
      if (std::string id = reference_id(d, "managedDisk"); !id.empty()) disk["managedDisk"] = {{"id", id}};
      if (d.contains("diskSizeGB")) disk["diskSizeGB"] = d["diskSizeGB"];
      data.push_back(std::move(disk));
    }
  return json{{"osDisk", std::move(os)}, {"dataDisks", std::move(data)}};
}

ArmError change_not_allowed(const std::string& property) {
  return conflict("PropertyChangeNotAllowed", "Changing property '" + property + "' is not allowed.");
}

// An update may restate what the image is made of, never change it.
Status check_unchanged(const json& stored, const json& in) {
  if (in.contains("hyperVGeneration") && in["hyperVGeneration"].is_string() &&
      !iequals(in["hyperVGeneration"].get<std::string>(), stored.value("hyperVGeneration", "")))
    return change_not_allowed("hyperVGeneration");
  std::string vm = reference_id(in, "sourceVirtualMachine");
  if (!vm.empty() && !iequals(vm, reference_id(stored, "sourceVirtualMachine")))
    return change_not_allowed("sourceVirtualMachine");
  const json os = object_at(object_at(in, "storageProfile"), "osDisk");
  const json stored_os = object_at(object_at(stored, "storageProfile"), "osDisk");
  for (const char* key : {"osType", "osState", "blobUri"})
    if (os.contains(key) && os[key].is_string() && !iequals(os[key].get<std::string>(), stored_os.value(key, "")))
      return change_not_allowed(std::string("storageProfile.osDisk.") + key);
  for (const char* key : {"snapshot", "managedDisk"}) {
    std::string id = reference_id(os, key);
    if (!id.empty() && !iequals(id, reference_id(stored_os, key)))
      return change_not_allowed(std::string("storageProfile.osDisk.") + key);
  }
  return ok_status();
}

class ManagedImageType final : public ResourceType {
 public:
  std::string type() const override { return "Microsoft.Compute/images"; }
  bool needs_gallery_region() const override { return false; }

  Status check_name(std::string_view name) const override { return check_compute_name(name, 80, "imageName"); }

  Status check_body(const json& body, bool patch) const override {
    const json p = object_at(body, "properties");
    if (auto st = check_shapes(p); !st) return st;
    if (patch) return ok_status();
    if (p.contains("sourceVirtualMachine") && !p["sourceVirtualMachine"].is_null()) {
      if (reference_id(p, "sourceVirtualMachine").empty()) return missing_parameter("properties.sourceVirtualMachine.id");
      return ok_status();  // the OS disk comes from the VM
    }
    if (!p.contains("storageProfile") || !p["storageProfile"].is_object()) return missing_parameter("properties.storageProfile");
    const json os = object_at(p["storageProfile"], "osDisk");
    if (os.empty()) return missing_parameter(kOsDiskPath);
    for (const char* key : {"osType", "osState"})
      if (!os.contains(key) || os[key].is_null()) return missing_parameter(kOsDiskPath + "." + key);
    if (!has_source(os))
      return invalid_parameter("One of 'snapshot', 'managedDisk' or 'blobUri' is required for 'storageProfile.osDisk'.",
                               kOsDiskPath);
    return ok_status();
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    const json in = object_at(request.body, "properties");
    if (request.stored) {
      const json& stored = (*request.stored)["properties"];
      if (auto st = check_unchanged(stored, in); !st) return std::move(st).error();
      return stored;
    }
    const json requested_storage = object_at(in, "storageProfile");
    json out;
    json storage;
    std::string generation = "V1";
    if (in.contains("hyperVGeneration") && in["hyperVGeneration"].is_string())
      generation = *canonical_enum(kHyperV, in["hyperVGeneration"]);

    if (std::string vm_id = reference_id(in, "sourceVirtualMachine"); !vm_id.empty()) {
      auto vm = source_vm(vm_id, lookup);
      if (!vm) return std::move(vm).error();
      auto captured = capture(*vm, object_at(requested_storage, "osDisk"));
      if (!captured) return captured;
      storage = std::move(*captured);
      std::string vm_generation = vm->value("/properties/instanceView/hyperVGeneration"_json_pointer, "V1");
      if (in.contains("hyperVGeneration") && in["hyperVGeneration"].is_string() && generation != vm_generation)
        return invalid_parameter("The hyperVGeneration '" + generation +
                                     "' does not match that of the source virtual machine, '" + vm_generation + "'.",
                                 "properties.hyperVGeneration");
      generation = vm_generation;
      out["sourceVirtualMachine"] = {{"id", (*vm)["id"]}};
    } else {
      auto os = resolve_disk(object_at(requested_storage, "osDisk"), kOsDiskPath, "ReadWrite", lookup);
      if (!os) return os;
      storage["osDisk"] = std::move(*os);
      storage["dataDisks"] = json::array();
      if (requested_storage.contains("dataDisks") && requested_storage["dataDisks"].is_array())
        for (const json& d : requested_storage["dataDisks"]) {
          auto disk = resolve_disk(d, "properties.storageProfile.dataDisks", "None", lookup);
          if (!disk) return disk;
          storage["dataDisks"].push_back(std::move(*disk));
        }
    }
    storage["zoneResilient"] = requested_storage.value("zoneResilient", false);
    out["storageProfile"] = std::move(storage);
    out["hyperVGeneration"] = generation;
    return out;
  }

 private:
  // The virtual machine an image is captured from: it must exist and be generalized.
  static Result<json> source_vm(const std::string& id, Lookup& lookup) {
    std::string absolute = !id.empty() && id.front() != '/' ? "/" + id : id;
    auto found = istarts_with(absolute, "/subscriptions/") ? lookup.load(absolute)
                                                           : Result<std::optional<json>>(std::optional<json>());
    if (!found) return std::move(found).error();
    if (!*found || !iequals((**found).value("type", ""), "Microsoft.Compute/virtualMachines"))
      return conflict("NotFound", "The virtual machine '" + id +
                                      "' given in 'sourceVirtualMachine.id' was not found, so no image can be "
                                      "captured from it.");
    json vm = std::move(**found);
    if (!is_generalized(vm))
      return conflict("OperationNotAllowed",
                      "The virtual machine '" + vm.value("name", "") +
                          "' is not generalized: an image can be captured only from a generalized virtual machine. "
                          "Generalize it first (POST " + vm.value("id", "") + "/generalize).");
    return vm;
  }
};

}  // namespace

const ResourceType& managed_image_type() {
  static const ManagedImageType type;
  return type;
}

}  // namespace acg
