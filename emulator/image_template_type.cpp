// Image Builder templates (Microsoft.VirtualMachineImages/imageTemplates): the checks a PUT
// meets (identity, source, customizers, validation, distributors) and the read-only
// properties the service shows. A template cannot change once created, beyond its tags and
// identity (PATCH). Runs are driven by api/image_builder_handlers.cpp; the run's own record
// sits beside "properties" as "acg:run" (hidden by view()).
//
// Error codes: Image Builder documents few of its validation errors; where none is known the
// code is ARM's InvalidParameter / ResourceNotFound and the message says what is wrong.

#include <algorithm>
#include <set>

#include "emulator/image_builder.h"
#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

const EnumRule kSourceTypes{"properties.source.type", {"PlatformImage", "ManagedImage", "SharedImageVersion"}};
const EnumRule kCustomizerTypes{"properties.customize.type", {"Shell", "PowerShell", "File", "WindowsRestart", "WindowsUpdate"}};
const EnumRule kDistributorTypes{"properties.distribute.type", {"ManagedImage", "SharedImage", "VHD"}};

ArmError invalid(const std::string& message, const std::string& target) {
  return bad_request("InvalidParameter", message, target);
}

std::string compact_region(const std::string& region) {
  std::string out;
  for (char c : to_lower(region))
    if (c != ' ') out += c;
  return out;
}

bool has_text(const json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_string() && !object[key].get<std::string>().empty();
}

// identity: {"type": "UserAssigned", "userAssignedIdentities": {"<id>": {}}}, exactly one, existing.
Result<json> resolve_identity(const json& identity, Lookup& lookup) {
  if (!identity.is_object())
    return invalid("The image template requires a user-assigned managed identity: set identity.type to 'UserAssigned' "
                   "with one identity in identity.userAssignedIdentities.",
                   "identity");
  if (!iequals(json_text(identity, "type"), "UserAssigned"))
    return invalid("The identity type '" + json_text(identity, "type") +
                       "' is not supported for image templates. Only 'UserAssigned' is supported.",
                   "identity.type");
  const json& ids = json_member(identity, "userAssignedIdentities");
  if (!ids.is_object() || ids.size() != 1)
    return invalid("Exactly one user-assigned identity is required in identity.userAssignedIdentities; " +
                       std::to_string(ids.is_object() ? ids.size() : 0) + " were given.",
                   "identity.userAssignedIdentities");
  const std::string id = ids.begin().key();
  auto found = lookup.load(id);
  if (!found) return std::move(found).error();
  if (!*found || !iequals((**found).value("type", ""), kUserAssignedIdentityType))
    return bad_request("ResourceNotFound",
                       "The user-assigned identity '" + id + "' was not found. Create it before the image template.",
                       "identity.userAssignedIdentities");
  const std::string canonical = (**found)["id"];
  return json{{"type", "UserAssigned"},
              {"userAssignedIdentities",
               {{canonical, {{"principalId", identity_principal_id(canonical)}, {"clientId", identity_client_id(canonical)}}}}}};
}

bool windows_publisher(const json& source) {
  const std::string text = to_lower(json_text(source, "publisher") + " " + json_text(source, "offer") + " " +
                                    json_text(source, "sku"));
  return text.find("windows") != std::string::npos;
}

