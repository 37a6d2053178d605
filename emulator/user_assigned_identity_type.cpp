// User-assigned managed identities (Microsoft.ManagedIdentity/userAssignedIdentities): only
// what Image Builder needs of them. tenantId, principalId and clientId are read-only and
// derived from the id, so a role assignment made to the principal survives a restart. The
// identity may live in any region of the catalog.

#include <cctype>

#include "emulator/image_builder.h"
#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

std::string identity_principal_id(const std::string& identity_id) {
  return derived_guid(to_lower(identity_id) + "#principal");
}

std::string identity_client_id(const std::string& identity_id) {
  return derived_guid(to_lower(identity_id) + "#client");
}

namespace {

class UserAssignedIdentityType final : public ResourceType {
 public:
  std::string type() const override { return kUserAssignedIdentityType; }
  bool needs_gallery_region() const override { return false; }

  // 3..128 characters: letters, digits, '-' and '_', starting with a letter or digit.
  Status check_name(std::string_view name) const override {
    bool valid = name.size() >= 3 && name.size() <= 128 && std::isalnum(static_cast<unsigned char>(name[0]));
    for (char c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') valid = false;
    if (valid) return ok_status();
    return bad_request("InvalidResourceName",
                       "Resource name '" + std::string(name) +
                           "' is invalid. The name can contain only letters, numbers, underscores and hyphens. "
                           "The name must start with a letter or number and be 3 to 128 characters long.");
  }

  Status check_body(const json& body, bool /*patch*/) const override {
    const json& p = json_member(body, "properties");
    if (!p.is_null() && !p.is_object()) return invalid_content("Expected an object at path 'properties'");
    return ok_status();
  }

  Result<json> properties(const WriteRequest& request, Lookup&) const override {
    json out = {{"tenantId", request.tenant},
                {"principalId", identity_principal_id(request.id)},
                {"clientId", identity_client_id(request.id)}};
    // isolationScope (2023-07-31-preview and later): kept as sent.
    const json& in = json_member(request.body, "properties");
    if (in.is_object() && in.contains("isolationScope")) out["isolationScope"] = in["isolationScope"];
    else if (request.stored && (*request.stored)["properties"].contains("isolationScope"))
      out["isolationScope"] = (*request.stored)["properties"]["isolationScope"];
    return out;
  }

  // The identity service shows no provisioningState.
  json view(const json& stored, const std::string&) const override {
    json out = stored;
    if (out.contains("properties") && out["properties"].is_object()) out["properties"].erase("provisioningState");
    return out;
  }
};

}  // namespace

const ResourceType& user_assigned_identity_type() {
  static const UserAssignedIdentityType type;
  return type;
}

}  // namespace acg
