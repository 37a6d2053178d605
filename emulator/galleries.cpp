// Galleries (Microsoft.Compute/galleries): create, update, read, list and delete, with the
// service's rules: name rules, a region that offers galleries, one name per subscription,
// a fixed location, sharing changed only through the share action, no delete while children
// exist.

#include "emulator/emulator.h"
#include "emulator/name_rules.h"
#include "emulator/request_body.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kGalleryType = "Microsoft.Compute/galleries";
constexpr const char* kPermissions[] = {"Private", "Groups", "Community"};

std::string gallery_not_found(const GalleryRef& ref) {
  return "The Resource 'Microsoft.Compute/galleries/" + ref.gallery + "' under resource group '" +
         ref.resource_group + "' was not found. For more details please go to "
         "https://aka.ms/ARMResourceNotFoundFix";
}

// Returns the canonical spelling of a sharing permission, or empty if it is not one.
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
  if (auto p = it->find("permissions"); p != it->end() && p->is_string() &&
                                        canonical_permission(p->get<std::string>()).empty())
    return bad_request("InvalidParameter",
                       "The value '" + p->get<std::string>() +
                           "' of parameter 'sharingProfile.permissions' is not valid. Allowed "
                           "values are 'Private', 'Groups' and 'Community'.",
                       "sharingProfile.permissions");
  return optional_object(*it, "communityGalleryInfo", "properties.sharingProfile");
}

Status check_gallery_body(const json& body, bool patch) {
  if (auto st = require_object(body, ""); !st) return st;
  if (auto st = check_tags(body); !st) return st;
  if (auto st = optional_object(body, "properties", ""); !st) return st;
  if (patch && body.contains("location"))
    if (auto st = optional_string(body, "location", ""); !st) return st;
  const json properties = body.value("properties", json::object());
  if (properties.is_null()) return ok_status();
  if (auto st = optional_string(properties, "description", "properties"); !st) return st;
  if (auto st = optional_object(properties, "identifier", "properties"); !st) return st;
  if (auto st = check_sharing_profile(properties); !st) return st;
  if (auto st = optional_object(properties, "softDeletePolicy", "properties"); !st) return st;
  if (auto sd = properties.find("softDeletePolicy"); sd != properties.end() && sd->is_object())
    if (auto st = optional_bool(*sd, "isSoftDeleteEnabled", "properties.softDeletePolicy"); !st) return st;
  return ok_status();
}

// The sharing permission a write asks for, canonically spelled; empty when not given.
std::string requested_permission(const json& properties) {
  const json* sharing = properties.contains("sharingProfile") ? &properties["sharingProfile"] : nullptr;
  if (!sharing || !sharing->is_object() || !sharing->contains("permissions") ||
      !(*sharing)["permissions"].is_string())
    return {};
  return canonical_permission((*sharing)["permissions"].get<std::string>());
}

// Sharing changes only through POST .../share; a write may restate the current value.
Status check_sharing_unchanged(const json& stored, const json& properties, const std::string& name) {
  std::string wanted = requested_permission(properties);
  std::string current = stored.value("/properties/sharingProfile/permissions"_json_pointer, "Private");
  if (wanted.empty() || iequals(wanted, current)) return ok_status();
  return conflict("OperationNotAllowed",
                  "Changing property 'sharingProfile.permissions' of gallery '" + name + "' from '" +
                      current + "' to '" + wanted +
                      "' is not allowed. Use the gallery's share action (operationType Add, Remove, "
                      "Reset or EnableCommunity) to change how it is shared.");
}

void apply_properties(json& gallery, const json& properties, bool creating) {
  json& props = gallery["properties"];
  if (properties.contains("description")) {
    if (properties["description"].is_null()) props.erase("description");
    else props["description"] = properties["description"];
  }
  if (properties.contains("softDeletePolicy") && properties["softDeletePolicy"].is_object())
    props["softDeletePolicy"] = {
        {"isSoftDeleteEnabled", properties["softDeletePolicy"].value("isSoftDeleteEnabled", false)}};
  if (creating) {
    std::string permission = requested_permission(properties);
    if (!permission.empty()) {
      json sharing = properties["sharingProfile"];
      sharing["permissions"] = permission;
      props["sharingProfile"] = sharing;
    }
  }
}

}  // namespace