// The source exists and can be built from; returns its OS type.
Result<std::string> check_source(const json& source, const std::string& sub, const std::string& location, Lookup& lookup) {
  if (!source.is_object()) return missing_parameter("properties.source");
  auto type = canonical_enum(kSourceTypes, source.value("type", json()));
  if (!type) return std::move(type).error();
  if (*type == "PlatformImage") {
    for (const char* key : {"publisher", "offer", "sku", "version"})
      if (!has_text(source, key)) return missing_parameter(std::string("properties.source.") + key);
    const json& plan = json_member(source, "planInfo");
    if (plan.is_object()) {
      for (const char* key : {"planName", "planProduct", "planPublisher"})
        if (!has_text(plan, key)) return missing_parameter(std::string("properties.source.planInfo.") + key);
      auto accepted = lookup.marketplace_terms_accepted(sub, plan["planPublisher"], plan["planProduct"], plan["planName"]);
      if (!accepted) return std::move(accepted).error();
      if (!*accepted)
        return bad_request("MarketplacePurchaseEligibilityFailed",
                           "Marketplace purchase eligibilty check returned errors. See inner errors for details. "
                           "Legal terms have not been accepted for this item on this subscription: '" + sub +
                               "'. To accept legal terms, please go to the Azure portal or use the "
                               "Set-AzMarketplaceTerms cmdlet (az vm image terms accept) for publisher '" +
                               plan["planPublisher"].get<std::string>() + "', product '" +
                               plan["planProduct"].get<std::string>() + "', plan '" + plan["planName"].get<std::string>() + "'.");
    }
    return std::string(windows_publisher(source) ? "Windows" : "Linux");
  }
  if (*type == "ManagedImage") {
    if (!has_text(source, "imageId")) return missing_parameter("properties.source.imageId");
    auto image = load_reference(lookup, source["imageId"], {"Microsoft.Compute/images"}, "properties.source.imageId");
    if (!image) return std::move(image).error();
    return image->value("/properties/storageProfile/osDisk/osType"_json_pointer, std::string("Linux"));
  }
  if (!has_text(source, "imageVersionId")) return missing_parameter("properties.source.imageVersionId");
  auto version = load_reference(lookup, source["imageVersionId"], {"Microsoft.Compute/galleries/images/versions"},
                                "properties.source.imageVersionId");
  if (!version) return std::move(version).error();
  auto replicas = lookup.replicas(*version);
  if (!replicas) return std::move(replicas).error();
  bool here = std::any_of(replicas->begin(), replicas->end(), [&](const RegionReplica& r) {
    return compact_region(r.region) == compact_region(location) && r.state == "Completed";
  });
  if (!here)
    return invalid("The source image version '" + source["imageVersionId"].get<std::string>() +
                       "' is not replicated to the image template's location '" + location +
                       "'. Replicate it there (add the region to its target regions) and submit the template again.",
                   "properties.source.imageVersionId");
  const std::string version_id = (*version)["id"];
  auto definition = lookup.load(version_id.substr(0, version_id.rfind("/versions/")));
  if (!definition) return std::move(definition).error();
  return *definition ? (**definition).value("/properties/osType"_json_pointer, std::string("Linux")) : std::string("Linux");
}

Status check_script_source(const json& c, const std::string& path, const char* type) {
  const bool uri = has_text(c, "scriptUri");
  const bool inline_lines = c.contains("inline") && c["inline"].is_array() && !c["inline"].empty();
  if (uri == inline_lines)
    return invalid(std::string("A ") + type + " customizer needs exactly one of 'scriptUri' or 'inline'.", path);
  if (inline_lines)
    for (const json& line : c["inline"])
      if (!line.is_string()) return invalid_content("Expected a string array at path '" + path + ".inline'");
  return ok_status();
}

// One customizer (or in-VM validator): its type, its members, and whether it fits the OS.
Status check_customizer(json& c, const std::string& path, const std::string& os) {
  if (!c.is_object()) return invalid_content("Expected an object at path '" + path + "'");
  auto type = canonical_enum(EnumRule{path + ".type", kCustomizerTypes.values}, c.value("type", json()));
  if (!type) return std::move(type).error();
  c["type"] = *type;
  const bool windows_only = *type == "PowerShell" || *type == "WindowsRestart" || *type == "WindowsUpdate";
  if (windows_only && os != "Windows")
    return invalid("The customizer type '" + *type + "' can only be used with a Windows source image; the source is " + os + ".",
                   path + ".type");
  if (*type == "Shell" && os != "Linux")
    return invalid("The customizer type 'Shell' can only be used with a Linux source image; the source is " + os + ".",
                   path + ".type");
  if (*type == "Shell" || *type == "PowerShell") return check_script_source(c, path, type->c_str());
  if (*type == "File") {
    if (!has_text(c, "sourceUri")) return missing_parameter(path + ".sourceUri");
    if (!has_text(c, "destination")) return missing_parameter(path + ".destination");
  }
  return ok_status();
}

Status check_customizers(json& list, const std::string& path, const std::string& os) {
  if (list.is_null()) return ok_status();
  if (!list.is_array()) return invalid_content("Expected an array at path '" + path + "'");
  for (size_t i = 0; i < list.size(); ++i)
    if (auto st = check_customizer(list[i], path + "[" + std::to_string(i) + "]", os); !st) return st;
  return ok_status();
}

bool valid_run_output_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

