// Resource groups (Microsoft.Resources/resourceGroups): create, read, tag, list and delete
// with everything inside.

#include "emulator/emulator.h"
#include "emulator/name_rules.h"
#include "emulator/request_body.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kResourceGroupType = "Microsoft.Resources/resourceGroups";

std::string group_id(const Subscription& sub, const std::string& name) {
  return "/subscriptions/" + sub.id + "/resourceGroups/" + name;
}

Status check_group_body(const json& body) {
  if (auto st = require_object(body, ""); !st) return st;
  if (auto st = check_tags(body); !st) return st;
  if (auto st = optional_string(body, "managedBy", ""); !st) return st;
  return optional_object(body, "properties", "");
}

}  // namespace

Result<WriteOutcome> Emulator::put_resource_group(const std::string& sub, const std::string& name,
                                                  const json& body) {
  if (auto st = check_resource_group_name(name); !st) return std::move(st).error();
  if (auto st = check_group_body(body); !st) return std::move(st).error();
  auto region = require_location(body, regions_, "resourceGroups", false);
  if (!region) return std::move(region).error();
  return write<WriteOutcome>([&]() -> Result<WriteOutcome> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    const Subscription& subscription = *identities_.find_subscription(sub);
    auto existing = load(group_id(subscription, name));
    if (!existing) return std::move(existing).error();

    json group;
    if (*existing) {
      group = std::move(**existing);
      if (group.value("/properties/provisioningState"_json_pointer, "") == "Deleting")
        return conflict("ResourceGroupBeingDeleted",
                        "The resource group '" + name +
                            "' is in deprovisioning state and cannot perform this operation.");
      if (!iequals(group.value("location", ""), region.value()->name))
        return conflict("InvalidResourceGroupLocation",
                        "Invalid resource group location '" + body["location"].get<std::string>() +
                            "'. The Resource group already exists in location '" +
                            group.value("location", "") + "'.");
    } else {
      group = {{"id", group_id(subscription, name)},
               {"name", name},
               {"type", kResourceGroupType},
               {"location", region.value()->name},
               {"properties", {{"provisioningState", "Succeeded"}}}};
    }
    if (body.contains("tags")) group["tags"] = body["tags"].is_null() ? json::object() : body["tags"];
    if (body.contains("managedBy")) group["managedBy"] = body["managedBy"];
    if (auto st = enforce_policies_locked(group, subscription.id); !st) return std::move(st).error();
    if (auto st = save(group["id"], kResourceGroupType, "/subscriptions/" + subscription.id, name, group); !st)
      return std::move(st).error();
    return WriteOutcome{group, !*existing, std::nullopt};
  });
}

Result<json> Emulator::get_resource_group(const std::string& sub, const std::string& name) {
  return read<json>([&]() -> Result<json> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    auto group = load(group_id(*identities_.find_subscription(sub), name));
    if (!group) return std::move(group).error();
    if (!*group)
      return not_found("ResourceGroupNotFound", "Resource group '" + name + "' could not be found.");
    return std::move(**group);
  });
}

Result<json> Emulator::patch_resource_group(const std::string& sub, const std::string& name,
                                            const json& body) {
  if (auto st = check_group_body(body); !st) return std::move(st).error();
  return write<json>([&]() -> Result<json> {
    auto group = require_resource_group(sub, name);
    if (!group) return group;
    if (body.contains("tags")) (*group)["tags"] = body["tags"].is_null() ? json::object() : body["tags"];
    if (body.contains("managedBy")) (*group)["managedBy"] = body["managedBy"];
    if (auto st = enforce_policies_locked(*group, identities_.find_subscription(sub)->id); !st) return std::move(st).error();
    const std::string id = (*group)["id"];
    if (auto st = save(id, kResourceGroupType, "/subscriptions/" + identities_.find_subscription(sub)->id,
                       (*group)["name"], *group);
        !st)
      return std::move(st).error();
    return group;
  });
}

Result<ListPage> Emulator::list_resource_groups(const std::string& sub, const std::string& continuation) {
  return read<ListPage>([&]() -> Result<ListPage> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    auto after = parse_continuation(continuation);
    if (!after) return std::move(after).error();
    return page(store_->list_children("/subscriptions/" + identities_.find_subscription(sub)->id,
                                      kResourceGroupType, *after, settings_.page_size));
  });
}

Result<DeleteOutcome> Emulator::delete_resource_group(const std::string& sub, const std::string& name) {
  return write<DeleteOutcome>([&]() -> Result<DeleteOutcome> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    const std::string id = group_id(*identities_.find_subscription(sub), name);
    auto group = load(id);
    if (!group) return std::move(group).error();
    if (!*group) return DeleteOutcome{false, std::nullopt};
    json& body = **group;
    if (body.value("/properties/provisioningState"_json_pointer, "") == "Deleting")
      return DeleteOutcome{true, std::nullopt};  // already on its way; ARM answers 202 again

    auto operation = begin_operation("delete", body["id"], identities_.find_subscription(sub)->id,
                                     body.value("location", ""));
    if (!operation) return std::move(operation).error();
    if (!*operation) {
      if (auto st = erase_tree(id); !st) return std::move(st).error();
      return DeleteOutcome{true, std::nullopt};
    }
    body["properties"]["provisioningState"] = "Deleting";
    if (auto st = save(body["id"], kResourceGroupType, "/subscriptions/" + identities_.find_subscription(sub)->id,
                       body["name"], body);
        !st)
      return std::move(st).error();
    return DeleteOutcome{true, *operation};
  });
}

}  // namespace acg
