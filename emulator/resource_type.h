#pragma once
// How one ARM resource type plugs into the core's generic create, read, update, delete and
// list (emulator/resources.cpp). The core owns what every type shares: names in paths,
// parents, location, tags, provisioningState, long-running operations, transactions, paging,
// "no delete while children exist". A ResourceType owns only its own rules: its name rule,
// the shape of its body and how a write turns into stored properties.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/arm_error.h"
#include "emulator/settings.h"

namespace acg {

class RegionCatalog;

// Where an artifact version stands in one target region (see emulator/replication.h).
struct RegionReplica {
  std::string region;  // programmatic name: "westus2"
  std::string state;   // Replicating | Completed | Failed
};

// Read access to other resources, inside the transaction of the write being made.
class Lookup {
 public:
  virtual ~Lookup() = default;
  virtual Result<std::optional<nlohmann::json>> load(const std::string& id) = 0;
  // Every resource of `type` directly under parent_id.
  virtual Result<std::vector<nlohmann::json>> children(const std::string& parent_id, const std::string& type) = 0;
  // Every resource of `type` anywhere below scope_id.
  virtual Result<std::vector<nlohmann::json>> in_scope(const std::string& scope_id, const std::string& type) = 0;
  // The replication state of an image or application version in each of its target regions.
  virtual Result<std::vector<RegionReplica>> replicas(const nlohmann::json& artifact) = 0;
  // Whether subscription `sub` has accepted the marketplace terms of `plan` (publisher,
  // product = offer, plan name), as Microsoft.MarketplaceOrdering records them.
  virtual Result<bool> marketplace_terms_accepted(const std::string& sub, const std::string& publisher,
                                                  const std::string& product, const std::string& plan) = 0;
  virtual std::int64_t now_ms() const = 0;
  virtual const EmulatorSettings& settings() const = 0;
  virtual const RegionCatalog& regions() const = 0;
};

struct WriteRequest {
  const nlohmann::json& body;      // the request body, shape-checked by check_body
  const nlohmann::json* stored;    // the stored resource when updating, else null
  const nlohmann::json& parent;    // the containing resource (resource group, gallery, ...)
  const std::string& id;           // the id being written (canonical casing)
  const std::string& name;
  const std::string& subscription;
  const std::string& tenant;       // the subscription's tenant
  bool patch = false;
};

class ResourceType {
 public:
  virtual ~ResourceType() = default;

  // "Microsoft.Compute/galleries/images": namespace and segments, in canonical casing.
  virtual std::string type() const = 0;
  // The type this one lives in; nullptr for resources directly in a resource group.
  virtual const ResourceType* parent() const { return nullptr; }
  // Resources of this type need a location (and may not move once created).
  virtual bool needs_location() const { return true; }
  // The location must be a region that offers galleries (vs. any region of the catalog).
  virtual bool needs_gallery_region() const { return true; }
  // Its publishingProfile's target regions are replicated (emulator/replication.h): image
  // and application versions.
  virtual bool replicates() const { return false; }
  // Simulated time a create takes before it is provisioned, beyond --operation-delay-ms
  // (a virtual machine boots). 0: none.
  virtual std::int64_t provisioning_ms(const Lookup& /*lookup*/) const { return 0; }

  virtual Status check_name(std::string_view name) const = 0;
  // Shape checks on a PUT (patch=false) or PATCH body, before anything is read.
  virtual Status check_body(const nlohmann::json& body, bool patch) const = 0;
  // The "properties" object to store for this write (provisioningState is set by the core).
  virtual Result<nlohmann::json> properties(const WriteRequest& request, Lookup& lookup) const = 0;
  // Members beside "properties" that the type's real shape has (sku, kind): set them in the
  // resource being stored, inside the write's transaction. check_body has accepted `body`.
  virtual void apply_members(nlohmann::json& /*resource*/, const nlohmann::json& /*body*/,
                             const WriteRequest& /*request*/) const {}
  // Other resources a create brings into being or changes, written in the same transaction
  // as the resource itself (a VM's OS disk, the NICs it attaches now point back at it).
  // Each is a whole resource with "id" and "type"; it is stored under the resource group its
  // id names. `resource` is the resource about to be stored (properties and members set).
  virtual Result<std::vector<nlohmann::json>> companions(const nlohmann::json& /*resource*/, Lookup& /*lookup*/) const {
    return std::vector<nlohmann::json>{};
  }
  // Extra refusals before a delete (children are checked by the core).
  virtual Status check_delete(const nlohmann::json& /*stored*/, Lookup& /*lookup*/) const { return ok_status(); }

  // What a GET returns: the stored resource, plus what `expand` ($expand, e.g.
  // "ReplicationStatus", and "$select=<value>" when the request has a $select) asks for.
  virtual nlohmann::json view(const nlohmann::json& stored, const std::string& /*expand*/) const { return stored; }

  // The last segment of the type: "images".
  std::string segment() const;
  // The chain of types from the outermost (galleries) to this one.
  std::vector<const ResourceType*> lineage() const;
};

// The types the core serves.
const ResourceType& gallery_type();
const ResourceType& gallery_image_type();
const ResourceType& gallery_image_version_type();
const ResourceType& gallery_application_type();
const ResourceType& gallery_application_version_type();

}  // namespace acg
