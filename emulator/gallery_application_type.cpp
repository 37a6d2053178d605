// Gallery applications (Microsoft.Compute/galleries/applications) and their versions
// (.../applications/{a}/versions): VM application packages published like image versions.
// Rules: supportedOSType required and fixed; version names Major.Minor.Patch;
// publishingProfile.source.mediaLink required; manageActions install and remove required;
// target regions as for image versions; package and config file names at most 4096 characters.

#include <cctype>

#include "emulator/clock.h"
#include "emulator/publishing_profile.h"
#include "emulator/request_body.h"
#include "emulator/resource_type.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"
#include "emulator/version_name.h"

namespace acg {

using nlohmann::json;

namespace {

ArmError missing(const std::string& path) {
  return invalid_parameter("Required parameter '" + path + "' is missing (null).", "properties." + path);
}

// Application names: letters, digits, hyphens and periods, starting and ending with a letter
// or digit, 1-80 characters.
Status check_application_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 80 && std::isalnum(static_cast<unsigned char>(name.front())) &&
            std::isalnum(static_cast<unsigned char>(name.back()));
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') ok = false;
  if (ok) return ok_status();
  return invalid_parameter("The entity name '" + std::string(name) +
                     "' is invalid. Gallery application names may contain alphanumerics, hyphens and periods, start "
                     "and end with an alphanumeric, and be at most 80 characters long.",
                 "galleryApplicationName");
}

Result<std::string> os_type(const json& value) {
  for (const char* os : {"Windows", "Linux"})
    if (value.is_string() && iequals(os, value.get<std::string>())) return std::string(os);
  return invalid_parameter("The value '" + (value.is_string() ? value.get<std::string>() : value.dump()) +
                     "' of parameter 'supportedOSType' is not valid. Allowed values are 'Windows', 'Linux'.",
                 "properties.supportedOSType");
}

Status check_custom_actions(const json& parent, const std::string& path) {
  const json& actions = json_member(parent, "customActions");
  if (actions.is_null()) return ok_status();
  if (!actions.is_array()) return invalid_content("Expected an array at path '" + path + ".customActions'");
  for (const json& a : actions)
    if (!a.is_object() || !json_member(a, "name").is_string() || !json_member(a, "script").is_string())
      return invalid_parameter("Each custom action needs a 'name' and a 'script'.", path + ".customActions");
  return ok_status();
}

class GalleryApplicationType final : public ResourceType {
 public:
  std::string type() const override { return "Microsoft.Compute/galleries/applications"; }
  const ResourceType* parent() const override { return &gallery_type(); }
  Status check_name(std::string_view name) const override { return check_application_name(name); }

  Status check_body(const json& body, bool patch) const override {
    const json& p = json_member(body, "properties");
    if (!p.is_object()) return patch ? ok_status() : missing("properties");
    for (const char* key : {"description", "eula", "privacyStatementUri", "releaseNoteUri", "endOfLifeDate"})
      if (auto st = optional_string(p, key, "properties"); !st) return st;
    if (auto st = check_custom_actions(p, "properties"); !st) return st;
    const json& os = json_member(p, "supportedOSType");
    if (os.is_null()) return patch ? ok_status() : missing("supportedOSType");
    if (auto v = os_type(os); !v) return std::move(v).error();
    return ok_status();
  }

  Result<json> properties(const WriteRequest& request, Lookup&) const override {
    json in = json_member(request.body, "properties");
    if (!in.is_object()) in = json::object();
    json out = request.stored ? (*request.stored)["properties"] : json::object();
    if (request.stored && !request.patch)
      for (const char* key : {"description", "eula", "privacyStatementUri", "releaseNoteUri", "endOfLifeDate", "customActions"})
        out.erase(key);
    if (in.contains("supportedOSType") && !in["supportedOSType"].is_null()) {
      const std::string wanted = *os_type(in["supportedOSType"]);
      if (request.stored && !iequals(json_text(out, "supportedOSType"), wanted))
        return conflict("PropertyChangeNotAllowed",
                        "Changing property 'galleryApplication.properties.supportedOSType' is not allowed.");
      in["supportedOSType"] = wanted;
    }
    for (auto& [key, value] : in.items()) {
      if (key == "provisioningState") continue;
      if (value.is_null()) out.erase(key);
      else out[key] = value;
    }
    return out;
  }
};

Status check_application_source(const json& profile, bool patch) {
  const json& source = json_member(profile, "source");
  if (source.is_null()) return patch ? ok_status() : missing("publishingProfile.source");
  if (!source.is_object()) return invalid_content("Expected an object at path 'properties.publishingProfile.source'");
  if (!json_member(source, "mediaLink").is_string() || json_text(source, "mediaLink").empty())
    return missing("publishingProfile.source.mediaLink");
  return optional_string(source, "defaultConfigurationLink", "properties.publishingProfile.source");
}

Status check_manage_actions(const json& profile, bool patch) {
  const json& manage = json_member(profile, "manageActions");
  if (manage.is_null()) return patch ? ok_status() : missing("publishingProfile.manageActions");
  if (!manage.is_object()) return invalid_content("Expected an object at path 'properties.publishingProfile.manageActions'");
  for (const char* required : {"install", "remove"})
    if (!json_member(manage, required).is_string())
      return missing(std::string("publishingProfile.manageActions.") + required);
  return optional_string(manage, "update", "properties.publishingProfile.manageActions");
}

Status check_settings(const json& profile) {
  const json& settings = json_member(profile, "settings");
  if (settings.is_null()) return ok_status();
  if (!settings.is_object()) return invalid_content("Expected an object at path 'properties.publishingProfile.settings'");
  for (const char* key : {"packageFileName", "configFileName"}) {
    if (auto st = optional_string(settings, key, "properties.publishingProfile.settings"); !st) return st;
    if (json_text(settings, key).size() > 4096)
      return invalid_parameter(std::string("The value of '") + key + "' exceeds the maximum length of 4096 characters.",
                     std::string("properties.publishingProfile.settings.") + key);
  }
  return ok_status();
}

class GalleryApplicationVersionType final : public ResourceType {
 public:
  json view(const json& stored, const std::string&) const override { return version_view(stored); }
  bool replicates() const override { return true; }
  std::string type() const override { return "Microsoft.Compute/galleries/applications/versions"; }
  const ResourceType* parent() const override { return &gallery_application_type(); }

