#include "emulator/publishing_profile.h"

#include <set>

#include "emulator/region_catalog.h"
#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"
#include "emulator/version_name.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kStorageTypes[] = {"Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS"};
constexpr const char* kReplicationModes[] = {"Full", "Shallow"};
constexpr int kMaxReplicas = 100;
constexpr size_t kMaxTargetRegions = 50;  // a rule of this product (Azure documents none)

template <size_t N>
std::string canonical(const char* const (&allowed)[N], const std::string& value) {
  for (const char* a : allowed)
    if (iequals(a, value)) return a;
  return {};
}

Status check_count(const json& value, const std::string& path) {
  if (value.is_null()) return ok_status();
  if (!value.is_number_integer()) return invalid_content("Expected an integer at path '" + path + "'");
  const long long n = value.get<long long>();
  if (n < 1 || n > kMaxReplicas)
    return invalid_parameter("The value " + std::to_string(n) + " of parameter " + path +
                       " is out of range. The value must be between 1 and " + std::to_string(kMaxReplicas) +
                       ", inclusive",
                   path);
  return ok_status();
}

Status check_storage_type(const json& value, const std::string& path) {
  if (value.is_null()) return ok_status();
  if (!value.is_string() || canonical(kStorageTypes, value.get<std::string>()).empty())
    return invalid_parameter("The value '" + (value.is_string() ? value.get<std::string>() : value.dump()) + "' of parameter '" +
                       path + "' is not valid. Allowed values are 'Standard_LRS', 'Standard_ZRS', 'Premium_LRS', "
                       "'PremiumV2_LRS'.",
                   path);
  return ok_status();
}

Status check_target_regions(const json& profile) {
  const json& regions = json_member(profile, "targetRegions");
  if (regions.is_null()) return ok_status();
  if (!regions.is_array()) return invalid_content("Expected an array at path 'properties.publishingProfile.targetRegions'");
  for (size_t i = 0; i < regions.size(); ++i) {
    const json& r = regions[i];
    const std::string path = "properties.publishingProfile.targetRegions[" + std::to_string(i) + "]";
    if (!r.is_object() || !r.contains("name") || !r["name"].is_string())
      return invalid_parameter("Required parameter 'targetRegions[" + std::to_string(i) + "].name' is missing (null).", path + ".name");
    if (auto st = check_count(json_member(r, "regionalReplicaCount"), path + ".regionalReplicaCount"); !st) return st;
    if (auto st = check_storage_type(json_member(r, "storageAccountType"), path + ".storageAccountType"); !st) return st;
    if (auto st = optional_bool(r, "excludeFromLatest", path); !st) return st;
    if (auto st = optional_object(r, "encryption", path); !st) return st;
  }
  return ok_status();
}

}  // namespace

Status check_version_name(std::string_view name, const std::string& noun, const std::string& target) {
  if (parse_version_name(name)) return ok_status();
  return invalid_parameter("The " + noun + " version name is invalid. The " + noun +
                     " version name should follow Major(int).Minor(int).Patch(int) format, where int is between 0 and "
                     "2,147,483,647 (inclusive). For e.g: 1.0.0, 2018.12.1 etc.",
                 target);
}

Status check_publishing_profile(const json& p) {
  const json& profile = json_member(p, "publishingProfile");
  if (profile.is_null()) return ok_status();
  if (!profile.is_object()) return invalid_content("Expected an object at path 'properties.publishingProfile'");
  const std::string base = "properties.publishingProfile";
  if (auto st = check_count(json_member(profile, "replicaCount"), base + ".replicaCount"); !st) return st;
  if (auto st = optional_bool(profile, "excludeFromLatest", base); !st) return st;
  if (auto st = optional_string(profile, "endOfLifeDate", base); !st) return st;
  if (auto st = check_storage_type(json_member(profile, "storageAccountType"), base + ".storageAccountType"); !st) return st;
  const json& mode = json_member(profile, "replicationMode");
  if (!mode.is_null() && (!mode.is_string() || canonical(kReplicationModes, mode.get<std::string>()).empty()))
    return invalid_parameter("The value '" + mode.dump() + "' of parameter 'replicationMode' is not valid. Allowed values are "
                   "'Full', 'Shallow'.",
                   base + ".replicationMode");
  return check_target_regions(profile);
}


namespace {


Result<std::string> region_display_name(const std::string& name, const std::string& path, const RegionCatalog& regions,
                                        const std::string& resource_type) {
  const Region* r = regions.find(name);
  if (r && r->supports_galleries) return r->display_name;
  std::string available;
  for (const Region& each : regions.regions())
    if (each.supports_galleries) available += (available.empty() ? "" : ",") + each.name;
  return bad_request("LocationNotAvailableForResourceType",
                     "The provided location '" + name +
                         "' is not available for resource type '" + resource_type + "'. List of "
                         "available regions for the resource type is '" + available + "'.",
                     path);
}

// Zone-redundant replicas need a region with availability zones.
Status check_zone_redundancy(const std::string& storage_type, const std::string& region_name,
                             const RegionCatalog& regions, const std::string& path) {
  if (storage_type != "Standard_ZRS") return ok_status();
  const Region* region = regions.find(region_name);
  if (!region || region->availability_zones) return ok_status();
  return invalid_parameter("The storage account type 'Standard_ZRS' is not supported in region '" + region->display_name +
                               "': it has no availability zones. Use 'Standard_LRS' or 'Premium_LRS' there.",
                           path.substr(0, path.rfind('.')) + ".storageAccountType");
}

}  // namespace

