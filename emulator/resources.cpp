// The generic create, read, update, delete and list of resources below resource groups.
// What every type shares lives here; each type's own rules come from its ResourceType.

#include "emulator/emulator.h"

#include <algorithm>

#include "emulator/gallery_deployment.h"
#include "emulator/request_body.h"
#include "emulator/source_types.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

std::vector<const ResourceType*> lineage(const ResourceType& type) { return type.lineage(); }

std::string provider_namespace(const ResourceType& type) {
  std::string full = type.type();
  return full.substr(0, full.find('/'));
}

// The id of a child named `name` of type `type` inside `parent` (a group or a resource).
std::string child_id(const json& parent, const ResourceType& type, const std::string& name) {
  const std::string parent_id = parent["id"];
  if (!type.parent()) return parent_id + "/providers/" + type.type() + "/" + name;
  return parent_id + "/" + type.segment() + "/" + name;
}

// "Microsoft.Compute/galleries/g/images/i" for messages, from the names as sent.
std::string qualified_name(const ResourceType& type, const std::vector<std::string>& names) {
  auto chain = lineage(type);
  std::string out = provider_namespace(type);
  for (size_t i = 0; i < chain.size() && i < names.size(); ++i) out += "/" + chain[i]->segment() + "/" + names[i];
  return out;
}

ArmError resource_not_found(const ResourceType& type, const ResourceRef& ref) {
  return not_found("ResourceNotFound", "The Resource '" + qualified_name(type, ref.names) + "' under resource group '" +
                                           ref.resource_group +
                                           "' was not found. For more details please go to "
                                           "https://aka.ms/ARMResourceNotFoundFix");
}

// Soft delete (gallery softDeletePolicy): a deleted image version stays stored, marked with
// the time it was deleted, invisible except to the soft-deleted listing and to a restore,
// until it is purged kSoftDeleteRetentionMs later.
constexpr const char* kSoftDeletedTime = "acg:softDeletedTime";
constexpr std::int64_t kSoftDeleteRetentionMs = 7LL * 24 * 3600 * 1000;  // 7 days, not configurable (LIMITS.md)

bool soft_delete_enabled(const json& gallery) {
  return gallery.value("/properties/softDeletePolicy/isSoftDeleteEnabled"_json_pointer, false);
}

bool is_deleting(const json& resource) {
  return resource.value("/properties/provisioningState"_json_pointer, "") == "Deleting";
}

// 409 for an update of a resource whose deletion is under way.
ArmError marked_for_deletion(const json& resource) {
  return conflict("OperationNotAllowed", "Operation 'Update' is not allowed on '" + resource.value("name", "") +
                                             "' since it is marked for deletion. You can only retry the Delete "
                                             "operation (or wait for an ongoing one to complete).");
}

std::vector<json> parse_rows(const std::vector<storage::ResourceRow>& rows) {
  std::vector<json> out;
  for (const auto& row : rows) {
    json body = json::parse(row.body, nullptr, false);
    if (!body.is_discarded()) out.push_back(std::move(body));
  }
  return out;
}

std::vector<json> visible(std::vector<json> items) {
  std::erase_if(items, [](const json& item) { return is_soft_deleted(item); });
  return items;
}

// A list page as clients see each item: through the type's view.
Result<ListPage> views(const ResourceType& type, Result<ListPage> page) {
  if (!page) return page;
  std::erase_if(page->items, [](const json& item) { return is_soft_deleted(item); });  // gone, for clients
  for (json& item : page->items) item = type.view(item, "");
  return page;
}

}  // namespace

bool is_soft_deleted(const json& resource) { return resource.contains(kSoftDeletedTime); }

std::vector<const ResourceType*> ResourceType::lineage() const {
  std::vector<const ResourceType*> chain;
  for (const ResourceType* t = this; t; t = t->parent()) chain.insert(chain.begin(), t);
  return chain;
}

std::string ResourceType::segment() const {
  std::string full = type();
  return full.substr(full.rfind('/') + 1);
}

