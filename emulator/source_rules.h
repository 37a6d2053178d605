#pragma once
// Rules the source resource types share (managed images, disks, snapshots, virtual machines,
// storage accounts; see source_types.h): Compute's name rule, enum values in any casing,
// body-shape checks the generic helpers lack, references to other resources by id and GUIDs
// derived from ids. Internal to emulator/.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/arm_error.h"
#include "emulator/resource_type.h"

namespace acg {

// An enum property: where it sits (for messages) and its values in canonical spelling.
struct EnumRule {
  std::string path;  // "properties.storageProfile.osDisk.osType"
  std::vector<const char*> values;
};

// Inline, so they are initialised before any rule built from them at namespace scope in a
// file that includes this header (cross-file static initialisation order is unspecified).
inline const std::vector<const char*> kOsTypes = {"Windows", "Linux"};
inline const std::vector<const char*> kOsStates = {"Generalized", "Specialized"};
inline const std::vector<const char*> kHyperVGenerations = {"V1", "V2"};
inline const std::vector<const char*> kCachingTypes = {"None", "ReadOnly", "ReadWrite"};
inline const std::vector<const char*> kDiskSkus = {"Standard_LRS",  "Premium_LRS",     "StandardSSD_LRS", "Standard_ZRS",
                                                   "Premium_ZRS",   "StandardSSD_ZRS", "PremiumV2_LRS",   "UltraSSD_LRS"};

// 400 InvalidParameter.
ArmError invalid_parameter(const std::string& message, const std::string& target);
// 400 InvalidParameter "Required parameter 'x' is missing (null)." for path "properties.x".
ArmError missing_parameter(const std::string& path);

// Compute's resource name rule: 1..max_length characters; letters, digits, '_', '-' and '.';
// starting with a letter or digit and ending with a letter, digit or '_'. The error names
// `parameter` ("diskName") as its target.
Status check_compute_name(std::string_view name, size_t max_length, const char* parameter);

// The canonical spelling of `value` (any casing), or 400 InvalidParameter naming rule.path.
Result<std::string> canonical_enum(const EnumRule& rule, const nlohmann::json& value);
// parent[key], when present and not null, must be one of rule.values.
Status check_enum(const nlohmann::json& parent, const char* key, const EnumRule& rule);
// Replaces parent[key], when present and not null, by its canonical spelling. Call after
// check_enum: values it would refuse are left alone.
void canonicalise_enum(nlohmann::json& parent, const char* key, const EnumRule& rule);

// Shapes the request_body.h helpers lack: an integer (optionally >= minimum), an array.
Status optional_integer(const nlohmann::json& parent, const char* key, std::string_view path,
                        std::int64_t minimum = INT64_MIN);
Status optional_array(const nlohmann::json& parent, const char* key, std::string_view path);
// A sub-resource reference {"id": "..."}: an object whose id, when present, is a string.
Status optional_reference(const nlohmann::json& parent, const char* key, std::string_view path);

// parent[key] as an object, or an empty object when absent, null or not an object.
nlohmann::json object_at(const nlohmann::json& parent, const char* key);
// parent[key]["id"] as a string, or empty.
std::string reference_id(const nlohmann::json& parent, const char* key);

// The resource an id refers to, which must exist and be of one of `types`. Otherwise a 400
// with code NotFound naming `path` (DiskRP and CRP refuse dangling sources as bad requests).
Result<nlohmann::json> load_reference(Lookup& lookup, const std::string& id, const std::vector<std::string>& types,
                                      const std::string& path);

// A GUID derived from `seed` (e.g. an id and its creation time): version-4 layout, lower
// case, stable for one seed. ResourceType has no id generator; this keeps uniqueId/vmId
// deterministic.
std::string derived_guid(std::string_view seed);

}  // namespace acg
