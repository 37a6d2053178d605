#pragma once
// The source resources a gallery image version is created from, each a ResourceType directly
// in a resource group, in any region of the catalog:
//
//   Microsoft.Compute/images           managed_image_type()     managed_image_type.cpp
//   Microsoft.Compute/snapshots        snapshot_type()          disk_types.cpp
//   Microsoft.Compute/disks            disk_type()              disk_types.cpp
//   Microsoft.Compute/virtualMachines  virtual_machine_type()   virtual_machine_type.cpp
//   Microsoft.Storage/storageAccounts  storage_account_type()   storage_account_type.cpp
//
// Members beside "properties"
// ---------------------------
// Disks, snapshots and storage accounts keep `sku` (and storage accounts `kind`) at the top
// of the resource, beside "properties". The generic write (Emulator::put_resource) stores
// only properties, so these types are ResourceTypeWithMembers and are written through
// write_resource_with_members: the generic write, then a second short transaction that
// stores the members. Every member is validated by check_body/properties() before the first
// transaction, so the second cannot refuse; between the two a reader may briefly see the
// resource without them. (A ResourceType hook called inside write_resource would make this
// one transaction.)
//
// Virtual machines: generalized or not
// ------------------------------------
// A VM is created Specialized. POST .../virtualMachines/{vm}/generalize records it as
// Generalized the way Compute reports it, as a status in the VM's instance view:
//
//   properties.instanceView = {"hyperVGeneration": "V1"|"V2",
//                              "statuses": [{"code": "OSState/generalized", ...}]}
//
// The instance view is stored and returned on every GET (Compute returns it only with
// $expand=instanceView); clients ignore it. Only generalized VMs can be captured into a
// managed image; a generalized VM can no longer be updated.

#include <nlohmann/json.hpp>

#include "emulator/arm_error.h"
#include "emulator/emulator.h"
#include "emulator/resource_type.h"

namespace acg {

const ResourceType& managed_image_type();
const ResourceType& snapshot_type();
const ResourceType& disk_type();
const ResourceType& virtual_machine_type();
const ResourceType& storage_account_type();
const ResourceType& disk_encryption_set_type();

// A ResourceType whose real shape has members beside "properties" (sku, kind).
class ResourceTypeWithMembers : public ResourceType {
 public:
  // Sets the members a write asks for in the stored `resource` (defaults on create; the
  // stored values when the write leaves them out). check_body has accepted `body`.
  virtual void apply_members(nlohmann::json& resource, const nlohmann::json& body) const = 0;
};

// PUT (patch=false) or PATCH of a resource of any type: Emulator::put_resource or
// patch_resource, then, for a ResourceTypeWithMembers, the transaction that stores its
// members. The outcome's resource is the resource as finally stored.
Result<WriteOutcome> write_resource_with_members(Emulator& emulator, const ResourceType& type, const ResourceRef& ref,
                                                 const nlohmann::json& body, bool patch);

// Whether a stored virtual machine has been generalized.
bool is_generalized(const nlohmann::json& vm);
// Records a stored virtual machine as generalized (idempotent): the change
// POST .../generalize makes through Emulator::update_resource.
Status generalize_vm(nlohmann::json& vm);

}  // namespace acg