// Read access for ResourceType rules, inside the current transaction (the lock is held).
class Emulator::TransactionLookup final : public Lookup {
 public:
  explicit TransactionLookup(Emulator& e) : e_(e) {}
  // Soft-deleted versions are gone for every rule (latest, deployments, limits, sharing).
  Result<std::optional<json>> load(const std::string& id) override {
    auto found = e_.load(id);
    if (found && *found && is_soft_deleted(**found)) return std::optional<json>{};
    return found;
  }
  Result<std::vector<json>> children(const std::string& parent_id, const std::string& type) override {
    auto rows = e_.store_->list_children(parent_id, type, 0, 1 << 30);
    if (!rows.ok()) return internal_error(rows.error().message);
    return visible(parse_rows(rows.value().rows));
  }
  Result<std::vector<json>> in_scope(const std::string& scope_id, const std::string& type) override {
    auto rows = e_.store_->list_in_scope(scope_id, type, 0, 1 << 30);
    if (!rows.ok()) return internal_error(rows.error().message);
    return visible(parse_rows(rows.value().rows));
  }
  Result<std::vector<RegionReplica>> replicas(const json& artifact) override {
    auto jobs = e_.jobs_of(artifact);
    if (!jobs) return std::move(jobs).error();
    std::vector<RegionReplica> out;
    for (const auto& j : *jobs) out.push_back({j.region, j.state});
    return out;
  }
  Result<bool> marketplace_terms_accepted(const std::string& sub, const std::string& publisher,
                                          const std::string& product, const std::string& plan) override {
    return e_.terms_accepted_locked(sub, MarketplacePlan{publisher, product, plan});
  }
  std::int64_t now_ms() const override { return e_.clock_.now_ms(); }
  const EmulatorSettings& settings() const override { return e_.settings_; }
  const RegionCatalog& regions() const override { return e_.regions_; }

 private:
  Emulator& e_;
};

Result<json> Emulator::resolve_parent(const ResourceType& type, const ResourceRef& ref, bool tolerate_deleting) {
  auto group = require_resource_group(ref.subscription, ref.resource_group);
  json parent;
  if (group) {
    parent = std::move(*group);
  } else if (tolerate_deleting && group.error().code == "ResourceGroupBeingDeleted") {
    auto stored = load("/subscriptions/" + ref.subscription + "/resourceGroups/" + ref.resource_group);
    if (!stored || !*stored) return std::move(group).error();
    parent = std::move(**stored);
  } else {
    return std::move(group).error();
  }
  auto chain = lineage(type);
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    auto stored = load(child_id(parent, *chain[i], ref.names.at(i)));
    if (!stored) return std::move(stored).error();
    if (!*stored)
      return not_found("ParentResourceNotFound",
                       "Can not perform requested operation on nested resource. Parent resource '" + ref.names[i] +
                           "' not found.");
    parent = std::move(**stored);
  }
  return parent;
}

Result<WriteOutcome> Emulator::put_resource(const ResourceType& type, const ResourceRef& ref, const json& body) {
  return write_resource(type, ref, body, false);
}

Result<WriteOutcome> Emulator::patch_resource(const ResourceType& type, const ResourceRef& ref, const json& body) {
  return write_resource(type, ref, body, true);
}

