// Galleries (Microsoft.Compute/galleries): name rules, one name per subscription, the
// generated unique name, sharing set at creation and changed only through the share action
// (gallery_sharing.h), its groups shown only when asked for, no delete while public.

#include "emulator/gallery_sharing.h"
#include "emulator/name_rules.h"
#include "emulator/request_body.h"
#include "emulator/resource_type.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kPermissions[] = {"Private", "Groups", "Community"};

// The canonical spelling of a sharing permission, or empty if it is not one.
std::string canonical_permission(const std::string& value) {
  for (const char* p : kPermissions)
    if (iequals(p, value)) return p;
  return {};
}

Status check_sharing_profile(const json& properties) {
  if (auto st = optional_object(properties, "sharingProfile", "properties"); !st) return st;
  auto it = properties.find("sharingProfile");
  if (it == properties.end() || it->is_null()) return ok_status();
  if (auto st = optional_string(*it, "permissions", "properties.sharingProfile"); !st) return st;
  if (auto p = it->find("permissions");
      p != it->end() && p->is_string() && canonical_permission(p->get<std::string>()).empty())
    return bad_request("InvalidParameter",
                       "The value '" + p->get<std::string>() +
                           "' of parameter 'sharingProfile.permissions' is not valid. Allowed values are 'Private', "
                           "'Groups' and 'Community'.",
                       "sharingProfile.permissions");
  return optional_object(*it, "communityGalleryInfo", "properties.sharingProfile");
}

// The sharing permission a write asks for, canonically spelled; empty when not given.
std::string requested_permission(const json& properties) {
  auto sharing = properties.find("sharingProfile");
  if (sharing == properties.end() || !sharing->is_object()) return {};
  auto p = sharing->find("permissions");
  return p != sharing->end() && p->is_string() ? canonical_permission(p->get<std::string>()) : std::string();
}

// Sharing changes only through POST .../share; a write may restate the current value.
Status check_sharing_unchanged(const json& stored, const json& properties, const std::string& name) {
  std::string wanted = requested_permission(properties);
  std::string current = stored.value("/properties/sharingProfile/permissions"_json_pointer, "Private");
  if (wanted.empty() || iequals(wanted, current)) return ok_status();
  return conflict("OperationNotAllowed",
                  "Changing property 'sharingProfile.permissions' of gallery '" + name + "' from '" + current +
                      "' to '" + wanted +
                      "' is not allowed. Use the gallery's share action (operationType Add, Remove, Reset or "
                      "EnableCommunity) to change how it is shared.");
}

Status check_name_unique_in_subscription(const WriteRequest& request, Lookup& lookup) {
  auto galleries = lookup.in_scope("/subscriptions/" + request.subscription, "Microsoft.Compute/galleries");
  if (!galleries) return std::move(galleries).error();
  for (const json& g : *galleries)
    if (iequals(g.value("name", ""), request.name))
      return conflict("Conflict", "The gallery name " + request.name + " is not unique within the subscription " +
                                      request.subscription + ". Please pick another gallery name");
  return ok_status();
}

// The sharing profile a new gallery starts with: what it asks for, minus what only the share
// action sets (groups, whether the community gallery is public and its public names).
json created_sharing_profile(json profile, const std::string& permission) {
  profile["permissions"] = permission;
  profile.erase("groups");
  if (json_member(profile, "communityGalleryInfo").is_object()) {
    profile["communityGalleryInfo"].erase("communityGalleryEnabled");
    profile["communityGalleryInfo"].erase("publicNames");
  }
  return profile;
}

// $expand=SharingProfile/Groups, and $select=Permissions (the service's example answers it
// with the groups too), show sharingProfile.groups; other reads show only the permissions.
bool shows_sharing_groups(const std::string& expand) {
  const std::string lower = to_lower(expand);
  return lower.find("sharingprofile/groups") != std::string::npos ||
         lower.find("$select=permissions") != std::string::npos;
}

constexpr const char* kIdentityTypes[] = {"None", "SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned"};

std::string canonical_identity_type(const std::string& value) {
  std::string compact;
  for (char c : value)
    if (c != ' ') compact += c;
  for (const char* t : kIdentityTypes) {
    std::string candidate;
    for (const char* c = t; *c; ++c)
      if (*c != ' ') candidate += *c;
    if (iequals(candidate, compact)) return t;
  }
  return {};
}

