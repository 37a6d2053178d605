#include "emulator/gallery_sharing.h"

#include <algorithm>

#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kGalleryType = "Microsoft.Compute/galleries";
constexpr const char* kOperations[] = {"Add", "Remove", "Reset", "EnableCommunity"};
constexpr const char* kGroupTypes[] = {"Subscriptions", "AADTenants"};
// Share-gallery-direct: "share with up to 30 subscriptions and 5 tenants".
constexpr size_t kMaxSubscriptions = 30;
constexpr size_t kMaxTenants = 5;
// What EnableCommunity needs from communityGalleryInfo: it is shown to everyone.
constexpr const char* kCommunityInfo[] = {"publisherUri", "publisherContact", "eula", "publicNamePrefix"};

template <size_t N>
std::string canonical(const char* const (&values)[N], const std::string& value) {
  for (const char* v : values)
    if (iequals(v, value)) return v;
  return {};
}

std::string permissions_of(const json& gallery) {
  return gallery.value("/properties/sharingProfile/permissions"_json_pointer, "Private");
}

Result<SharingGroup> parse_group(const json& group, size_t index) {
  const std::string path = "groups[" + std::to_string(index) + "]";
  if (!group.is_object()) return invalid_content("Expected an object at path '" + path + "'");
  SharingGroup out{canonical(kGroupTypes, json_text(group, "type")), {}};
  if (out.type.empty())
    return invalid_parameter("The value '" + json_text(group, "type") + "' of parameter '" + path +
                                 ".type' is not valid. Allowed values are 'Subscriptions' and 'AADTenants'.",
                             path + ".type");
  const json& ids = json_member(group, "ids");
  if (!ids.is_null() && !ids.is_array()) return invalid_content("Expected an array at path '" + path + ".ids'");
  for (const json& id : ids.is_array() ? ids : json::array()) {
    const std::string text = id.is_string() ? id.get<std::string>() : id.dump();
    if (!id.is_string() || !is_guid(text))
      return invalid_parameter("The id '" + text + "' in '" + path + ".ids' is not a valid " +
                                   (out.type == "Subscriptions" ? "subscription" : "tenant") +
                                   " id: ids are GUIDs such as '34a4ab42-0d72-47d9-bd1a-aed207386dac'.",
                               path + ".ids");
    out.ids.push_back(text);
  }
  return out;
}

bool contains_id(const std::vector<std::string>& ids, const std::string& id) {
  return std::any_of(ids.begin(), ids.end(), [&](const std::string& i) { return iequals(i, id); });
}

// The stored groups as {type -> ids}, in their stored order.
std::vector<SharingGroup> stored_groups(const json& profile) {
  std::vector<SharingGroup> out;
  for (const json& g : json_member(profile, "groups")) {
    SharingGroup group{canonical(kGroupTypes, json_text(g, "type")), {}};
    for (const json& id : json_member(g, "ids"))
      if (id.is_string()) group.ids.push_back(id);
    if (!group.type.empty()) out.push_back(std::move(group));
  }
  return out;
}

SharingGroup& group_of(std::vector<SharingGroup>& groups, const std::string& type) {
  for (SharingGroup& g : groups)
    if (g.type == type) return g;
  return groups.emplace_back(SharingGroup{type, {}});
}

ArmError wrong_permissions(const json& gallery, const std::string& operation, const char* needed) {
  return conflict("OperationNotAllowed", "The share operation '" + operation + "' is not allowed on gallery '" +
                                             gallery.value("name", "") + "': its sharingProfile.permissions is '" +
                                             permissions_of(gallery) + "', the operation needs '" + needed +
                                             "'. Sharing permissions are chosen when a gallery is created.");
}