Result<json> Emulator::gallery_view(const GalleryRef&, const json& stored) { return stored; }

Result<WriteOutcome> Emulator::put_gallery(const GalleryRef& ref, const json& body) {
  return create_or_update_gallery(ref, body, false);
}

Result<WriteOutcome> Emulator::patch_gallery(const GalleryRef& ref, const json& body) {
  return create_or_update_gallery(ref, body, true);
}

Result<WriteOutcome> Emulator::create_or_update_gallery(const GalleryRef& ref, const json& body,
                                                        bool patch) {
  if (auto st = check_gallery_name(ref.gallery); !st) return std::move(st).error();
  if (auto st = check_gallery_body(body, patch); !st) return std::move(st).error();
  const Region* region = nullptr;
  if (!patch) {
    auto found = require_location(body, regions_, kGalleryType, true);
    if (!found) return std::move(found).error();
    region = *found;
  }
  const json properties = body.contains("properties") && body["properties"].is_object()
                              ? body["properties"]
                              : json::object();

  return write<WriteOutcome>([&]() -> Result<WriteOutcome> {
    auto group = require_resource_group(ref.subscription, ref.resource_group);
    if (!group) return std::move(group).error();
    const std::string sub = identities_.find_subscription(ref.subscription)->id;
    const std::string group_id = (*group)["id"];
    auto existing = load(group_id + "/providers/" + kGalleryType + "/" + ref.gallery);
    if (!existing) return std::move(existing).error();
    if (patch && !*existing) return not_found("ResourceNotFound", gallery_not_found(ref));

    json gallery;
    if (*existing) {
      gallery = std::move(**existing);
      const std::string state = gallery.value("/properties/provisioningState"_json_pointer, "");
      if (state == "Deleting")
        return conflict("OperationNotAllowed",
                        "Operation 'Update Gallery' is not allowed on gallery '" + ref.gallery +
                            "' since it is marked for deletion. You can only retry the Delete "
                            "operation (or wait for an ongoing one to complete).");
      if (region && !iequals(gallery.value("location", ""), region->name))
        return conflict("InvalidResourceLocation",
                        "The resource '" + ref.gallery + "' already exists in location '" +
                            gallery.value("location", "") + "' in resource group '" +
                            (*group)["name"].get<std::string>() +
                            "'. A resource with the same name cannot be created in location '" +
                            region->name + "'. Please select a new resource name.");
      if (auto st = check_sharing_unchanged(gallery, properties, ref.gallery); !st)
        return std::move(st).error();
    } else {
      auto same_name = store_->list_in_scope("/subscriptions/" + sub, kGalleryType, 0, 1 << 20);
      if (!same_name.ok()) return internal_error(same_name.error().message);
      for (const auto& row : same_name.value().rows)
        if (iequals(row.name, ref.gallery))
          return conflict("Conflict", "The gallery name " + ref.gallery +
                                          " is not unique within the subscription " + sub +
                                          ". Please pick another gallery name");
      gallery = {{"id", group_id + "/providers/" + kGalleryType + "/" + ref.gallery},
                 {"name", ref.gallery},
                 {"type", kGalleryType},
                 {"location", region->name},
                 {"properties", {{"identifier", {{"uniqueName", sub + "-" + to_upper(ref.gallery)}}}}}};
    }
    if (!patch) {
      gallery.erase("tags");
      gallery["properties"].erase("description");
    }
    if (body.contains("tags") && !body["tags"].is_null()) gallery["tags"] = body["tags"];
    apply_properties(gallery, properties, !*existing);

    const std::string id = gallery["id"];
    auto operation = begin_operation("provision", id, sub, gallery["location"]);
    if (!operation) return std::move(operation).error();
    gallery["properties"]["provisioningState"] =
        !*operation ? "Succeeded" : (*existing ? "Updating" : "Creating");
    if (auto st = save(id, kGalleryType, group_id, gallery["name"], gallery); !st)
      return std::move(st).error();
    return WriteOutcome{gallery, !*existing, *operation};
  });
}