Result<json> build_publishing_profile(const json& wanted, const json* stored, const std::string& location,
                                      Lookup& lookup, const PublishingRules& rules) {
  json out = stored ? *stored : json::object();
  for (auto& [key, value] : wanted.items()) {
    if (key == "publishedDate") continue;
    if (value.is_null()) out.erase(key);
    else out[key] = value;
  }
  if (out.contains("storageAccountType"))
    out["storageAccountType"] = canonical(kStorageTypes, out["storageAccountType"].get<std::string>());
  if (out.contains("replicationMode"))
    out["replicationMode"] = canonical(kReplicationModes, out["replicationMode"].get<std::string>());
  if (rules.future_end_of_life)
    if (auto st = check_end_of_life_date(out, "properties.publishingProfile.endOfLifeDate", lookup.now_ms()); !st)
      return std::move(st).error();

  const json defaults_storage = out.value("storageAccountType", "Standard_LRS");
  const int default_count = out.value("replicaCount", 1);
  const RegionCatalog& catalog = lookup.regions();
  const std::string home = catalog.find(location) ? catalog.find(location)->display_name : location;
  json regions = out.contains("targetRegions") ? out["targetRegions"] : json::array({{{"name", location}}});
  if (regions.size() > kMaxTargetRegions)
    return invalid_parameter("A version can be replicated to at most " + std::to_string(kMaxTargetRegions) +
                                 " target regions; the publishing profile names " + std::to_string(regions.size()) + ".",
                             "properties.publishingProfile.targetRegions");
  std::set<std::string> seen;
  bool has_home = false;
  for (size_t i = 0; i < regions.size(); ++i) {
    json& r = regions[i];
    const std::string path = "properties.publishingProfile.targetRegions[" + std::to_string(i) + "].name";
    auto display = region_display_name(r["name"], path, catalog, rules.resource_type);
    if (!display) return std::move(display).error();
    if (!seen.insert(normalize_location(*display)).second)
      return invalid_parameter("Duplicate regions are not allowed in target publishing regions.", "properties.publishingProfile.targetRegions");
    if (iequals(normalize_location(*display), normalize_location(home))) has_home = true;
    r["name"] = *display;
    // An update restating a region without its encryption keeps the region's encryption:
    // existing replicas stay encrypted with the keys they were made with.
    if (stored && !r.contains("encryption"))
      for (const json& before : json_member(*stored, "targetRegions"))
        if (normalize_location(json_text(before, "name")) == normalize_location(*display) && before.contains("encryption"))
          r["encryption"] = before["encryption"];
    if (!r.contains("regionalReplicaCount") || r["regionalReplicaCount"].is_null()) r["regionalReplicaCount"] = default_count;
    if (!r.contains("storageAccountType") || r["storageAccountType"].is_null()) r["storageAccountType"] = defaults_storage;
    r["storageAccountType"] = canonical(kStorageTypes, r["storageAccountType"].get<std::string>());
    if (auto st = check_zone_redundancy(r["storageAccountType"], *display, catalog, path); !st) return std::move(st).error();
    // A region without its own flag follows the version's: it is stored without one (so a
    // later change of the version's flag applies to it) and shown with it (version_view).
    if (r.contains("excludeFromLatest") && r["excludeFromLatest"].is_null()) r.erase("excludeFromLatest");
  }
  if (!has_home) {
    std::string names;
    for (const json& r : regions) names += (names.empty() ? "" : ", ") + r["name"].get<std::string>();
    return invalid_parameter("Gallery image version publishing profile regions '" + names +
                       "' must contain the location of image version '" + home + "'.",
                   "properties.publishingProfile.targetRegions");
  }
  out["targetRegions"] = regions;
  if (!out.contains("replicaCount")) out["replicaCount"] = 1;
  if (!out.contains("excludeFromLatest")) out["excludeFromLatest"] = false;
  if (!out.contains("storageAccountType")) out["storageAccountType"] = "Standard_LRS";
  return out;
}

Status check_fixed_publishing(const json& stored, const json& wanted, const std::string& owner) {
  for (const char* key : {"storageAccountType", "replicationMode"}) {
    const json& v = json_member(wanted, key);
    if (v.is_string() && !iequals(json_text(stored, key), v.get<std::string>()))
      return conflict("PropertyChangeNotAllowed", "Changing property '" + owner + ".properties.publishingProfile." +
                                                      key + "' is not allowed.");
  }
  return ok_status();
}

// A replicated region may be removed only when the safety profile allows it.
Status check_region_removal(const json& stored_props, const json& new_profile) {
  const json& safety = json_member(stored_props, "safetyProfile");
  if (json_member(safety, "allowDeletionOfReplicatedLocations") != json(false)) return ok_status();
  std::set<std::string> kept;
  for (const json& r : new_profile["targetRegions"]) kept.insert(normalize_location(r["name"].get<std::string>()));
  for (const json& r : json_member(json_member(stored_props, "publishingProfile"), "targetRegions"))
    if (!kept.count(normalize_location(r["name"].get<std::string>())))
      return conflict("OperationNotAllowed",
                      "Removing the replicated region '" + r["name"].get<std::string>() +
                          "' is not allowed because safetyProfile.allowDeletionOfReplicatedLocations is false.");
  return ok_status();
}


json version_view(const json& stored) {
  json view = stored;
  json& profile = view["properties"]["publishingProfile"];
  if (profile.is_object() && profile["targetRegions"].is_array())
    for (json& region : profile["targetRegions"])
      if (!region.contains("excludeFromLatest")) region["excludeFromLatest"] = profile.value("excludeFromLatest", false);
  return view;
}

}  // namespace acg
