// Template deployment records (Microsoft.Resources/deployments) below resource groups: one
// transaction per change, like every other write. Planning lives in emulator/arm_template.*,
// running in api/deployment_runner.*.

#include "emulator/emulator.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kDeploymentType = "Microsoft.Resources/deployments";
constexpr const char* kOperationType = "Microsoft.Resources/deployments/operations";

bool is_active(const json& record) {
  const std::string state = record.value("/properties/provisioningState"_json_pointer, "");
  return state == "Accepted" || state == "Running";
}

// A deployment's id below the (stored) resource group.
std::string deployment_id(const json& group, const std::string& name) {
  return group["id"].get<std::string>() + "/providers/" + kDeploymentType + "/" + name;
}

ArmError deployment_not_found(const std::string& rg, const std::string& name) {
  return not_found("DeploymentNotFound", "Deployment '" + name + "' could not be found under resource group '" + rg + "'.");
}

ArmError deployment_active(const std::string& name) {
  return conflict("DeploymentActive", "Unable to edit or replace deployment '" + name +
                                          "': previous deployment is still active. Please see "
                                          "https://aka.ms/arm-deploy for usage details.");
}

}  // namespace

Result<WriteOutcome> Emulator::start_deployment(const std::string& sub, const std::string& rg, const std::string& name,
                                                json record) {
  return write<WriteOutcome>([&]() -> Result<WriteOutcome> {
    auto group = require_resource_group(sub, rg);
    if (!group) return std::move(group).error();
    if (group->value("/properties/provisioningState"_json_pointer, "") == "Deleting")
      return conflict("ResourceGroupBeingDeleted",
                      "The resource group '" + rg + "' is in deprovisioning state and cannot perform this operation.");
    const std::string id = deployment_id(*group, name);
    auto existing = load(id);
    if (!existing) return std::move(existing).error();
    if (*existing && is_active(**existing)) return deployment_active(name);
    record["id"] = id;
    record["name"] = name;
    record["type"] = kDeploymentType;
    record["properties"]["provisioningState"] = "Accepted";
    if (auto st = save(id, kDeploymentType, (*group)["id"], name, record); !st) return std::move(st).error();
    return WriteOutcome{record, !*existing, std::nullopt};
  });
}

Result<json> Emulator::get_deployment(const std::string& sub, const std::string& rg, const std::string& name) {
  return read<json>([&]() -> Result<json> {
    auto group = require_resource_group(sub, rg);
    if (!group) return std::move(group).error();
    auto record = load(deployment_id(*group, name));
    if (!record) return std::move(record).error();
    if (!*record) return deployment_not_found(rg, name);
    return std::move(**record);
  });
}

Result<ListPage> Emulator::list_deployments(const std::string& sub, const std::string& rg, const std::string& continuation) {
  return read<ListPage>([&]() -> Result<ListPage> {
    auto group = require_resource_group(sub, rg);
    if (!group) return std::move(group).error();
    auto after = parse_continuation(continuation);
    if (!after) return std::move(after).error();
    return page(store_->list_children((*group)["id"], kDeploymentType, *after, settings_.page_size));
  });
}

Result<bool> Emulator::delete_deployment(const std::string& sub, const std::string& rg, const std::string& name) {
  return write<bool>([&]() -> Result<bool> {
    auto group = require_resource_group(sub, rg);
    if (!group) return std::move(group).error();
    const std::string id = deployment_id(*group, name);
    auto record = load(id);
    if (!record) return std::move(record).error();
    if (!*record) return false;
    if (is_active(**record)) return deployment_active(name);
    if (auto st = erase_tree(id); !st) return std::move(st).error();
    return true;
  });
}

Result<json> Emulator::update_deployment(const std::string& sub, const std::string& rg, const std::string& name,
                                         const std::function<Status(json& record)>& change) {
  return write<json>([&]() -> Result<json> {
    auto group = require_resource_group(sub, rg);
    if (!group) return std::move(group).error();
    const std::string id = deployment_id(*group, name);
    auto record = load(id);
    if (!record) return std::move(record).error();
    if (!*record) return deployment_not_found(rg, name);
    json& body = **record;
    if (auto st = change(body); !st) return std::move(st).error();
    if (auto st = save(id, kDeploymentType, (*group)["id"], name, body); !st) return std::move(st).error();
    return std::move(body);
  });
}

Status Emulator::add_deployment_operation(const std::string& deployment_id, const std::string& operation_id,
                                          const json& operation) {
  auto done = write<json>([&]() -> Result<json> {
    auto deployment = load(deployment_id);
    if (!deployment) return std::move(deployment).error();
    if (!*deployment) return not_found("DeploymentNotFound", "Deployment '" + deployment_id + "' could not be found.");
    if (auto st = save(deployment_id + "/operations/" + operation_id, kOperationType, deployment_id, operation_id, operation); !st)
      return std::move(st).error();
    return operation;
  });
  if (!done) return std::move(done).error();
  return ok_status();
}

Result<std::vector<json>> Emulator::deployment_operations(const std::string& deployment_id) {
  return read<std::vector<json>>([&]() -> Result<std::vector<json>> {
    std::vector<json> out;
    std::int64_t after = 0;
    for (;;) {
      auto rows = page(store_->list_children(deployment_id, kOperationType, after, 1000));
      if (!rows) return std::move(rows).error();
      for (json& op : rows->items) out.push_back(std::move(op));
      if (!rows->continuation) return out;
      after = std::stoll(*rows->continuation);
    }
  });
}

Result<std::vector<std::string>> Emulator::active_deployments() {
  return read<std::vector<std::string>>([&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> ids;
    for (const Subscription& sub : identities_.subscriptions()) {
      std::int64_t after = 0;
      for (;;) {
        auto rows = page(store_->list_in_scope("/subscriptions/" + sub.id, kDeploymentType, after, 500));
        if (!rows) return std::move(rows).error();
        for (const json& body : rows->items)
          if (is_active(body)) ids.push_back(body.value("id", ""));
        if (!rows->continuation) break;
        after = std::stoll(*rows->continuation);
      }
    }
    return ids;
  });
}

}  // namespace acg