// identity: {type, userAssignedIdentities: {<id>: {}}}, the managed identity of a gallery.
Status check_identity(const json& body) {
  if (auto st = optional_object(body, "identity", ""); !st) return st;
  const json& identity = json_member(body, "identity");
  if (identity.is_null()) return ok_status();
  if (canonical_identity_type(json_text(identity, "type")).empty())
    return bad_request("InvalidParameter",
                       "The value '" + json_text(identity, "type") +
                           "' of parameter 'identity.type' is not valid. Allowed values are 'None', 'SystemAssigned', "
                           "'UserAssigned', 'SystemAssigned, UserAssigned'.",
                       "identity.type");
  return optional_object(identity, "userAssignedIdentities", "identity");
}

// The identity as the service reports it: ids for the system-assigned principal and for each
// user-assigned identity (derived from the gallery's id, so they are stable).
json identity_view(const json& wanted, const WriteRequest& request) {
  const std::string type = canonical_identity_type(json_text(wanted, "type"));
  json out = {{"type", type}};
  if (type.find("SystemAssigned") != std::string::npos) {
    out["principalId"] = derived_guid(request.id + "#system");
    out["tenantId"] = request.tenant;
  }
  if (type.find("UserAssigned") != std::string::npos) {
    out["userAssignedIdentities"] = json::object();
    for (auto& [id, value] : json_member(wanted, "userAssignedIdentities").items())
      out["userAssignedIdentities"][id] = {{"principalId", derived_guid(id + "#principal")},
                                           {"clientId", derived_guid(id + "#client")}};
  }
  return out;
}

class GalleryType final : public ResourceType {
 public:
  std::string type() const override { return "Microsoft.Compute/galleries"; }

  Status check_name(std::string_view name) const override { return check_gallery_name(name); }

  Status check_body(const json& body, bool) const override {
    if (auto st = check_identity(body); !st) return st;
    const json properties = body.value("properties", json::object());
    if (!properties.is_object()) return ok_status();
    if (auto st = optional_string(properties, "description", "properties"); !st) return st;
    if (auto st = optional_object(properties, "identifier", "properties"); !st) return st;
    if (auto st = check_sharing_profile(properties); !st) return st;
    if (auto st = optional_object(properties, "softDeletePolicy", "properties"); !st) return st;
    if (auto sd = properties.find("softDeletePolicy"); sd != properties.end() && sd->is_object())
      return optional_bool(*sd, "isSoftDeleteEnabled", "properties.softDeletePolicy");
    return ok_status();
  }

  void apply_members(json& resource, const json& body, const WriteRequest& request) const override {
    const json& identity = json_member(body, "identity");
    if (!identity.is_object()) return;
    if (canonical_identity_type(json_text(identity, "type")) == "None") resource.erase("identity");
    else resource["identity"] = identity_view(identity, request);
  }

  Status check_delete(const json& stored, Lookup&) const override { return check_community_delete(stored); }

  json view(const json& stored, const std::string& expand) const override {
    if (shows_sharing_groups(expand) || !stored.contains("properties") ||
        !json_member(stored["properties"], "sharingProfile").contains("groups"))
      return stored;
    json out = stored;
    out["properties"]["sharingProfile"].erase("groups");
    return out;
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    const json in = request.body.contains("properties") && request.body["properties"].is_object()
                        ? request.body["properties"]
                        : json::object();
    json out;
    if (request.stored) {
      if (auto st = check_sharing_unchanged(*request.stored, in, request.name); !st) return std::move(st).error();
      out = request.stored->value("properties", json::object());
      if (!request.patch) out.erase("description");
    } else {
      if (auto st = check_name_unique_in_subscription(request, lookup); !st) return std::move(st).error();
      out["identifier"] = {{"uniqueName", request.subscription + "-" + to_upper(request.name)}};
      if (std::string permission = requested_permission(in); !permission.empty())
        out["sharingProfile"] = created_sharing_profile(in["sharingProfile"], permission);
    }
    if (in.contains("description")) {
      if (in["description"].is_null()) out.erase("description");
      else out["description"] = in["description"];
    }
    if (in.contains("softDeletePolicy") && in["softDeletePolicy"].is_object())
      out["softDeletePolicy"] = {{"isSoftDeleteEnabled", in["softDeletePolicy"].value("isSoftDeleteEnabled", false)}};
    return out;
  }
};

}  // namespace

const ResourceType& gallery_type() {
  static const GalleryType type;
  return type;
}

}  // namespace acg
