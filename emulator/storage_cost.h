#pragma once
// What a gallery costs to keep: the storage of its image versions' replicas.
//
// Azure Compute Gallery itself is free; each replica of an image version is billed as
// managed-snapshot storage in its region, at its storage account type's price per GiB-month.
// So one version costs, per target region,
//
//     size (GiB, its OS and data disk images) x replicas in the region x price(type, region)
//
// and a definition, gallery or subscription the sum of its versions. A soft-deleted version
// keeps one replica per region until it is purged (LIMITS.md §9: "After an image is soft
// deleted, only one replica per region is retained").
//
// Everything here is a pure function over versions as ARM shows them (or as the emulator
// stores them), so the admin API (GET /_emulator/cost), `acg-emulator cost` and the
// retention planner (emulator/retention_plan.h) price the same way.
//
// The price table: emulator/data/prices.json, compiled in (approximate list prices, USD);
// an override document of the same schema is merged over it (--prices FILE, or the config
// file's "prices" object):
//   {"currency": "USD",
//    "storageAccountTypes": {"Standard_LRS": 0.05, ...},         // the baseline, per GiB-month
//    "regionMultipliers": {"brazilsouth": 1.6, ...},             // baseline x multiplier
//    "regionPrices": {"eastus": {"Standard_LRS": 0.045}, ...},   // exact figures, these win
//    "replaceDefaults": false}                                   // true: start from nothing

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "emulator/arm_error.h"

namespace acg {

class PriceTable {
 public:
  // The table compiled into the binary (parsed once per process).
  static const PriceTable& builtin();
  // `overrides` (the schema above) merged over `base`; 400 InvalidConfiguration naming the
  // member at fault.
  static Result<PriceTable> from_json(const nlohmann::json& overrides, const PriceTable& base = builtin());

  // Price of one GiB for one month of `storage_type` ("Standard_LRS") in `region` (a
  // programmatic or display name). An unknown type is priced as Standard_LRS.
  double per_gib_month(const std::string& storage_type, const std::string& region) const;
  const std::string& currency() const { return currency_; }
  nlohmann::json to_json() const;

 private:
  std::string currency_ = "USD";
  std::map<std::string, double> base_;                                // storage type -> price
  std::map<std::string, double> multipliers_;                         // normalized region -> factor
  std::map<std::string, std::map<std::string, double>> region_prices_;  // normalized region -> type -> price
};

// One target region of a version, priced.
struct RegionCost {
  std::string region;        // as the version names it: "West US 2"
  std::string storage_type;  // of its replicas
  int replicas = 1;
  double price_per_gib_month = 0;
  double monthly = 0;        // size x replicas x price
};

struct VersionCost {
  std::string id;
  std::string name;
  double size_gib = 0;         // OS + data disk images (30 when the source recorded none)
  bool soft_deleted = false;   // priced at one replica per region
  std::vector<RegionCost> regions;
  double monthly = 0;
};

// A version as ARM shows it (properties.storageProfile and publishingProfile), priced.
VersionCost version_cost(const nlohmann::json& version, const PriceTable& prices, bool soft_deleted = false);

// The definition and gallery ids a version id sits in ("" when it does not name one).
std::string definition_id_of(const std::string& version_id);
std::string gallery_id_of(const std::string& resource_id);

// The cost of everything in `scope` with its breakdown:
//   {"scope", "currency", "unit": "month", "monthlyCost", "versionCount",
//    "galleries": [{"id", "monthlyCost", "definitions": [{"id", "monthlyCost",
//        "versions": [{"id", "name", "sizeGiB", "softDeleted", "monthlyCost",
//                      "regions": [{"region", "storageAccountType", "replicas",
//                                   "pricePerGiBMonth", "monthlyCost"}]}]}]}]}
// Galleries, definitions and versions in the order given; money rounded to cents only when shown.
nlohmann::json cost_report(const std::string& scope, const std::vector<VersionCost>& versions, const PriceTable& prices);

}  // namespace acg
