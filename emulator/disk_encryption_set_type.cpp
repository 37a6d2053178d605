// Disk encryption sets (Microsoft.Compute/diskEncryptionSets): the customer-managed key an
// image version's replicas are encrypted with, per target region. Only what the gallery needs:
// the key URL, the encryption type, a system-assigned identity; no key vault is contacted.

#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/source_types.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

const EnumRule kEncryptionType{"properties.encryptionType",
                               {"EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys",
                                "ConfidentialVmEncryptedWithCustomerKey"}};

class DiskEncryptionSetType final : public ResourceType {
 public:
  std::string type() const override { return "Microsoft.Compute/diskEncryptionSets"; }
  bool needs_gallery_region() const override { return false; }
  Status check_name(std::string_view name) const override { return check_compute_name(name, 80, "diskEncryptionSetName"); }

  Status check_body(const json& body, bool patch) const override {
    if (auto st = optional_object(body, "identity", ""); !st) return st;
    const json& p = json_member(body, "properties");
    if (!p.is_object()) return patch ? ok_status() : missing_parameter("properties.activeKey");
    if (auto st = check_enum(p, "encryptionType", kEncryptionType); !st) return st;
    if (auto st = optional_bool(p, "rotationToLatestKeyVersionEnabled", "properties"); !st) return st;
    const json& key = json_member(p, "activeKey");
    if (key.is_null()) return patch ? ok_status() : missing_parameter("properties.activeKey");
    if (!key.is_object()) return invalid_content("Expected an object at path 'properties.activeKey'");
    if (!istarts_with(json_text(key, "keyUrl"), "https://"))
      return invalid_parameter("The key URL '" + json_text(key, "keyUrl") +
                                   "' is not valid: it must be an https URL of a Key Vault key.",
                               "properties.activeKey.keyUrl");
    return optional_reference(key, "sourceVault", "properties.activeKey");
  }

  Result<json> properties(const WriteRequest& request, Lookup&) const override {
    json out = request.stored ? (*request.stored)["properties"] : json{{"encryptionType", "EncryptionAtRestWithCustomerKey"}};
    json in = json_member(request.body, "properties");
    if (!in.is_object()) in = json::object();
    canonicalise_enum(in, "encryptionType", kEncryptionType);
    for (auto& [key, value] : in.items())
      if (key != "provisioningState" && key != "previousKeys") out[key] = value;
    out["previousKeys"] = json::array();
    return out;
  }

  void apply_members(json& resource, const json& body, const WriteRequest& request) const override {
    const json& identity = json_member(body, "identity");
    if (identity.is_object())
      resource["identity"] = {{"type", json_text(identity, "type").empty() ? "SystemAssigned" : identity["type"]},
                              {"principalId", derived_guid(request.id + "#principal")},
                              {"tenantId", request.tenant}};
  }
};

}  // namespace

const ResourceType& disk_encryption_set_type() {
  static const DiskEncryptionSetType type;
  return type;
}

}  // namespace acg