// Limits and the tenant rule, on the groups the update would leave.
Status check_groups(const std::vector<SharingGroup>& groups, const SharingContext& context) {
  for (const SharingGroup& g : groups) {
    const bool tenants = g.type == "AADTenants";
    const size_t limit = tenants ? kMaxTenants : kMaxSubscriptions;
    if (g.ids.size() > limit)
      return invalid_parameter("A gallery can be shared with at most " + std::to_string(kMaxSubscriptions) +
                                   " subscriptions and " + std::to_string(kMaxTenants) +
                                   " tenants; this update would share it with " + std::to_string(g.ids.size()) +
                                   (tenants ? " tenants." : " subscriptions."),
                               "groups");
    if (!tenants || context.allow_cross_tenant) continue;
    for (const std::string& id : g.ids)
      if (!iequals(id, context.tenant))
        return bad_request("CrossTenantSharingNotSupported",
                           "Sharing with tenant '" + id +
                               "' is cross-tenant sharing (the gallery's subscription is "
                               "in tenant '" +
                               context.tenant +
                               "'), which acg-emulator does not support by default. Start it with "
                               "--allow-cross-tenant-sharing to allow it.",
                           "groups");
  }
  return ok_status();
}

json groups_json(const std::vector<SharingGroup>& groups) {
  json out = json::array();
  for (const SharingGroup& g : groups)
    if (!g.ids.empty()) out.push_back({{"type", g.type}, {"ids", g.ids}});
  return out;
}

Result<json> enable_community(const json& gallery, json profile, const SharingContext& context) {
  json& info = profile["communityGalleryInfo"];
  if (!info.is_object()) info = json::object();
  for (const char* key : kCommunityInfo)
    if (json_text(info, key).empty())
      return invalid_parameter("Gallery '" + gallery.value("name", "") +
                                   "' cannot be shared to the community without "
                                   "sharingProfile.communityGalleryInfo." +
                                   key +
                                   " (publisherUri, publisherContact, eula and publicNamePrefix are shown publicly).",
                               std::string("sharingProfile.communityGalleryInfo.") + key);
  if (info.value("communityGalleryEnabled", false) && !public_names(gallery).empty()) return profile;
  info["communityGalleryEnabled"] = true;
  info["publicNames"] = json::array({json_text(info, "publicNamePrefix") + "-" + context.public_name_guid});
  return profile;
}

}  // namespace

json SharingUpdate::to_json() const {
  json out = {{"operationType", operation}};
  if (has_groups) out["groups"] = json::array();
  for (const SharingGroup& g : groups) out["groups"].push_back({{"type", g.type}, {"ids", g.ids}});
  return out;
}

Result<SharingUpdate> parse_sharing_update(const json& body) {
  if (auto st = require_object(body, ""); !st) return std::move(st).error();
  if (auto st = optional_string(body, "operationType", ""); !st) return std::move(st).error();
  SharingUpdate update{canonical(kOperations, json_text(body, "operationType")), {}, false};
  if (!body.contains("operationType") || body["operationType"].is_null()) return missing_parameter("operationType");
  if (update.operation.empty())
    return invalid_parameter("The value '" + json_text(body, "operationType") +
                                 "' of parameter 'operationType' is not valid. Allowed values are 'Add', 'Remove', "
                                 "'Reset' and 'EnableCommunity'.",
                             "operationType");
  const json& groups = json_member(body, "groups");
  if (!groups.is_null() && !groups.is_array()) return invalid_content("Expected an array at path 'groups'");
  update.has_groups = groups.is_array();
  for (size_t i = 0; groups.is_array() && i < groups.size(); ++i) {
    auto group = parse_group(groups[i], i);
    if (!group) return std::move(group).error();
    update.groups.push_back(std::move(*group));
  }
  const bool any_id =
      std::any_of(update.groups.begin(), update.groups.end(), [](const SharingGroup& g) { return !g.ids.empty(); });
  if ((update.operation == "Add" || update.operation == "Remove") && !any_id)
    return invalid_parameter(
        "The share operation '" + update.operation + "' needs 'groups' naming at least one subscription or tenant id.",
        "groups");
  return update;
}