Result<json> Emulator::get_gallery(const GalleryRef& ref) {
  return read<json>([&]() -> Result<json> {
    auto group = require_resource_group(ref.subscription, ref.resource_group);
    if (!group && group.error().code != "ResourceGroupBeingDeleted") return std::move(group).error();
    const std::string group_id =
        group ? (*group)["id"].get<std::string>()
              : "/subscriptions/" + ref.subscription + "/resourceGroups/" + ref.resource_group;
    auto gallery = load(group_id + "/providers/" + kGalleryType + "/" + ref.gallery);
    if (!gallery) return std::move(gallery).error();
    if (!*gallery) return not_found("ResourceNotFound", gallery_not_found(ref));
    return gallery_view(ref, **gallery);
  });
}

Result<DeleteOutcome> Emulator::delete_gallery(const GalleryRef& ref) {
  return write<DeleteOutcome>([&]() -> Result<DeleteOutcome> {
    auto group = require_resource_group(ref.subscription, ref.resource_group);
    if (!group) return std::move(group).error();
    const std::string id = (*group)["id"].get<std::string>() + "/providers/" + kGalleryType + "/" + ref.gallery;
    auto gallery = load(id);
    if (!gallery) return std::move(gallery).error();
    if (!*gallery) return DeleteOutcome{false, std::nullopt};
    json& body = **gallery;
    auto children = store_->count_children(body["id"]);
    if (!children.ok()) return internal_error(children.error().message);
    if (children.value() > 0)
      return conflict("CannotDeleteResource",
                      "Can not delete resource before nested resources are deleted.");
    if (body.value("/properties/provisioningState"_json_pointer, "") == "Deleting")
      return DeleteOutcome{true, std::nullopt};

    auto operation = begin_operation("delete", body["id"], identities_.find_subscription(ref.subscription)->id,
                                     body.value("location", ""));
    if (!operation) return std::move(operation).error();
    if (!*operation) {
      if (auto st = erase_tree(body["id"]); !st) return std::move(st).error();
      return DeleteOutcome{true, std::nullopt};
    }
    body["properties"]["provisioningState"] = "Deleting";
    if (auto st = save(body["id"], kGalleryType, (*group)["id"], body["name"], body); !st)
      return std::move(st).error();
    return DeleteOutcome{true, *operation};
  });
}

Result<ListPage> Emulator::list_galleries_in_group(const std::string& sub, const std::string& rg,
                                                   const std::string& continuation) {
  return read<ListPage>([&]() -> Result<ListPage> {
    auto group = require_resource_group(sub, rg);
    if (!group && group.error().code != "ResourceGroupBeingDeleted") return std::move(group).error();
    auto after = parse_continuation(continuation);
    if (!after) return std::move(after).error();
    const std::string group_id = group ? (*group)["id"].get<std::string>()
                                       : "/subscriptions/" + sub + "/resourceGroups/" + rg;
    return page(store_->list_children(group_id, kGalleryType, *after, settings_.page_size));
  });
}

Result<ListPage> Emulator::list_galleries_in_subscription(const std::string& sub,
                                                          const std::string& continuation) {
  return read<ListPage>([&]() -> Result<ListPage> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    auto after = parse_continuation(continuation);
    if (!after) return std::move(after).error();
    return page(store_->list_in_scope("/subscriptions/" + identities_.find_subscription(sub)->id,
                                      kGalleryType, *after, settings_.page_size));
  });
}

}  // namespace acg