Status check_distributor(json& d, const std::string& path, std::set<std::string>& names) {
  if (!d.is_object()) return invalid_content("Expected an object at path '" + path + "'");
  auto type = canonical_enum(EnumRule{path + ".type", kDistributorTypes.values}, d.value("type", json()));
  if (!type) return std::move(type).error();
  d["type"] = *type;
  const std::string name = json_text(d, "runOutputName");
  if (name.empty()) return missing_parameter(path + ".runOutputName");
  if (!valid_run_output_name(name))
    return invalid("The runOutputName '" + name + "' is not valid: 1 to 64 letters, digits, '-', '_' or '.'.",
                   path + ".runOutputName");
  if (!names.insert(to_lower(name)).second)
    return invalid("The runOutputName '" + name + "' is used by more than one distributor; each must be unique.",
                   path + ".runOutputName");
  if (*type == "ManagedImage") {
    if (!has_text(d, "imageId")) return missing_parameter(path + ".imageId");
    if (!has_text(d, "location")) return missing_parameter(path + ".location");
    if (to_lower(d["imageId"].get<std::string>()).find("/providers/microsoft.compute/images/") == std::string::npos)
      return invalid("The imageId '" + d["imageId"].get<std::string>() + "' is not a managed image id.", path + ".imageId");
  } else if (*type == "SharedImage") {
    if (!has_text(d, "galleryImageId")) return missing_parameter(path + ".galleryImageId");
    const std::string id = to_lower(d["galleryImageId"].get<std::string>());
    if (id.find("/providers/microsoft.compute/galleries/") == std::string::npos || id.find("/images/") == std::string::npos)
      return invalid("The galleryImageId '" + d["galleryImageId"].get<std::string>() +
                         "' is not a gallery image definition or image version id.",
                     path + ".galleryImageId");
    const bool old_regions = d.contains("replicationRegions") && d["replicationRegions"].is_array() && !d["replicationRegions"].empty();
    const bool targets = d.contains("targetRegions") && d["targetRegions"].is_array() && !d["targetRegions"].empty();
    if (!old_regions && !targets)
      return invalid("A SharedImage distributor needs at least one region in 'targetRegions' (or 'replicationRegions').",
                     path + ".targetRegions");
    if (targets)
      for (const json& r : d["targetRegions"])
        if (!has_text(r, "name")) return missing_parameter(path + ".targetRegions.name");
  }
  return ok_status();
}

// The members a client sets (the rest is read-only): compared to refuse updates.
json input_properties(const json& p) {
  json out = p.is_object() ? p : json::object();
  for (const char* key : {"provisioningState", "provisioningError", "lastRunStatus", "exactStagingResourceGroup"}) out.erase(key);
  for (auto it = out.begin(); it != out.end();)
    it = it.key().rfind("acg:", 0) == 0 ? out.erase(it) : std::next(it);
  return out;
}

class ImageTemplateType final : public ResourceType {
 public:
  std::string type() const override { return kImageTemplateType; }
  bool needs_gallery_region() const override { return false; }

  // 1..64 letters, digits, '-', '_' and '.' (the spec's imageTemplateName pattern).
  Status check_name(std::string_view name) const override {
    if (valid_run_output_name(std::string(name))) return ok_status();
    return invalid("The image template name '" + std::string(name) +
                       "' is not valid. It must match the pattern '^[A-Za-z0-9-_.]{1,64}$'.",
                   "imageTemplateName");
  }

  Status check_body(const json& body, bool patch) const override {
    if (auto st = optional_object(body, "identity", ""); !st) return st;
    if (patch) return ok_status();
    const json& p = json_member(body, "properties");
    if (!p.is_object()) return missing_parameter("properties");
    if (auto st = optional_integer(p, "buildTimeoutInMinutes", "properties", 0); !st) return st;
    if (p.contains("buildTimeoutInMinutes") && p["buildTimeoutInMinutes"].is_number_integer() &&
        p["buildTimeoutInMinutes"].get<std::int64_t>() > 960)
      return invalid("buildTimeoutInMinutes must be between 0 and 960.", "properties.buildTimeoutInMinutes");
    return ok_status();
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    if (request.patch) {
      const json& identity = json_member(request.body, "identity");
      if (identity.is_object() && !iequals(json_text(identity, "type"), "None"))
        if (auto resolved = resolve_identity(identity, lookup); !resolved) return std::move(resolved).error();
      return (*request.stored)["properties"];
    }
    auto normalised = checked_properties(request, lookup);
    if (!normalised) return normalised;
    if (request.stored) {
      const json& stored = (*request.stored)["properties"];
      if (input_properties(*normalised) != input_properties(stored))
        return bad_request("InvalidPropertyChange",
                           "Update/Upgrade of image templates is currently not supported. Please change the name of "
                           "the template you are submitting, or delete the existing template and submit it again.");
      return stored;
    }
    return normalised;
  }

