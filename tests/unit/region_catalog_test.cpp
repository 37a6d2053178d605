// Tests for emulator/region_catalog.h: the built-in catalog's contents, the
// spellings find() accepts, and the errors an override file produces.

#include "emulator/region_catalog.h"

#include <algorithm>
#include <set>
#include <string>

#include <catch2/catch.hpp>

namespace {

acg::RegionCatalog public_cloud() {
  auto catalog = acg::RegionCatalog::builtin("AzureCloud");
  REQUIRE(catalog.ok());
  return std::move(catalog).value();
}

// A minimal valid override document; tests splice one bad entry into it.
std::string override_with(const std::string& extra_entry) {
  return R"({"clouds":{"AzureCloud":[
    {"name":"eastus","displayName":"East US","latitude":"37.3719","longitude":"-79.8164",
     "pairedRegion":"westus"},
    {"name":"westus","displayName":"West US","latitude":37.783,"longitude":-122.417,
     "pairedRegion":"East US"})" +
         (extra_entry.empty() ? std::string() : "," + extra_entry) + "]}}";
}

}  // namespace

TEST_CASE("normalize_location lower-cases and drops spaces", "[region_catalog]") {
  CHECK(acg::normalize_location("West US 2") == "westus2");
  CHECK(acg::normalize_location("  WestUS2\t") == "westus2");
  CHECK(acg::normalize_location("westus2") == "westus2");
  CHECK(acg::normalize_location("") == "");
}

TEST_CASE("find accepts every spelling ARM accepts", "[region_catalog]") {
  const acg::RegionCatalog catalog = public_cloud();
  for (const char* spelling : {"westus2", "WestUS2", "West US 2", "west us 2", "WESTUS2"}) {
    INFO("spelling: " << spelling);
    const acg::Region* region = catalog.find(spelling);
    REQUIRE(region != nullptr);
    CHECK(region->name == "westus2");
    CHECK(region->display_name == "West US 2");
    CHECK(region->regional_display_name == "(US) West US 2");
    CHECK(region->geography == "United States");
    CHECK(region->geography_group == "US");
    CHECK(region->paired_region == "westcentralus");
    CHECK(region->cloud == "AzureCloud");
    CHECK(region->availability_zones);
    CHECK(region->supports_galleries);
  }
  // "West US" and "West US 2" must not be confused by the space stripping.
  REQUIRE(catalog.find("West US") != nullptr);
  CHECK(catalog.find("West US")->name == "westus");
}

TEST_CASE("find returns nullptr for unknown regions", "[region_catalog]") {
  const acg::RegionCatalog catalog = public_cloud();
  CHECK(catalog.find("westus9") == nullptr);
  CHECK(catalog.find("") == nullptr);
  CHECK(catalog.find("(US) West US 2") == nullptr);  // regional display name is not a location
  // Regions of another cloud are unknown here.
  CHECK(catalog.find("usgovvirginia") == nullptr);
  CHECK(catalog.find("chinanorth3") == nullptr);
}

TEST_CASE("access-restricted regions do not support galleries", "[region_catalog]") {
  const acg::RegionCatalog catalog = public_cloud();
  for (const char* name : {"jioindiacentral", "jioindiawest", "brazilus", "brazilsoutheast",
                           "southafricawest", "uaecentral", "australiacentral2", "francesouth",
                           "germanynorth", "norwaywest", "switzerlandwest", "swedensouth"}) {
    INFO("region: " << name);
    const acg::Region* region = catalog.find(name);
    REQUIRE(region != nullptr);
    CHECK_FALSE(region->supports_galleries);
  }

  const std::vector<std::string> names = catalog.gallery_region_display_names();
  auto listed = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  CHECK(listed("West US 2"));
  CHECK(listed("East US"));
  CHECK_FALSE(listed("Germany North"));
  CHECK_FALSE(listed("Jio India Central"));
  // Catalog order is kept: East US is the first entry of regions.json.
  REQUIRE_FALSE(names.empty());
  CHECK(names.front() == "East US");
  const auto supported = std::count_if(catalog.regions().begin(), catalog.regions().end(),
                                       [](const acg::Region& r) { return r.supports_galleries; });
  CHECK(names.size() == static_cast<std::size_t>(supported));
}