Result<WriteOutcome> Emulator::write_resource(const ResourceType& type, const ResourceRef& ref, const json& body,
                                              bool patch) {
  const std::string& name = ref.names.back();
  if (auto st = type.check_name(name); !st) return std::move(st).error();
  if (auto st = require_object(body, ""); !st) return std::move(st).error();
  if (auto st = check_tags(body); !st) return std::move(st).error();
  if (auto st = optional_object(body, "properties", ""); !st) return std::move(st).error();
  if (auto st = type.check_body(body, patch); !st) return std::move(st).error();
  if (auto fault = faults_.take_operation_fault(patch ? "PATCH" : "PUT", type.type())) return std::move(*fault);
  const Region* region = nullptr;
  if (type.needs_location() && !patch) {
    auto found = require_location(body, regions_, type.type(), type.needs_gallery_region());
    if (!found) return std::move(found).error();
    region = *found;
  }

  return write<WriteOutcome>([&]() -> Result<WriteOutcome> {
    auto parent = resolve_parent(type, ref, false);
    if (!parent) return std::move(parent).error();
    const std::string sub = identities_.find_subscription(ref.subscription)->id;
    auto stored = load(child_id(*parent, type, name));
    if (!stored) return std::move(stored).error();
    if (patch && !*stored) return resource_not_found(type, ref);

    json resource;
    if (*stored) {
      resource = std::move(**stored);
      if (is_soft_deleted(resource)) {
        // Only a restore brings it back; anything else meets the deleted version.
        if (json_member(json_member(body, "properties"), "restore") != json(true))
          return conflict("OperationNotAllowed", "The gallery image version '" + name +
                                                     "' is soft deleted. Restore it (properties.restore: true) or "
                                                     "wait until it is purged, 7 days after its deletion.");
        resource.erase(kSoftDeletedTime);
      }
      if (is_deleting(resource)) return marked_for_deletion(resource);
      if (region && !iequals(resource.value("location", ""), region->name))
        return conflict("InvalidResourceLocation",
                        "The resource '" + name + "' already exists in location '" + resource.value("location", "") +
                            "' in resource group '" + ref.resource_group +
                            "'. A resource with the same name cannot be created in location '" + region->name +
                            "'. Please select a new resource name.");
    } else {
      resource = {{"id", child_id(*parent, type, name)}, {"name", name}, {"type", type.type()}};
      if (region) resource["location"] = region->name;
    }

    TransactionLookup lookup(*this);
    const std::string id = resource["id"];
    const std::string stored_name = resource["name"];
    json* previous = *stored ? &resource : nullptr;
    const std::string tenant = identities_.find_subscription(ref.subscription)->tenant_id;
    const WriteRequest request{body, previous, *parent, id, stored_name, sub, tenant, patch};
    auto properties = type.properties(request, lookup);
    if (!properties) return std::move(properties).error();
    // A create counts against the subscription's quota in its region (a re-PUT, a restore do not).
    if (!*stored)
      if (auto st = check_quota(type, sub, resource.value("location", "")); !st) return std::move(st).error();

    if (!patch) resource.erase("tags");
    if (body.contains("tags") && !body["tags"].is_null()) resource["tags"] = body["tags"];
    resource["properties"] = std::move(*properties);
    type.apply_members(resource, body, request);
    // Azure Policy judges the resource as it would be stored; a deny rolls the write back.
    if (auto st = enforce_policies_locked(resource, sub); !st) return std::move(st).error();
    // The write's operation ends when its simulated work does: the type's own provisioning
    // time, and for versions the last region's copy.
    std::optional<std::int64_t> due;
    if (const std::int64_t ms = *stored ? 0 : type.provisioning_ms(lookup); ms > 0) due = clock_.now_ms() + ms;
    if (type.replicates()) {
      auto replication = replicate(resource, sub);
      if (!replication) return std::move(replication).error();
      if (*replication) due = std::max(due.value_or(0), **replication);
    }
    auto operation = begin_operation("provision", id, sub, resource.value("location", ""), due);
    if (!operation) return std::move(operation).error();
    resource["properties"]["provisioningState"] = !*operation ? "Succeeded" : (*stored ? "Updating" : "Creating");
    if (auto st = save(id, type.type(), (*parent)["id"], stored_name, resource); !st) return std::move(st).error();
    if (!*stored)
      if (auto st = save_companions(type, resource, lookup); !st) return std::move(st).error();
    return WriteOutcome{type.view(resource, ""), !*stored, *operation};
  });
}

// What a create brings with it (ResourceType::companions), each under its own resource group.
Status Emulator::save_companions(const ResourceType& type, const json& resource, Lookup& lookup) {
  auto companions = type.companions(resource, lookup);
  if (!companions) return std::move(companions).error();
  for (const json& c : *companions) {
    const std::string id = c.value("id", "");
    const size_t providers = to_lower(id).find("/providers/");
    if (providers == std::string::npos) return internal_error("A companion resource '" + id + "' has no provider.");
    if (auto st = save(id, c.value("type", ""), id.substr(0, providers), c.value("name", ""), c); !st) return st;
  }
  return ok_status();
}

Result<json> Emulator::stored_resource_locked(const ResourceType& type, const ResourceRef& ref) {
  auto parent = resolve_parent(type, ref, true);
  if (!parent) {
    if (parent.error().code == "ParentResourceNotFound") return resource_not_found(type, ref);
    return std::move(parent).error();
  }
  auto stored = load(child_id(*parent, type, ref.names.back()));
  if (!stored) return std::move(stored).error();
  if (!*stored || is_soft_deleted(**stored)) return resource_not_found(type, ref);
  return std::move(**stored);
}

Result<json> Emulator::get_stored_resource(const ResourceType& type, const ResourceRef& ref) {
  return read<json>([&]() -> Result<json> { return stored_resource_locked(type, ref); });
}

