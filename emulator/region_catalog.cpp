#include "emulator/region_catalog.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

// Defined in the file embed.cmake generates from emulator/data/regions.json.
extern const char* const acg_builtin_regions_json;

namespace acg {

namespace {

using nlohmann::json;

constexpr const char* kInvalidCatalog = "InvalidRegionCatalog";

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// Finds `key` among an object's members ignoring case: cloud names come from
// configuration and ARM treats them case-insensitively.
json::const_iterator find_ignoring_case(const json& object, std::string_view key) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (iequals(it.key(), key)) return it;
  }
  return object.end();
}

std::string member_names(const json& object) {
  std::string names;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!names.empty()) names += ", ";
    names += it.key();
  }
  return names;
}

// Reads a coordinate that ARM sends as a string ("47.233") and hand-written
// files usually give as a number. Rejects trailing junk and non-finite values.
std::optional<double> coordinate(const json& value) {
  double parsed = 0;
  if (value.is_number()) {
    parsed = value.get<double>();
  } else if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, parsed);
    if (ec != std::errc{} || ptr != end) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(parsed)) return std::nullopt;
  return parsed;
}

struct BuiltinCloud {
  std::string name;  // as regions.json spells it: "AzureCloud"
  Result<RegionCatalog> catalog;
};

}  // namespace

std::string normalize_location(std::string_view location) {
  std::string key;
  key.reserve(location.size());
  for (char c : location) {
    if (!is_ascii_space(c)) key.push_back(ascii_lower(c));
  }
  return key;
}

// Turns one cloud's list in a parsed document into a catalog, or reports the
// first entry that is wrong. Every message names the entry by its path and,
// when it has one, its name, so a typo in a 60-entry override file is found
// without counting.
struct RegionCatalog::Builder {
  std::string cloud_key_;  // the cloud as the document spells it
  std::string list_path_;  // "clouds.AzureCloud"
  RegionCatalog catalog_;

  std::string entry_path(std::size_t i) const {
    return list_path_ + "[" + std::to_string(i) + "]";
  }

  ArmError entry_error(std::size_t i, std::string_view entry_name, std::string_view field,
                       std::string_view problem) const {
    std::string message = "Region entry " + entry_path(i);
    if (!entry_name.empty()) message += " ('" + std::string(entry_name) + "')";
    message += ": ";
    message += problem;
    std::string target = entry_path(i);
    if (!field.empty()) target += "." + std::string(field);
    return bad_request(kInvalidCatalog, std::move(message), std::move(target));
  }

  // Optional string member: absent or null means "", anything but a string is
  // an error.
  std::optional<ArmError> read_string(const json& entry, std::size_t i, std::string_view name,
                                      const char* field, std::string& out) const {
    auto it = entry.find(field);
    if (it == entry.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
      return entry_error(i, name, field, std::string("'") + field + "' must be a string.");
    }
    out = it->get<std::string>();
    return std::nullopt;
  }

  std::optional<ArmError> read_bool(const json& entry, std::size_t i, std::string_view name,
                                    const char* field, bool& out) const {
    auto it = entry.find(field);
    if (it == entry.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) {
      return entry_error(i, name, field, std::string("'") + field + "' must be true or false.");
    }
    out = it->get<bool>();
    return std::nullopt;
  }

  std::optional<ArmError> read_coordinate(const json& entry, std::size_t i, std::string_view name,
                                          const char* field, double limit, double& out) const {
    const std::string problem = std::string("'") + field + "' must be a number between " +
                                std::to_string(static_cast<int>(-limit)) + " and " +
                                std::to_string(static_cast<int>(limit)) + ".";
    auto it = entry.find(field);
    if (it == entry.end() || it->is_null()) return entry_error(i, name, field, problem);
    std::optional<double> value = coordinate(*it);
    if (!value || *value < -limit || *value > limit) return entry_error(i, name, field, problem);
    out = *value;
    return std::nullopt;
  }

  // Both spellings of a region are lookup keys; two regions must never share
  // one, or find() would answer differently depending on file order.
  std::optional<ArmError> add_key(std::size_t i, const Region& region, const char* field,
                                  std::string key) {
    auto [it, inserted] = catalog_.index_.emplace(std::move(key), i);
    if (!inserted && it->second != i) {
      return entry_error(i, region.name, field,
                         std::string("'") + field + "' collides with region '" +
                             catalog_.regions_[it->second].name + "' (locations are compared "
                             "case-insensitively, ignoring spaces).");
    }
    return std::nullopt;
  }

