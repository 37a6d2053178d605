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
// of the resource, beside "properties": they set them in ResourceType::apply_members, inside
// the write's one transaction.
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

// Whether a stored virtual machine has been generalized.
bool is_generalized(const nlohmann::json& vm);
// Records a stored virtual machine as generalized (idempotent): the change
// POST .../generalize makes through Emulator::update_resource.
Status generalize_vm(nlohmann::json& vm);
// A stored VM's power state, recorded as an instance-view status "PowerState/<state>"
// (running when none is recorded): POST .../deallocate sets "deallocated".
void set_power_state(nlohmann::json& vm, const std::string& state);
std::string power_state(const nlohmann::json& vm);
// What a VM's delete lets go of, as it will be stored: each NIC the VM attached (without
// properties.virtualMachine) and its OS disk created with it (Unattached, no managedBy).
// Written in the delete's transaction, as Compute detaches them.
Result<std::vector<nlohmann::json>> released_by_vm(const nlohmann::json& vm, Lookup& lookup);

}  // namespace acg
