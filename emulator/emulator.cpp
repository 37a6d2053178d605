// Emulator core: transactions, store access, operations and time. Resource-specific rules
// live in resource_groups.cpp and galleries.cpp.

#include "emulator/emulator.h"

#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

ArmError storage_error(const storage::StoreError& e) {
  switch (e.code) {
    case storage::StoreCode::disk_full:
      return ArmError{507, "InsufficientStorage",
                      "The emulator could not write its database: the disk is full (" + e.message +
                          "). Free space and retry; nothing was written.",
                      {}, {}};
    case storage::StoreCode::read_only:
      return ArmError{503, "StorageReadOnly",
                      "The emulator could not write its database: it is read-only (" + e.message +
                          "). Nothing was written.",
                      {}, {}};
    default:
      return internal_error("The emulator's database failed: " + e.message);
  }
}

}  // namespace

Emulator::Emulator(std::unique_ptr<storage::Store> store, const Clock& clock, IdGenerator& ids,
                   RegionCatalog regions, IdentityDirectory identities, EmulatorSettings settings)
    : store_(std::move(store)),
      clock_(clock),
      ids_(ids),
      regions_(std::move(regions)),
      identities_(std::move(identities)),
      settings_(settings) {}

Emulator::~Emulator() = default;

template <class T>
Result<T> Emulator::write(const std::function<Result<T>()>& fn) {
  std::lock_guard lock(mutex_);
  settle_locked();
  if (auto st = store_->begin(); !st.ok()) return storage_error(st.error());
  Result<T> result = fn();
  if (!result.ok()) {
    store_->rollback();
    return result;
  }
  if (auto st = store_->commit(); !st.ok()) {
    store_->rollback();
    return storage_error(st.error());
  }
  return result;
}

template <class T>
Result<T> Emulator::read(const std::function<Result<T>()>& fn) {
  std::lock_guard lock(mutex_);
  settle_locked();
  return fn();
}

// Explicit instantiations for the result types the resource files use.
template Result<WriteOutcome> Emulator::write(const std::function<Result<WriteOutcome>()>&);
template Result<DeleteOutcome> Emulator::write(const std::function<Result<DeleteOutcome>()>&);
template Result<json> Emulator::write(const std::function<Result<json>()>&);
template Result<json> Emulator::read(const std::function<Result<json>()>&);
template Result<ListPage> Emulator::read(const std::function<Result<ListPage>()>&);

Result<std::optional<json>> Emulator::load(const std::string& id) {
  auto row = store_->get(id);
  if (!row.ok()) return storage_error(row.error());
  if (!row.value()) return std::optional<json>{};
  json body = json::parse(row.value()->body, nullptr, false);
  if (body.is_discarded()) return internal_error("Stored resource '" + id + "' is not valid JSON.");
  return std::optional<json>{std::move(body)};
}

Status Emulator::save(const std::string& id, const std::string& type, const std::string& parent_id,
                      const std::string& name, const json& body) {
  auto st = store_->put(storage::ResourceRow{id, type, parent_id, name, body.dump(), 0});
  if (!st.ok()) return storage_error(st.error());
  return ok_status();
}

Status Emulator::erase_tree(const std::string& id) {
  auto st = store_->remove_tree(id);
  if (!st.ok()) return storage_error(st.error());
  return ok_status();
}

Result<ListPage> Emulator::page(storage::StoreResult<storage::ResourcePage> rows) {
  if (!rows.ok()) return storage_error(rows.error());
  ListPage out;
  for (const auto& row : rows.value().rows) {
    json body = json::parse(row.body, nullptr, false);
    if (!body.is_discarded()) out.items.push_back(std::move(body));
  }
  if (rows.value().next_after) out.continuation = std::to_string(*rows.value().next_after);
  return out;
}

Result<std::int64_t> Emulator::parse_continuation(const std::string& token) {
  if (token.empty()) return std::int64_t{0};
  std::int64_t value = 0;
  for (char c : token) {
    if (c < '0' || c > '9' || value > (INT64_MAX - 9) / 10)
      return bad_request("InvalidSkipToken", "The $skiptoken '" + token + "' is not valid.");
    value = value * 10 + (c - '0');
  }
  return value;
}