TEST_CASE("distance_km is the great-circle distance", "[region_catalog]") {
  const acg::RegionCatalog catalog = public_cloud();
  const acg::Region* westus = catalog.find("westus");
  const acg::Region* eastus = catalog.find("eastus");
  REQUIRE(westus != nullptr);
  REQUIRE(eastus != nullptr);
  const double d = catalog.distance_km(*westus, *eastus);
  // ARM puts West US in San Francisco and East US in southern Virginia:
  // ~3,720 km by haversine on the mean Earth radius.
  CHECK(d > 3600);
  CHECK(d < 4200);
  CHECK(d == Approx(3721).margin(5));
  CHECK(catalog.distance_km(*eastus, *westus) == Approx(d));
  CHECK(catalog.distance_km(*westus, *westus) == Approx(0).margin(1e-9));

  // Antipodes must not produce NaN from rounding.
  acg::Region north;
  north.latitude = 90;
  acg::Region south;
  south.latitude = -90;
  CHECK(catalog.distance_km(north, south) == Approx(20015.1).margin(1));
}

TEST_CASE("each cloud loads with its own regions", "[region_catalog]") {
  struct Expectation {
    const char* cloud;
    std::size_t count;
    std::vector<const char*> names;
  };
  const std::vector<Expectation> clouds = {
      {"AzureCloud", 59,
       {"eastus", "eastus2", "westus", "westus2", "westus3", "centralus", "northcentralus",
        "southcentralus", "westcentralus", "canadacentral", "canadaeast", "brazilsouth",
        "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "germanywestcentral",
        "switzerlandnorth", "norwayeast", "swedencentral", "polandcentral", "italynorth",
        "spaincentral", "israelcentral", "qatarcentral", "uaenorth", "southafricanorth",
        "centralindia", "southindia", "westindia", "eastasia", "southeastasia", "japaneast",
        "japanwest", "koreacentral", "koreasouth", "australiaeast", "australiasoutheast",
        "australiacentral", "mexicocentral", "newzealandnorth"}},
      {"AzureUSGovernment", 5,
       {"usgovvirginia", "usgovtexas", "usgovarizona", "usdodeast", "usdodcentral"}},
      {"AzureChinaCloud", 6,
       {"chinaeast", "chinaeast2", "chinaeast3", "chinanorth", "chinanorth2", "chinanorth3"}},
  };
  for (const Expectation& expected : clouds) {
    INFO("cloud: " << expected.cloud);
    auto catalog = acg::RegionCatalog::builtin(expected.cloud);
    REQUIRE(catalog.ok());
    CHECK(catalog->cloud() == expected.cloud);
    CHECK(catalog->regions().size() == expected.count);
    for (const char* name : expected.names) {
      INFO("region: " << name);
      const acg::Region* region = catalog->find(name);
      REQUIRE(region != nullptr);
      CHECK(region->cloud == expected.cloud);
    }
    // Every pair resolves inside the same cloud, and names are unique.
    std::set<std::string> seen;
    for (const acg::Region& region : catalog->regions()) {
      CHECK(seen.insert(region.name).second);
      CHECK(region.name == acg::normalize_location(region.name));
      CHECK_FALSE(region.display_name.empty());
      CHECK_FALSE(region.regional_display_name.empty());
      if (!region.paired_region.empty()) CHECK(catalog->find(region.paired_region) != nullptr);
    }
  }
}

TEST_CASE("builtin matches cloud names case-insensitively and rejects unknown ones",
          "[region_catalog]") {
  auto gov = acg::RegionCatalog::builtin("azureusgovernment");
  REQUIRE(gov.ok());
  CHECK(gov->cloud() == "AzureUSGovernment");
  REQUIRE(gov->find("USGov Virginia") != nullptr);
  CHECK(gov->find("USGov Virginia")->availability_zones);

  auto unknown = acg::RegionCatalog::builtin("AzureGermanCloud");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().status == 400);
  CHECK(unknown.error().code == "UnknownCloud");
  CHECK(unknown.error().message.find("AzureGermanCloud") != std::string::npos);
}

