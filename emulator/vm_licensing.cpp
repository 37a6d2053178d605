#include "emulator/vm_licensing.h"

#include <vector>

#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

// The values Compute documents (VirtualMachineProperties.licenseType; Azure Hybrid Benefit for
// Linux: Azure/azure-cli#20667, #20765), by the OS family they license.
const std::vector<std::string> kWindowsLicenses = {"Windows_Server", "Windows_Client"};
const std::vector<std::string> kRhelLicenses = {"RHEL_BYOS",        "RHEL_BASE",       "RHEL_EUS",  "RHEL_SAPAPPS",
                                                "RHEL_SAPHA",       "RHEL_BASESAPAPPS", "RHEL_BASESAPHA",
                                                "RHEL_ELS_6"};
const std::vector<std::string> kSlesLicenses = {"SLES_BYOS", "SLES_STANDARD", "SLES_SAP", "SLES_HPC"};

bool listed(const std::vector<std::string>& values, const std::string& value) {
  for (const std::string& v : values)
    if (iequals(v, value)) return true;
  return false;
}

std::string joined(const std::vector<std::string>& a, const std::vector<std::string>& b = {}) {
  std::string out;
  for (const auto* list : {&a, &b})
    for (const std::string& v : *list) out += (out.empty() ? "" : ", ") + v;
  return out;
}

enum class Distribution { unknown, rhel, sles };

// What the definition's identifier (publisher, offer) says the image is.
Distribution distribution_of(const json& definition) {
  const json& identifier = json_member(json_member(definition, "properties"), "identifier");
  const std::string text = to_lower(json_text(identifier, "publisher") + " " + json_text(identifier, "offer"));
  if (text.find("redhat") != std::string::npos || text.find("rhel") != std::string::npos) return Distribution::rhel;
  if (text.find("suse") != std::string::npos || text.find("sles") != std::string::npos) return Distribution::sles;
  return Distribution::unknown;
}

ArmError license_refused(const std::string& value, const std::string& image, const std::string& allowed) {
  return invalid_parameter("The value '" + value + "' of parameter 'licenseType' is not allowed for " + image +
                               ". Allowed values: " + allowed + ", None.",
                           "licenseType");
}

bool same_text(const json& a, const json& b, const char* key) { return iequals(json_text(a, key), json_text(b, key)); }

std::string plan_text(const json& plan) {
  return "publisher '" + json_text(plan, "publisher") + "', product '" + json_text(plan, "product") + "', name '" +
         json_text(plan, "name") + "'";
}

}  // namespace

Status check_purchase_plan(const WriteRequest& request, const json& definition, Lookup& lookup) {
  const json& wanted = json_member(json_member(definition, "properties"), "purchasePlan");
  if (!wanted.is_object() || json_text(wanted, "name").empty()) return ok_status();
  const json& plan = json_member(request.body, "plan");
  if (!plan.is_object())
    return bad_request("VMMarketplaceInvalidInput",
                       "Creating a virtual machine from Marketplace image or a custom image sourced from a Marketplace "
                       "image requires Plan information in the request. VM: '" + request.id + "'.");
  if (!same_text(plan, wanted, "name") || !same_text(plan, wanted, "publisher") || !same_text(plan, wanted, "product"))
    return bad_request("VMMarketplaceInvalidInput",
                       "The Plan information in the request (" + plan_text(plan) +
                           ") does not match the purchase plan of the image (" + plan_text(wanted) + "). VM: '" +
                           request.id + "'.");
  auto accepted = lookup.marketplace_terms_accepted(request.subscription, json_text(wanted, "publisher"),
                                                    json_text(wanted, "product"), json_text(wanted, "name"));
  if (!accepted) return std::move(accepted).error();
  if (*accepted) return ok_status();
  return bad_request(
      "ResourcePurchaseValidationFailed",
      "User failed validation to purchase resources. Error message: 'You have not accepted the legal terms on this "
      "subscription: '" + request.subscription +
          "' for this plan. Before the subscription can be used, you need to accept the legal terms of the image. To "
          "read and accept legal terms, use the Azure CLI commands described at "
          "https://go.microsoft.com/fwlink/?linkid=2110637 or the PowerShell commands available at "
          "https://go.microsoft.com/fwlink/?linkid=862451. Alternatively, deploying via the Azure portal provides a UI "
          "experience for reading and accepting the legal terms. Offer details: publisher='" +
          json_text(wanted, "publisher") + "' offer = '" + json_text(wanted, "product") + "', sku = '" +
          json_text(wanted, "name") + "'.'");
}

Status check_license_type(const json& license_type, const std::string& os_type, const json& definition) {
  if (license_type.is_null()) return ok_status();
  if (!license_type.is_string()) return invalid_content("Expected a string at path 'properties.licenseType'");
  const std::string value = license_type.get<std::string>();
  if (iequals(value, "None")) return ok_status();
  const bool windows_license = listed(kWindowsLicenses, value);
  const bool rhel_license = listed(kRhelLicenses, value), sles_license = listed(kSlesLicenses, value);
  if (!windows_license && !rhel_license && !sles_license)
    return invalid_parameter("The value '" + value + "' of parameter 'licenseType' is not valid. Allowed values: " +
                                 joined(kWindowsLicenses, kRhelLicenses) + ", " + joined(kSlesLicenses) + ", None.",
                             "licenseType");
  if (iequals(os_type, "Windows"))
    return windows_license ? ok_status() : license_refused(value, "a Windows image", joined(kWindowsLicenses));
  if (windows_license)
    return license_refused(value, "a Linux image", joined(kRhelLicenses, kSlesLicenses));
  switch (distribution_of(definition)) {
    case Distribution::rhel:
      return rhel_license ? ok_status() : license_refused(value, "a Red Hat Enterprise Linux image", joined(kRhelLicenses));
    case Distribution::sles:
      return sles_license ? ok_status() : license_refused(value, "a SUSE Linux Enterprise image", joined(kSlesLicenses));
    case Distribution::unknown:
      return ok_status();
  }
  return ok_status();
}

}  // namespace acg