Result<json> Emulator::get_resource(const ResourceType& type, const ResourceRef& ref, const std::string& expand) {
  return read<json>([&]() -> Result<json> {
    auto stored = stored_resource_locked(type, ref);
    if (!stored) return stored;
    json view = type.view(*stored, expand);
    // $expand may list several values: "ReplicationStatus,ValidationProfile".
    if (type.replicates() && to_lower(expand).find("replicationstatus") != std::string::npos) {
      auto status = cached_replication_status(*stored);
      if (!status) return std::move(status).error();
      view["properties"]["replicationStatus"] = std::move(*status);
    }
    return view;
  });
}

Result<DeleteOutcome> Emulator::delete_resource(const ResourceType& type, const ResourceRef& ref) {
  if (auto fault = faults_.take_operation_fault("DELETE", type.type())) return std::move(*fault);
  return write<DeleteOutcome>([&]() -> Result<DeleteOutcome> {
    auto parent = resolve_parent(type, ref, false);
    if (!parent) {
      if (parent.error().code == "ParentResourceNotFound") return DeleteOutcome{false, std::nullopt};
      return std::move(parent).error();
    }
    auto stored = load(child_id(*parent, type, ref.names.back()));
    if (!stored) return std::move(stored).error();
    if (!*stored || is_soft_deleted(**stored)) return DeleteOutcome{false, std::nullopt};
    json& resource = **stored;
    const std::string id = resource["id"];
    auto children = store_->count_children(id);
    if (!children.ok()) return internal_error(children.error().message);
    if (children.value() > 0)
      return conflict("CannotDeleteResource", "Can not delete resource before nested resources are deleted.");
    TransactionLookup lookup(*this);
    if (auto st = type.check_delete(resource, lookup); !st) return std::move(st).error();
    if (is_deleting(resource)) return DeleteOutcome{true, std::nullopt};

    const std::string sub = identities_.find_subscription(ref.subscription)->id;
    if (auto st = cancel_operations_of(id); !st) return std::move(st).error();
    if (&type == &gallery_image_version_type()) {
      auto soft = soft_delete(resource, (*parent)["id"], sub);
      if (!soft) return std::move(soft).error();
      if (*soft) return DeleteOutcome{true, std::nullopt};
    }
    if (&type == &virtual_machine_type()) {
      // The VM's NICs and OS disk are detached with the delete, not deleted.
      auto released = released_by_vm(resource, lookup);
      if (!released) return std::move(released).error();
      for (const json& r : *released) {
        const std::string rid = r.value("id", "");
        if (auto st = save(rid, r.value("type", ""), rid.substr(0, to_lower(rid).find("/providers/")), r.value("name", ""), r); !st)
          return std::move(st).error();
      }
    }
    auto operation = begin_operation("delete", id, sub, resource.value("location", ""));
    if (!operation) return std::move(operation).error();
    if (!*operation) {
      if (auto st = erase_tree(id); !st) return std::move(st).error();
      return DeleteOutcome{true, std::nullopt};
    }
    resource["properties"]["provisioningState"] = "Deleting";
    if (auto st = save(id, type.type(), (*parent)["id"], resource["name"], resource); !st) return std::move(st).error();
    return DeleteOutcome{true, *operation};
  });
}

// An image version deleted in a gallery with soft delete on stays, marked, until its purge
// (an operation due 7 days later on the emulator's clock). False when soft delete is off.
Result<bool> Emulator::soft_delete(json& version, const std::string& definition_id, const std::string& sub) {
  const std::string gallery_id = definition_id.substr(0, to_lower(definition_id).rfind("/images/"));
  auto gallery = load(gallery_id);
  if (!gallery) return std::move(gallery).error();
  if (!*gallery || !soft_delete_enabled(**gallery)) return false;
  const std::int64_t now = clock_.now_ms();
  version[kSoftDeletedTime] = format_arm_time(now);
  const std::string id = version["id"];
  if (auto st = save(id, gallery_image_version_type().type(), definition_id, version["name"], version); !st)
    return std::move(st).error();
  storage::OperationRow purge{ids_.uuid(), "purge", id, version.value("location", ""), sub, "InProgress",
                              format_arm_time(now), "", now + kSoftDeleteRetentionMs, "", ""};
  if (auto st = store_->put_operation(purge); !st.ok()) return internal_error(st.error().message);
  return true;
}