  // The properties of a PUT, checked, with the service's defaults filled in.
  static Result<json> checked_properties(const WriteRequest& request, Lookup& lookup) {
    json in = json_member(request.body, "properties");
    auto identity = resolve_identity(json_member(request.body, "identity"), lookup);
    if (!identity) return std::move(identity).error();
    const std::string location = json_text(request.body, "location");
    auto os = check_source(json_member(in, "source"), request.subscription, location, lookup);
    if (!os) return std::move(os).error();
    in["source"]["type"] = *canonical_enum(kSourceTypes, in["source"]["type"]);
    if (auto st = check_customizers(in["customize"], "properties.customize", *os); !st) return std::move(st).error();
    if (in.contains("validate") && in["validate"].is_object())
      if (auto st = check_customizers(in["validate"]["inVMValidations"], "properties.validate.inVMValidations", *os); !st)
        return std::move(st).error();
    json& distribute = in["distribute"];
    if (!distribute.is_array() || distribute.empty())
      return invalid("At least one distributor is required in properties.distribute.", "properties.distribute");
    std::set<std::string> names;
    for (size_t i = 0; i < distribute.size(); ++i)
      if (auto st = check_distributor(distribute[i], "properties.distribute[" + std::to_string(i) + "]", names); !st)
        return std::move(st).error();
    for (const char* key : {"customize", "validate"})
      if (in[key].is_null()) in.erase(key);
    if (!in.contains("buildTimeoutInMinutes")) in["buildTimeoutInMinutes"] = 0;
    if (!in.contains("vmProfile")) in["vmProfile"] = {{"vmSize", ""}, {"osDiskSizeGB", 0}};
    in["exactStagingResourceGroup"] = staging_group_id(request);
    in["acg:osType"] = *os;
    return in;
  }

  void apply_members(json& resource, const json& body, const WriteRequest& request) const override {
    if (request.patch) {
      // Only the identity may change: replaced when sent, removed with type "None".
      const json& identity = json_member(body, "identity");
      if (identity.is_object() && iequals(json_text(identity, "type"), "None")) resource.erase("identity");
      if (!identity.is_object() || iequals(json_text(identity, "type"), "None")) return;
    } else if (request.stored) {
      return;
    }
    // Validated by properties(): one existing identity. Shown with its principal and client ids.
    const std::string id = json_member(body, "identity")["userAssignedIdentities"].begin().key();
    resource["identity"] = {{"type", "UserAssigned"},
                            {"userAssignedIdentities",
                             {{id, {{"principalId", identity_principal_id(id)}, {"clientId", identity_client_id(id)}}}}}};
  }

  json view(const json& stored, const std::string&) const override {
    json out = stored;
    for (auto it = out.begin(); it != out.end();) it = it.key().rfind("acg:", 0) == 0 ? out.erase(it) : std::next(it);
    if (out.contains("properties") && out["properties"].is_object()) out["properties"].erase("acg:osType");
    return out;
  }

 private:
  // IT_<rg>_<template>_<guid>, as the service names the staging group it creates.
  static std::string staging_group_id(const WriteRequest& request) {
    const std::string rg = request.parent.value("name", "");
    std::string guid = derived_guid(to_lower(request.id) + "#staging");
    return "/subscriptions/" + request.subscription + "/resourceGroups/IT_" + rg + "_" + request.name + "_" + guid;
  }
};

}  // namespace

const ResourceType& image_template_type() {
  static const ImageTemplateType type;
  return type;
}

std::string template_os_type(const json& properties) { return properties.value("acg:osType", std::string("Linux")); }

std::int64_t customizer_modelled_ms(const json& customizer) {
  const std::string type = json_text(customizer, "type");
  if (type == "File") return 30'000;
  if (type == "WindowsRestart") return 180'000;
  if (type == "WindowsUpdate") return 900'000;
  return 120'000;  // a Shell or PowerShell script
}

std::vector<BuildPhase> plan_build(const json& properties, std::int64_t start_ms, double speed) {
  std::vector<std::pair<std::string, std::int64_t>> modelled = {{"Queued", kQueueModelledMs}, {"Building", kBuildVmModelledMs}};
  std::int64_t customizing = 0;
  for (const json& c : json_member(properties, "customize").is_array() ? properties["customize"] : json::array())
    customizing += customizer_modelled_ms(c);
  modelled.push_back({"Customizing", customizing});
  if (json_member(properties, "validate").is_object()) modelled.push_back({"Validating", kValidateModelledMs});
  const size_t outputs = json_member(properties, "distribute").is_array() ? properties["distribute"].size() : 0;
  modelled.push_back({"Distributing", kCaptureModelledMs + kDistributeModelledMs * static_cast<std::int64_t>(outputs)});
  std::vector<BuildPhase> phases;
  std::int64_t modelled_end = 0;
  for (const auto& [name, ms] : modelled) {
    modelled_end += ms;
    const std::int64_t scaled = speed <= 0 ? 0 : static_cast<std::int64_t>(static_cast<double>(modelled_end) / speed);
    phases.push_back({name, start_ms + scaled, modelled_end});
  }
  return phases;
}

}  // namespace acg
