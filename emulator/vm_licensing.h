#pragma once
// What a virtual machine must say about licences when it is deployed from an image:
//
// Marketplace plans. A gallery image definition with `purchasePlan` {name, publisher, product}
// stands for a marketplace image (or a custom image sourced from one). A VM deployed from it
// (or from one of its versions) must carry the same `plan`, and its subscription must have
// accepted the plan's terms (emulator/marketplace_terms.h), else 400:
//   no plan          VMMarketplaceInvalidInput "Creating a virtual machine from Marketplace image
//                    or a custom image sourced from a Marketplace image requires Plan information
//                    in the request. VM: '<id>'." (the service's text, e.g. Azure/sap-automation#433,
//                    openshift/installer#7721)
//   another plan     VMMarketplaceInvalidInput, naming both plans (wording of this product: the
//                    service's is not published)
//   terms not signed ResourcePurchaseValidationFailed "User failed validation to purchase
//                    resources. Error message: 'You have not accepted the legal terms on this
//                    subscription: '<sub>' for this plan. ..." (nforgeio/neonKUBE#1673,
//                    hashicorp/terraform-provider-azurerm#1145: Status=400)
//
// Azure Hybrid Benefit. `licenseType` says the OS licence is the customer's own:
// Windows_Server and Windows_Client only on Windows, RHEL_* only on Red Hat and SLES_* only on
// SUSE Linux (the image's identifier publisher or offer names the distribution; when it names
// neither, any Linux licence type is taken), "None" anywhere. Anything else: 400
// InvalidParameter, target licenseType.

#include <nlohmann/json.hpp>
#include <string>

#include "emulator/arm_error.h"
#include "emulator/resource_type.h"

namespace acg {

// The VM's `plan` against the image definition's `purchasePlan`, and the terms.
Status check_purchase_plan(const WriteRequest& request, const nlohmann::json& definition, Lookup& lookup);

// `license_type` (absent: null) for an image of `os_type` ("Windows" | "Linux"); `definition`
// is the gallery image definition the VM is deployed from, or null.
Status check_license_type(const nlohmann::json& license_type, const std::string& os_type,
                          const nlohmann::json& definition);

}  // namespace acg
