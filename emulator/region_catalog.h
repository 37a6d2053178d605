#pragma once
// RegionCatalog: the Azure regions one cloud offers, so that a gallery's
// `location` and its replication target regions are checked and spelled the
// way ARM spells them.
//
// The built-in catalog is emulator/data/regions.json, compiled into the binary
// (emulator/data/embed.cmake), with one list per cloud: AzureCloud,
// AzureUSGovernment, AzureChinaCloud. An override file with the same schema
// can replace it through from_json, e.g. to test against a region that does
// not exist yet.
//
// Schema of one entry (ARM's `az account list-locations` metadata, flattened):
//   {"name": "westus2", "displayName": "West US 2",
//    "regionalDisplayName": "(US) West US 2", "geography": "United States",
//    "geographyGroup": "US", "latitude": 47.233, "longitude": -119.852,
//    "pairedRegion": "westcentralus", "availabilityZones": true,
//    "supportsGalleries": true, "cloud": "AzureCloud"}
// name, displayName, latitude and longitude are required; latitude/longitude
// may be numbers or numeric strings (ARM sends strings). Everything else is
// optional: strings default to "", availabilityZones to false,
// supportsGalleries to true, cloud to the list it sits in.
//
// A catalog is immutable once built, so sharing one between threads is safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "emulator/arm_error.h"

namespace acg {

struct Region {
  std::string name;                   // programmatic name: "westus2"
  std::string display_name;           // "West US 2"
  std::string regional_display_name;  // "(US) West US 2"
  std::string geography;              // "United States"
  std::string geography_group;        // "US"
  std::string paired_region;          // programmatic name, or "" when unpaired
  std::string cloud;                  // "AzureCloud"
  double latitude = 0;                // decimal degrees
  double longitude = 0;
  bool availability_zones = false;
  // False for access-restricted regions (in-country DR regions such as
  // germanynorth, Jio's regions): an ordinary subscription cannot place a
  // gallery or an image replica there, and the emulator says so.
  bool supports_galleries = true;
};

class RegionCatalog {
 public:
  //! The catalog compiled into the binary. `cloud` is matched
  //! case-insensitively ("azurecloud" works); an unknown cloud is an error.
  //! The embedded JSON is parsed once per process, on first use.
  static Result<RegionCatalog> builtin(std::string_view cloud);

  //! Builds the catalog for `cloud` from a document of the same schema as
  //! regions.json ({"clouds": {"AzureCloud": [...], ...}}). Every entry is
  //! validated; an error names the offending entry and field in its message
  //! and in ArmError::target (e.g. "clouds.AzureCloud[3].latitude").
  static Result<RegionCatalog> from_json(std::string_view json_text, std::string_view cloud);

  //! The region `location` names, or nullptr. Matches the programmatic name or
  //! the display name after normalize_location, so "westus2", "WestUS2",
  //! "West US 2" and "west us 2" all find West US 2.
  const Region* find(std::string_view location) const;

  //! Every region, in catalog (file) order.
  const std::vector<Region>& regions() const { return regions_; }

  //! Display names of the regions that accept galleries, in catalog order:
  //! what ARM lists when it rejects a location for Microsoft.Compute/galleries.
  std::vector<std::string> gallery_region_display_names() const;

  //! Great-circle distance between two regions (haversine, mean Earth radius).
  //! Drives simulated replication time, so only relative size matters.
  double distance_km(const Region& a, const Region& b) const;

  //! The cloud's canonical name as the catalog spells it: "AzureCloud".
  const std::string& cloud() const { return cloud_; }

 private:
  // Validates a parsed document and fills a catalog; defined in the .cpp so
  // this header needs no JSON library.
  struct Builder;

  RegionCatalog() = default;

  std::string cloud_;
  std::vector<Region> regions_;
  // normalize_location(name) and normalize_location(display_name) -> index
  // into regions_. Indices, not pointers, so copying a catalog stays valid.
  std::unordered_map<std::string, std::size_t> index_;
};

//! Lower-cases ASCII letters and drops whitespace: "West US 2" -> "westus2".
//! ARM compares locations this way, so it is also the lookup key.
std::string normalize_location(std::string_view location);

}  // namespace acg