  std::optional<ArmError> add_entry(const json& entry, std::size_t i) {
    if (!entry.is_object()) return entry_error(i, {}, {}, "must be an object.");

    Region region;
    // The name comes first so every later message can quote it.
    auto name_it = entry.find("name");
    if (name_it == entry.end() || !name_it->is_string() ||
        name_it->get_ref<const std::string&>().empty()) {
      return entry_error(i, {}, "name", "'name' is required and must be a non-empty string.");
    }
    region.name = name_it->get<std::string>();
    const bool name_is_programmatic =
        std::all_of(region.name.begin(), region.name.end(),
                    [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
    if (!name_is_programmatic) {
      return entry_error(i, region.name, "name",
                         "'name' must be a programmatic region name: lower-case letters and "
                         "digits only, e.g. 'westus2'.");
    }

    const std::string& name = region.name;
    if (auto e = read_string(entry, i, name, "displayName", region.display_name)) return e;
    if (normalize_location(region.display_name).empty()) {
      return entry_error(i, name, "displayName",
                         "'displayName' is required and must be a non-empty string.");
    }
    if (auto e = read_string(entry, i, name, "regionalDisplayName", region.regional_display_name))
      return e;
    if (auto e = read_string(entry, i, name, "geography", region.geography)) return e;
    if (auto e = read_string(entry, i, name, "geographyGroup", region.geography_group)) return e;
    if (auto e = read_string(entry, i, name, "pairedRegion", region.paired_region)) return e;
    if (auto e = read_string(entry, i, name, "cloud", region.cloud)) return e;
    if (auto e = read_coordinate(entry, i, name, "latitude", 90, region.latitude)) return e;
    if (auto e = read_coordinate(entry, i, name, "longitude", 180, region.longitude)) return e;
    if (auto e = read_bool(entry, i, name, "availabilityZones", region.availability_zones))
      return e;
    if (auto e = read_bool(entry, i, name, "supportsGalleries", region.supports_galleries))
      return e;

    // An entry filed under the wrong cloud is almost certainly a copy-paste
    // slip; serving it would let a gallery land in a region its cloud lacks.
    if (!region.cloud.empty() && !iequals(region.cloud, cloud_key_)) {
      return entry_error(i, name, "cloud",
                         "'cloud' is '" + region.cloud + "' but the entry is listed under '" +
                             cloud_key_ + "'.");
    }
    region.cloud = cloud_key_;

    catalog_.regions_.push_back(std::move(region));
    const Region& added = catalog_.regions_.back();
    if (auto e = add_key(i, added, "name", added.name)) return e;
    if (auto e = add_key(i, added, "displayName", normalize_location(added.display_name))) return e;
    return std::nullopt;
  }

  // Pairs are checked once every region is known, because a pair usually
  // points forward in the file (eastus -> westus).
  std::optional<ArmError> resolve_pairs() {
    for (std::size_t i = 0; i < catalog_.regions_.size(); ++i) {
      Region& region = catalog_.regions_[i];
      if (region.paired_region.empty()) continue;
      auto it = catalog_.index_.find(normalize_location(region.paired_region));
      if (it == catalog_.index_.end()) {
        return entry_error(i, region.name, "pairedRegion",
                           "'pairedRegion' names '" + region.paired_region +
                               "', which is not a region of " + cloud_key_ + ".");
      }
      if (it->second == i) {
        return entry_error(i, region.name, "pairedRegion",
                           "a region cannot be paired with itself.");
      }
      // Store the programmatic name even if the file used the display name.
      region.paired_region = catalog_.regions_[it->second].name;
    }
    return std::nullopt;
  }

  static Result<RegionCatalog> build(const json& doc, std::string_view cloud) {
    if (!doc.is_object()) {
      return bad_request(kInvalidCatalog, "A region catalog must be a JSON object.");
    }
    auto clouds = doc.find("clouds");
    if (clouds == doc.end() || !clouds->is_object()) {
      return bad_request(kInvalidCatalog,
                         "A region catalog needs a 'clouds' object mapping cloud names to "
                         "region lists.",
                         "clouds");
    }
    auto list = find_ignoring_case(*clouds, cloud);
    if (list == clouds->end()) {
      return bad_request("UnknownCloud",
                         "Cloud '" + std::string(cloud) +
                             "' is not in the region catalog; it has: " + member_names(*clouds) +
                             ".",
                         "cloud");
    }

    Builder builder;
    builder.cloud_key_ = list.key();
    builder.list_path_ = "clouds." + builder.cloud_key_;
    builder.catalog_.cloud_ = builder.cloud_key_;

    if (!list->is_array() || list->empty()) {
      return bad_request(kInvalidCatalog,
                         "'" + builder.list_path_ + "' must be a non-empty array of regions.",
                         builder.list_path_);
    }
    builder.catalog_.regions_.reserve(list->size());
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (auto e = builder.add_entry((*list)[i], i)) return std::move(*e);
    }
    if (auto e = builder.resolve_pairs()) return std::move(*e);
    return std::move(builder.catalog_);
  }

  // Every cloud in the embedded file, parsed once and validated. Errors are
  // kept per cloud rather than dropped, so a broken entry in one cloud leaves
  // the others usable and builtin() can still report which entry is wrong.
  // An empty vector means the file itself did not parse.
  static std::vector<BuiltinCloud> load_builtin() {
    std::vector<BuiltinCloud> clouds;
    try {
      std::string_view text = acg_builtin_regions_json;
      json doc = json::parse(text.begin(), text.end(), nullptr, false);
      if (doc.is_discarded() || !doc.is_object()) return clouds;
      auto list = doc.find("clouds");
      if (list == doc.end() || !list->is_object()) return clouds;
      for (auto it = list->begin(); it != list->end(); ++it) {
        clouds.push_back(BuiltinCloud{it.key(), build(doc, it.key())});
      }
    } catch (const std::exception&) {
      clouds.clear();  // only allocation failure gets here
    }
    return clouds;
  }
};

Result<RegionCatalog> RegionCatalog::from_json(std::string_view json_text, std::string_view cloud) {
  // Only allocation failure can throw below; keep it from escaping as promised.
  try {
    json doc = json::parse(json_text.begin(), json_text.end(), nullptr, false);
    if (doc.is_discarded()) {
      return bad_request(kInvalidCatalog, "The region catalog is not valid JSON.");
    }
    return Builder::build(doc, cloud);
  } catch (const std::exception& e) {
    return internal_error(std::string("Loading the region catalog failed: ") + e.what());
  }
}

Result<RegionCatalog> RegionCatalog::builtin(std::string_view cloud) {
  // A function-local static is initialised exactly once even when several
  // threads ask at the same time ([stmt.dcl]/4), so no mutex is needed.
  static const std::vector<BuiltinCloud> clouds = Builder::load_builtin();
  if (clouds.empty()) {
    // The embedded file is part of the build, so this is a packaging bug.
    return internal_error("The built-in region catalog could not be parsed.");
  }
  for (const BuiltinCloud& entry : clouds) {
    if (iequals(entry.name, cloud)) return entry.catalog;
  }
  std::string known;
  for (const BuiltinCloud& entry : clouds) {
    if (!known.empty()) known += ", ";
    known += entry.name;
  }
  return bad_request("UnknownCloud",
                     "Cloud '" + std::string(cloud) + "' is not known; expected one of: " + known +
                         ".",
                     "cloud");
}

const Region* RegionCatalog::find(std::string_view location) const {
  auto it = index_.find(normalize_location(location));
  return it == index_.end() ? nullptr : &regions_[it->second];
}

std::vector<std::string> RegionCatalog::gallery_region_display_names() const {
  std::vector<std::string> names;
  for (const Region& region : regions_) {
    if (region.supports_galleries) names.push_back(region.display_name);
  }
  return names;
}

double RegionCatalog::distance_km(const Region& a, const Region& b) const {
  constexpr double kEarthRadiusKm = 6371.0088;  // IUGG mean radius
  constexpr double kPi = 3.14159265358979323846;
  constexpr double kRadiansPerDegree = kPi / 180.0;
  const double lat1 = a.latitude * kRadiansPerDegree;
  const double lat2 = b.latitude * kRadiansPerDegree;
  const double dlat = lat2 - lat1;
  const double dlon = (b.longitude - a.longitude) * kRadiansPerDegree;
  const double s = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1) * std::cos(lat2) * std::sin(dlon / 2) * std::sin(dlon / 2);
  // Rounding can push s a hair past 1 for antipodal points; asin would NaN.
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(std::clamp(s, 0.0, 1.0)));
}

}  // namespace acg
