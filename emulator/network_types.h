#pragma once
// Microsoft.Network resources, as far as a VM build needs them (Packer's azure-arm builder,
// `az vm create`): each a ResourceType directly in a resource group, in any region of the
// catalog, with Network's name rule and its errors.
//
//   Microsoft.Network/publicIPAddresses      public_ip_address_type()
//   Microsoft.Network/virtualNetworks        virtual_network_type()    (subnets inline)
//   Microsoft.Network/networkInterfaces      network_interface_type()
//   Microsoft.Network/networkSecurityGroups  network_security_group_type()
//
// References, and who may be deleted
// ----------------------------------
//   NIC ipConfiguration ──subnet.id──────────► VNet subnet   (InvalidResourceReference if absent)
//                       ──publicIPAddress.id─► public IP     (one NIC per public IP)
//   NIC ──networkSecurityGroup.id──────────► NSG
//   VM  ──networkProfile.networkInterfaces─► NIC; the VM's create sets the NIC's
//                                            properties.virtualMachine (a companion write)
// A resource something still refers to cannot be deleted (NicInUse, PublicIPAddressCannotBeDeleted,
// InUseSubnetCannotBeDeleted, InUseNetworkSecurityGroupCannotBeDeleted); deleting the resource
// group removes them all at once.
//
// Addresses: a public IP gets kPublicIpAddress as soon as it is provisioned (Dynamic ones too:
// nothing is ever deallocated), because the emulator's SSH endpoint for builds listens on
// loopback and Packer connects to properties.ipAddress. A NIC's Dynamic private address is the
// lowest free one of its subnet after Azure's 4 reserved addresses (10.0.0.4 first).

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "emulator/arm_error.h"
#include "emulator/resource_type.h"

namespace acg {

// What every public IP reports as properties.ipAddress.
inline constexpr const char* kPublicIpAddress = "127.0.0.1";

const ResourceType& public_ip_address_type();
const ResourceType& virtual_network_type();
const ResourceType& network_interface_type();
const ResourceType& network_security_group_type();

// The subnet named `name` (any casing) of a stored virtual network, or null.
nlohmann::json find_subnet(const nlohmann::json& vnet, std::string_view name);

// The NICs a VM names in properties.networkProfile.networkInterfaces must exist, share its
// region and be attached to no other VM. `vm_id` is the VM being written.
Status check_vm_nics(const nlohmann::json& network_profile, const std::string& vm_id, const std::string& location,
                     Lookup& lookup);

}  // namespace acg