TEST_CASE("from_json loads a valid override", "[region_catalog]") {
  auto catalog = acg::RegionCatalog::from_json(override_with(""), "azurecloud");
  REQUIRE(catalog.ok());
  CHECK(catalog->cloud() == "AzureCloud");
  REQUIRE(catalog->regions().size() == 2);
  const acg::Region* eastus = catalog->find("East US");
  REQUIRE(eastus != nullptr);
  CHECK(eastus->latitude == Approx(37.3719));  // string coordinates are accepted
  CHECK(eastus->supports_galleries);           // default
  CHECK_FALSE(eastus->availability_zones);     // default
  CHECK(eastus->cloud == "AzureCloud");        // defaults to the list it sits in
  // A pair given by display name is stored as the programmatic name.
  CHECK(catalog->find("westus")->paired_region == "eastus");
}

TEST_CASE("from_json names the bad entry", "[region_catalog]") {
  struct Case {
    const char* what;
    std::string entry;
    const char* target;
  };
  const std::vector<Case> cases = {
      {"latitude out of range",
       R"({"name":"marsnorth","displayName":"Mars North","latitude":120,"longitude":0})",
       "clouds.AzureCloud[2].latitude"},
      {"latitude not numeric",
       R"({"name":"marsnorth","displayName":"Mars North","latitude":"north","longitude":0})",
       "clouds.AzureCloud[2].latitude"},
      {"unknown pair",
       R"({"name":"marsnorth","displayName":"Mars North","latitude":1,"longitude":2,
           "pairedRegion":"marssouth"})",
       "clouds.AzureCloud[2].pairedRegion"},
      {"wrong cloud",
       R"({"name":"marsnorth","displayName":"Mars North","latitude":1,"longitude":2,
           "cloud":"AzureChinaCloud"})",
       "clouds.AzureCloud[2].cloud"},
      {"bad type",
       R"({"name":"marsnorth","displayName":"Mars North","latitude":1,"longitude":2,
           "supportsGalleries":"yes"})",
       "clouds.AzureCloud[2].supportsGalleries"},
      {"display name collides with another region",
       R"({"name":"marsnorth","displayName":"east us","latitude":1,"longitude":2})",
       "clouds.AzureCloud[2].displayName"},
      {"missing display name", R"({"name":"marsnorth","latitude":1,"longitude":2})",
       "clouds.AzureCloud[2].displayName"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto result = acg::RegionCatalog::from_json(override_with(c.entry), "AzureCloud");
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().status == 400);
    CHECK(result.error().code == "InvalidRegionCatalog");
    CHECK(result.error().target == c.target);
    CHECK(result.error().message.find("marsnorth") != std::string::npos);
    CHECK(result.error().message.find("clouds.AzureCloud[2]") != std::string::npos);
  }

  SECTION("an entry without a usable name is named by its position") {
    auto result = acg::RegionCatalog::from_json(
        override_with(
            R"({"name":"Mars North","displayName":"Mars North","latitude":1,"longitude":2})"),
        "AzureCloud");
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().target == "clouds.AzureCloud[2].name");

    result = acg::RegionCatalog::from_json(override_with("42"), "AzureCloud");
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().target == "clouds.AzureCloud[2]");
  }
}

TEST_CASE("from_json rejects malformed documents and unknown clouds", "[region_catalog]") {
  auto not_json = acg::RegionCatalog::from_json("{\"clouds\":", "AzureCloud");
  REQUIRE_FALSE(not_json.ok());
  CHECK(not_json.error().code == "InvalidRegionCatalog");

  auto no_clouds = acg::RegionCatalog::from_json(R"({"regions":[]})", "AzureCloud");
  REQUIRE_FALSE(no_clouds.ok());
  CHECK(no_clouds.error().target == "clouds");

  auto empty = acg::RegionCatalog::from_json(R"({"clouds":{"AzureCloud":[]}})", "AzureCloud");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().target == "clouds.AzureCloud");

  auto other = acg::RegionCatalog::from_json(override_with(""), "AzureChinaCloud");
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == "UnknownCloud");
}