Status Emulator::require_subscription(const std::string& sub) {
  if (identities_.find_subscription(sub)) return ok_status();
  return not_found("SubscriptionNotFound", "The subscription '" + sub + "' could not be found.");
}

Result<json> Emulator::require_resource_group(const std::string& sub, const std::string& rg) {
  if (auto st = require_subscription(sub); !st) return std::move(st).error();
  auto group = load("/subscriptions/" + sub + "/resourceGroups/" + rg);
  if (!group) return std::move(group).error();
  if (!*group)
    return not_found("ResourceGroupNotFound", "Resource group '" + rg + "' could not be found.");
  if (group.value()->value("/properties/provisioningState"_json_pointer, "") == "Deleting")
    return conflict("ResourceGroupBeingDeleted",
                    "The resource group '" + rg +
                        "' is in deprovisioning state and cannot perform this operation.");
  return std::move(**group);
}

// --- Operations -------------------------------------------------------------------------

Result<std::optional<OperationRef>> Emulator::begin_operation(const std::string& kind,
                                                              const std::string& resource_id,
                                                              const std::string& sub,
                                                              const std::string& location) {
  if (settings_.operation_delay_ms <= 0) return std::optional<OperationRef>{};
  std::int64_t now = clock_.now_ms();
  storage::OperationRow op{ids_.uuid(), kind, resource_id, location, sub, "InProgress",
                           format_arm_time(now), "", now + settings_.operation_delay_ms, "", ""};
  if (auto st = store_->put_operation(op); !st.ok()) return storage_error(st.error());
  return std::optional<OperationRef>{OperationRef{op.id, sub, location}};
}

Result<OperationStatus> Emulator::get_operation(const std::string& sub, const std::string& id) {
  std::lock_guard lock(mutex_);
  settle_locked();
  auto op = store_->get_operation(id);
  if (!op.ok()) return storage_error(op.error());
  if (!op.value() || !iequals(op.value()->subscription, sub))
    return not_found("OperationNotFound", "The operation '" + id + "' could not be found.");
  const auto& row = *op.value();
  OperationStatus status{row.id, row.kind, row.status, row.start_time, row.end_time, {}, row.resource_id};
  if (!row.error.empty()) status.error = error_from_json(json::parse(row.error, nullptr, false), 200);
  return status;
}

Status Emulator::finish_provisioning(const storage::OperationRow& op) {
  auto stored = store_->get(op.resource_id);
  if (!stored.ok()) return storage_error(stored.error());
  if (!stored.value()) return ok_status();  // deleted meanwhile: nothing left to finish
  storage::ResourceRow row = *stored.value();
  json body = json::parse(row.body, nullptr, false);
  if (body.is_discarded()) return internal_error("Stored resource is not valid JSON.");
  body["properties"]["provisioningState"] = "Succeeded";
  row.body = body.dump();
  auto st = store_->put(row);
  if (!st.ok()) return storage_error(st.error());
  return ok_status();
}

Status Emulator::finish_deletion(const storage::OperationRow& op) { return erase_tree(op.resource_id); }

void Emulator::settle_locked() {
  auto due = store_->due_operations(clock_.now_ms());
  if (!due.ok() || due.value().empty()) return;
  for (storage::OperationRow op : due.value()) {
    if (!store_->begin().ok()) return;
    Status finished = op.kind == "delete" ? finish_deletion(op) : finish_provisioning(op);
    op.status = finished ? "Succeeded" : "Failed";
    if (!finished) op.error = error_to_json(finished.error()).dump();
    op.end_time = format_arm_time(clock_.now_ms());
    if (!store_->put_operation(op).ok() || !store_->commit().ok()) {
      store_->rollback();
      return;  // retried on the next settle
    }
  }
}

void Emulator::settle() {
  std::lock_guard lock(mutex_);
  settle_locked();
}

std::optional<std::int64_t> Emulator::next_due_ms() {
  std::lock_guard lock(mutex_);
  auto next = store_->next_due_ms();
  if (!next.ok()) return std::nullopt;
  return next.value();
}

Status Emulator::reset() {
  std::lock_guard lock(mutex_);
  auto st = store_->clear();
  if (!st.ok()) return storage_error(st.error());
  return ok_status();
}

}  // namespace acg