Result<Emulator::Finish> Emulator::finish_purge(const storage::OperationRow& op) {
  auto stored = load(op.resource_id);
  if (!stored) return std::move(stored).error();
  if (*stored && is_soft_deleted(**stored))
    if (auto st = erase_tree(op.resource_id); !st) return std::move(st).error();
  return Finish{"Succeeded", std::nullopt, 0};
}

Result<ListPage> Emulator::list_soft_deleted(const ResourceRef& definition) {
  return read<ListPage>([&]() -> Result<ListPage> {
    ResourceRef versions = definition;
    versions.names.push_back("");
    auto parent = resolve_parent(gallery_image_version_type(), versions, true);
    if (!parent) return std::move(parent).error();
    auto rows = store_->list_children((*parent)["id"], gallery_image_version_type().type(), 0, 1 << 30);
    if (!rows.ok()) return internal_error(rows.error().message);
    ListPage page;
    for (const json& v : parse_rows(rows.value().rows)) {
      if (!is_soft_deleted(v)) continue;
      page.items.push_back({{"id", (*parent)["id"].get<std::string>().substr(0, to_lower((*parent)["id"].get<std::string>()).rfind("/images/")) +
                                       "/softdeletedartifacttypes/Images/artifacts/" + definition.names.back() + "/versions/" +
                                       v.value("name", "")},
                            {"name", v.value("name", "")},
                            {"type", "Microsoft.Compute/galleries/softDeletedArtifactTypes/artifacts/versions"},
                            {"location", v.value("location", "")},
                            {"properties",
                             {{"resourceArmId", v["id"]},
                              {"softDeletedArtifactType", "Images"},
                              {"softDeletedTime", v[kSoftDeletedTime]}}}});
    }
    return page;
  });
}

Result<ListPage> Emulator::list_resources(const ResourceType& type, const ResourceRef& parent_ref,
                                          const std::string& continuation) {
  return read<ListPage>([&]() -> Result<ListPage> {
    // resolve_parent wants the names down to the listed type; the last is never read.
    ResourceRef ref = parent_ref;
    ref.names.push_back("");
    auto parent = resolve_parent(type, ref, true);
    if (!parent) return std::move(parent).error();
    auto after = parse_continuation(continuation);
    if (!after) return std::move(after).error();
    return views(type, page(store_->list_children((*parent)["id"], type.type(), *after, settings_.page_size)));
  });
}

Result<ListPage> Emulator::list_resources_in_subscription(const ResourceType& type, const std::string& sub,
                                                          const std::string& continuation) {
  return read<ListPage>([&]() -> Result<ListPage> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    auto after = parse_continuation(continuation);
    if (!after) return std::move(after).error();
    return views(type, page(store_->list_in_scope("/subscriptions/" + identities_.find_subscription(sub)->id,
                                                  type.type(), *after, settings_.page_size)));
  });
}

// Changes a stored resource outside the generic write (actions such as POST .../generalize),
// in one transaction like every write.
Result<json> Emulator::update_resource(const ResourceType& type, const ResourceRef& ref,
                                       const std::function<Status(json& resource)>& change) {
  return write<json>([&]() -> Result<json> {
    auto parent = resolve_parent(type, ref, false);
    if (!parent) {
      if (parent.error().code == "ParentResourceNotFound") return resource_not_found(type, ref);
      return std::move(parent).error();
    }
    auto stored = load(child_id(*parent, type, ref.names.back()));
    if (!stored) return std::move(stored).error();
    if (!*stored) return resource_not_found(type, ref);
    json resource = std::move(**stored);
    if (is_deleting(resource)) return marked_for_deletion(resource);
    const json before = resource;
    if (auto st = change(resource); !st) return std::move(st).error();
    for (const char* key : {"id", "name", "type", "location"})
      if (resource.value(key, json()) != before.value(key, json()))
        return internal_error(std::string("A change to '") + before.value("id", "") + "' altered its '" + key + "'.");
    if (auto st = save(resource["id"], type.type(), (*parent)["id"], resource["name"], resource); !st)
      return std::move(st).error();
    return resource;
  });
}