Result<json> apply_sharing_update(const json& gallery, const SharingUpdate& update, const SharingContext& context) {
  json profile = gallery.value("/properties/sharingProfile"_json_pointer, json::object());
  if (!profile.is_object()) profile = json::object();
  if (!profile.contains("permissions")) profile["permissions"] = "Private";
  const std::string permissions = permissions_of(gallery);

  if (update.operation == "Reset") {
    profile.erase("groups");
    if (json_member(profile, "communityGalleryInfo").is_object()) {
      profile["communityGalleryInfo"]["communityGalleryEnabled"] = false;
      profile["communityGalleryInfo"].erase("publicNames");
    }
    return profile;
  }
  if (update.operation == "EnableCommunity") {
    if (permissions != "Community") return wrong_permissions(gallery, update.operation, "Community");
    return enable_community(gallery, std::move(profile), context);
  }
  if (permissions != "Groups") return wrong_permissions(gallery, update.operation, "Groups");
  std::vector<SharingGroup> groups = stored_groups(profile);
  for (const SharingGroup& change : update.groups) {
    std::vector<std::string>& ids = group_of(groups, change.type).ids;
    for (const std::string& id : change.ids) {
      if (update.operation == "Add" && !contains_id(ids, id)) ids.push_back(id);
      if (update.operation == "Remove")
        ids.erase(std::remove_if(ids.begin(), ids.end(), [&](const std::string& i) { return iequals(i, id); }),
                  ids.end());
    }
  }
  if (update.operation == "Add")
    if (auto st = check_groups(groups, context); !st) return std::move(st).error();
  json stored = groups_json(groups);
  if (stored.empty())
    profile.erase("groups");
  else
    profile["groups"] = std::move(stored);
  return profile;
}

Status check_community_delete(const json& gallery) {
  if (public_names(gallery).empty()) return ok_status();
  return conflict("CannotDeleteResource",
                  "Gallery '" + gallery.value("name", "") + "' is shared to the community as '" +
                      public_names(gallery).front() +
                      "'. Before you can delete a community shared gallery, stop sharing it publicly: POST .../share "
                      "with operationType 'Reset' (az sig share reset).");
}

bool shared_with(const json& gallery, const Consumer& consumer, bool tenant_only) {
  for (const SharingGroup& g : stored_groups(gallery.value("/properties/sharingProfile"_json_pointer, json())))
    if (g.type == "AADTenants" ? contains_id(g.ids, consumer.tenant)
                               : !tenant_only && contains_id(g.ids, consumer.subscription))
      return true;
  return false;
}

std::vector<std::string> public_names(const json& gallery) {
  const json& info =
      json_member(json_member(json_member(gallery, "properties"), "sharingProfile"), "communityGalleryInfo");
  std::vector<std::string> out;
  // A Community gallery may have been created without communityGalleryInfo (EnableCommunity
  // refuses it then): no object, no public names.
  const json& enabled = json_member(info, "communityGalleryEnabled");
  if (permissions_of(gallery) != "Community" || !enabled.is_boolean() || !enabled.get<bool>()) return out;
  for (const json& name : json_member(info, "publicNames"))
    if (name.is_string()) out.push_back(name);
  return out;
}

Result<std::optional<json>> find_public_gallery(Audience audience, const std::string& name, const Consumer& consumer,
                                                bool tenant_only, bool owner_sees, Lookup& lookup) {
  auto galleries = lookup.in_scope("", kGalleryType);
  if (!galleries) return std::move(galleries).error();
  for (json& g : *galleries) {
    if (audience == Audience::community) {
      if (contains_id(public_names(g), name)) return std::optional<json>{std::move(g)};
      continue;
    }
    if (!iequals(g.value("/properties/identifier/uniqueName"_json_pointer, ""), name)) continue;
    const bool owner = istarts_with(g.value("id", ""), "/subscriptions/" + consumer.subscription + "/");
    if ((owner_sees && owner) || shared_with(g, consumer, tenant_only)) return std::optional<json>{std::move(g)};
    return std::optional<json>{};
  }
  return std::optional<json>{};
}

}  // namespace acg