  Status check_name(std::string_view name) const override {
    return check_version_name(name, "gallery application", "galleryApplicationVersionName");
  }

  Status check_body(const json& body, bool patch) const override {
    const json& p = json_member(body, "properties");
    if (!p.is_object()) return patch ? ok_status() : missing("properties");
    if (auto st = check_publishing_profile(p); !st) return st;
    const json& profile = json_member(p, "publishingProfile");
    if (profile.is_null()) return patch ? ok_status() : missing("publishingProfile");
    if (auto st = check_application_source(profile, patch); !st) return st;
    if (auto st = check_manage_actions(profile, patch); !st) return st;
    if (auto st = check_settings(profile); !st) return st;
    if (auto st = optional_bool(profile, "enableHealthCheck", "properties.publishingProfile"); !st) return st;
    if (auto st = optional_object(profile, "advancedSettings", "properties.publishingProfile"); !st) return st;
    if (auto st = check_custom_actions(profile, "properties.publishingProfile"); !st) return st;
    if (auto st = optional_object(p, "safetyProfile", "properties"); !st) return st;
    return optional_bool(json_member(p, "safetyProfile"), "allowDeletionOfReplicatedLocations", "properties.safetyProfile");
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    const json& in = json_member(request.body, "properties");
    const json* stored = request.stored ? &(*request.stored)["properties"] : nullptr;
    const std::string location =
        request.stored ? json_text(*request.stored, "location") : json_text(request.body, "location");
    json out = stored ? *stored : json::object();
    json wanted = json_member(in, "publishingProfile");
    if (!wanted.is_object()) wanted = json::object();
    if (stored) {
      if (auto st = check_fixed_publishing(out["publishingProfile"], wanted, "galleryApplicationVersion"); !st)
        return std::move(st).error();
      if (wanted.contains("source") && !iequals(json_text(wanted["source"], "mediaLink"),
                                                json_text(out["publishingProfile"]["source"], "mediaLink")))
        return conflict("PropertyChangeNotAllowed",
                        "Changing property 'galleryApplicationVersion.properties.publishingProfile.source.mediaLink' "
                        "is not allowed.");
    }
    // The examples publish with a past end of life: for applications it is informational.
    auto profile = build_publishing_profile(wanted, stored ? &out["publishingProfile"] : nullptr, location, lookup,
                                            PublishingRules{type(), false});
    if (!profile) return std::move(profile).error();
    if (stored)
      if (auto st = check_region_removal(*stored, *profile); !st) return std::move(st).error();
    if (!stored) {
      (*profile)["publishedDate"] = format_arm_time(lookup.now_ms());
      if (!profile->contains("enableHealthCheck")) (*profile)["enableHealthCheck"] = false;
    }
    out["publishingProfile"] = *profile;
    json safety = out.value("safetyProfile", json{{"allowDeletionOfReplicatedLocations", true}});
    const json& safety_in = json_member(in, "safetyProfile");
    if (json_member(safety_in, "allowDeletionOfReplicatedLocations").is_boolean())
      safety["allowDeletionOfReplicatedLocations"] = safety_in["allowDeletionOfReplicatedLocations"];
    out["safetyProfile"] = safety;
    return out;
  }
};

}  // namespace

const ResourceType& gallery_application_type() {
  static const GalleryApplicationType type;
  return type;
}

const ResourceType& gallery_application_version_type() {
  static const GalleryApplicationVersionType type;
  return type;
}

}  // namespace acg