Result<OperationRef> Emulator::deallocate_vm(const ResourceRef& ref) {
  return write<OperationRef>([&]() -> Result<OperationRef> {
    const ResourceType& type = virtual_machine_type();
    auto parent = resolve_parent(type, ref, false);
    if (!parent) return std::move(parent).error();
    auto stored = load(child_id(*parent, type, ref.names.back()));
    if (!stored) return std::move(stored).error();
    if (!*stored) return resource_not_found(type, ref);
    json vm = std::move(**stored);
    if (is_deleting(vm)) return marked_for_deletion(vm);
    set_power_state(vm, "deallocated");
    const std::string sub = identities_.find_subscription(ref.subscription)->id;
    // Due now at the earliest: the first poll sees it Succeeded (later with an operation delay).
    auto operation = begin_operation("power", vm["id"], sub, vm.value("location", ""), clock_.now_ms());
    if (!operation) return std::move(operation).error();
    if (auto st = save(vm["id"], type.type(), (*parent)["id"], vm["name"], vm); !st) return std::move(st).error();
    return **operation;
  });
}

// --- What consumers see of shared and community galleries (shared_galleries.h) -------------

Result<json> Emulator::get_public_resource(const std::string& sub, PublicGalleryRef ref) {
  return read<json>([&]() -> Result<json> {
    auto consumer = consumer_of(sub, ref);
    if (!consumer) return std::move(consumer).error();
    TransactionLookup lookup(*this);
    return read_public_resource(ref, *consumer, lookup);
  });
}

// The listing is computed whole (visibility and replication decide what is in it), then paged
// by position: the $skiptoken is the index of the next item.
Result<ListPage> Emulator::list_public_resources(const std::string& sub, PublicGalleryRef ref,
                                                 const std::string& continuation) {
  return read<ListPage>([&]() -> Result<ListPage> {
    auto consumer = consumer_of(sub, ref);
    if (!consumer) return std::move(consumer).error();
    auto after = parse_continuation(continuation);
    if (!after) return std::move(after).error();
    TransactionLookup lookup(*this);
    auto items = read_public_listing(ref, *consumer, lookup);
    if (!items) return std::move(items).error();
    ListPage page;
    const size_t first = std::min<size_t>(static_cast<size_t>(*after), items->size());
    const size_t end = std::min(items->size(), first + static_cast<size_t>(settings_.page_size));
    page.items.assign(std::make_move_iterator(items->begin() + first), std::make_move_iterator(items->begin() + end));
    if (end < items->size()) page.continuation = std::to_string(end);
    return page;
  });
}

// "Latest" as a deployment from a definition id resolves it (emulator/gallery_deployment.h),
// among the versions rules can see (soft-deleted ones are gone).
Result<json> Emulator::latest_version(const ResourceRef& definition, const std::string& region) {
  return read<json>([&]() -> Result<json> {
    ResourceRef versions_ref = definition;
    versions_ref.names.push_back("");
    auto parent = resolve_parent(gallery_image_version_type(), versions_ref, true);
    if (!parent) return std::move(parent).error();
    auto versions = TransactionLookup(*this).children((*parent)["id"], gallery_image_version_type().type());
    if (!versions) return std::move(versions).error();
    auto best = pick_latest_version(*versions, region);
    if (!best)
      return not_found("NotFound", "There is no latest image version exists for " + (*parent)["id"].get<std::string>());
    return gallery_image_version_type().view(*best, "");
  });
}

// Walks every subscription's tree, parents before children, then orders everything by
// creation (seq): a version's source snapshot, a sibling of its gallery, comes before it.
Result<std::vector<json>> Emulator::all_resources() {
  std::lock_guard lock(mutex_);
  std::vector<storage::ResourceRow> rows;
  std::vector<std::string> parents;
  for (const Subscription& s : identities_.subscriptions()) parents.push_back("/subscriptions/" + s.id);
  while (!parents.empty()) {
    const std::string parent = std::move(parents.back());
    parents.pop_back();
    std::int64_t after = 0;
    for (;;) {
      auto page = store_->list_children(parent, "", after, 1000);
      if (!page.ok()) return internal_error(page.error().message);
      for (storage::ResourceRow& row : page.value().rows) {
        parents.push_back(row.id);
        rows.push_back(std::move(row));
      }
      if (!page.value().next_after) break;
      after = *page.value().next_after;
    }
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  std::vector<json> out;
  for (const storage::ResourceRow& row : rows) {
    json body = json::parse(row.body, nullptr, false);
    if (!body.is_object() || is_soft_deleted(body)) continue;
    body["id"] = row.id;
    if (!body.contains("type")) body["type"] = row.type;
    out.push_back(std::move(body));
  }
  return out;
}

}  // namespace acg
