#include "emulator/storage_cost.h"

#include <cmath>

#include "emulator/region_catalog.h"
#include "emulator/replication.h"
#include "emulator/request_body.h"
#include "emulator/text.h"

extern const char* const acg_builtin_prices_json;  // emulator/data/prices.json, embedded

namespace acg {

using nlohmann::json;

namespace {

ArmError bad_prices(const std::string& message, const std::string& target) {
  return bad_request("InvalidConfiguration", "Price table: " + message, "prices." + target);
}

// A price or multiplier: a finite number >= 0.
Result<double> amount(const json& value, const std::string& target) {
  if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() < 0)
    return bad_prices("'" + target + "' must be a number >= 0, not " + value.dump() + ".", target);
  return value.get<double>();
}

Result<std::map<std::string, double>> amounts(const json& object, const std::string& target, bool regions) {
  std::map<std::string, double> out;
  if (object.is_null()) return out;
  if (!object.is_object()) return bad_prices("'" + target + "' must be an object.", target);
  for (const auto& [key, value] : object.items()) {
    auto a = amount(value, target + "." + key);
    if (!a) return std::move(a).error();
    out[regions ? normalize_location(key) : key] = *a;
  }
  return out;
}

double rounded(double money) { return std::round(money * 1e6) / 1e6; }

}  // namespace

const PriceTable& PriceTable::builtin() {
  static const PriceTable table = [] {
    json doc = json::parse(acg_builtin_prices_json, nullptr, false);
    auto parsed = from_json(doc, PriceTable());
    assert(parsed.ok() && "emulator/data/prices.json is invalid");
    return parsed ? *parsed : PriceTable();
  }();
  return table;
}

Result<PriceTable> PriceTable::from_json(const json& doc, const PriceTable& base) {
  if (!doc.is_object()) return bad_prices("the document must be a JSON object.", "");
  PriceTable out = doc.value("replaceDefaults", false) ? PriceTable() : base;
  if (doc.contains("currency")) {
    if (!doc["currency"].is_string() || doc["currency"].get<std::string>().empty())
      return bad_prices("'currency' must be a non-empty string (e.g. \"USD\").", "currency");
    out.currency_ = doc["currency"];
  }
  auto types = amounts(json_member(doc, "storageAccountTypes"), "storageAccountTypes", false);
  if (!types) return std::move(types).error();
  for (const auto& [k, v] : *types) out.base_[k] = v;
  auto multipliers = amounts(json_member(doc, "regionMultipliers"), "regionMultipliers", true);
  if (!multipliers) return std::move(multipliers).error();
  for (const auto& [k, v] : *multipliers) out.multipliers_[k] = v;
  const json& regional = json_member(doc, "regionPrices");
  if (!regional.is_null() && !regional.is_object()) return bad_prices("'regionPrices' must be an object.", "regionPrices");
  // (items() of null iterates nothing)
  for (const auto& [region, types_there] : regional.items()) {
    auto prices = amounts(types_there, "regionPrices." + region, false);
    if (!prices) return std::move(prices).error();
    for (const auto& [k, v] : *prices) out.region_prices_[normalize_location(region)][k] = v;
  }
  if (!out.base_.count("Standard_LRS"))
    return bad_prices("'storageAccountTypes' must price Standard_LRS (the default storage type).", "storageAccountTypes");
  return out;
}

double PriceTable::per_gib_month(const std::string& storage_type, const std::string& region) const {
  const std::string key = normalize_location(region);
  if (auto r = region_prices_.find(key); r != region_prices_.end())
    if (auto p = r->second.find(storage_type); p != r->second.end()) return p->second;
  auto base = base_.find(storage_type);
  const double baseline = base != base_.end() ? base->second : base_.at("Standard_LRS");
  auto m = multipliers_.find(key);
  return baseline * (m != multipliers_.end() ? m->second : 1.0);
}

json PriceTable::to_json() const {
  json regional = json::object();
  for (const auto& [region, types] : region_prices_) regional[region] = types;
  return {{"currency", currency_}, {"unit", "GiB-month"}, {"storageAccountTypes", base_},
          {"regionMultipliers", multipliers_}, {"regionPrices", regional}};
}

VersionCost version_cost(const json& version, const PriceTable& prices, bool soft_deleted) {
  VersionCost out;
  out.id = json_text(version, "id");
  out.name = json_text(version, "name");
  out.soft_deleted = soft_deleted;
  const json& properties = json_member(version, "properties");
  out.size_gib = source_size_gib(properties);
  const json& profile = json_member(properties, "publishingProfile");
  const std::string default_type = json_text(profile, "storageAccountType").empty()
                                       ? "Standard_LRS"
                                       : json_text(profile, "storageAccountType");
  const int default_replicas = json_member(profile, "replicaCount").is_number_integer() ? profile["replicaCount"].get<int>() : 1;
  json regions = json_member(profile, "targetRegions");
  // A version that names no target region lives in its own region only.
  if (!regions.is_array() || regions.empty()) regions = json::array({{{"name", json_text(version, "location")}}});
  for (const json& r : regions) {
    RegionCost c;
    c.region = json_text(r, "name");
    c.storage_type = json_text(r, "storageAccountType").empty() ? default_type : json_text(r, "storageAccountType");
    c.replicas = json_member(r, "regionalReplicaCount").is_number_integer() ? r["regionalReplicaCount"].get<int>()
                                                                            : default_replicas;
    if (soft_deleted) c.replicas = 1;
    c.price_per_gib_month = prices.per_gib_month(c.storage_type, c.region);
    c.monthly = out.size_gib * c.replicas * c.price_per_gib_month;
    out.monthly += c.monthly;
    out.regions.push_back(std::move(c));
  }
  return out;
}

std::string definition_id_of(const std::string& version_id) {
  const size_t at = to_lower(version_id).rfind("/versions/");
  return at == std::string::npos ? std::string() : version_id.substr(0, at);
}

std::string gallery_id_of(const std::string& resource_id) {
  const std::string lower = to_lower(resource_id);
  const size_t galleries = lower.find("/providers/microsoft.compute/galleries/");
  if (galleries == std::string::npos) return {};
  const size_t name = galleries + std::string("/providers/microsoft.compute/galleries/").size();
  const size_t end = resource_id.find('/', name);
  return resource_id.substr(0, end);
}

namespace {

json version_json(const VersionCost& v) {
  json regions = json::array();
  for (const RegionCost& r : v.regions)
    regions.push_back({{"region", r.region}, {"storageAccountType", r.storage_type}, {"replicas", r.replicas},
                       {"pricePerGiBMonth", rounded(r.price_per_gib_month)}, {"monthlyCost", rounded(r.monthly)}});
  return {{"id", v.id}, {"name", v.name}, {"sizeGiB", v.size_gib}, {"softDeleted", v.soft_deleted},
          {"monthlyCost", rounded(v.monthly)}, {"regions", regions}};
}

// The entry of `list` whose "id" equals `id` (case-insensitively), appended when absent.
json& entry(json& list, const std::string& id, const char* children) {
  for (json& e : list)
    if (iequals(e["id"].get<std::string>(), id)) return e;
  list.push_back({{"id", id}, {"monthlyCost", 0.0}, {children, json::array()}});
  return list.back();
}

}  // namespace

json cost_report(const std::string& scope, const std::vector<VersionCost>& versions, const PriceTable& prices) {
  json galleries = json::array();
  double total = 0;
  for (const VersionCost& v : versions) {
    json& gallery = entry(galleries, gallery_id_of(v.id), "definitions");
    json& definition = entry(gallery["definitions"], definition_id_of(v.id), "versions");
    definition["versions"].push_back(version_json(v));
    definition["monthlyCost"] = definition["monthlyCost"].get<double>() + v.monthly;
    gallery["monthlyCost"] = gallery["monthlyCost"].get<double>() + v.monthly;
    total += v.monthly;
  }
  for (json& g : galleries) {
    g["monthlyCost"] = rounded(g["monthlyCost"].get<double>());
    for (json& d : g["definitions"]) d["monthlyCost"] = rounded(d["monthlyCost"].get<double>());
  }
  return {{"scope", scope}, {"currency", prices.currency()}, {"unit", "month"}, {"monthlyCost", rounded(total)},
          {"versionCount", versions.size()}, {"galleries", galleries}};
}

}  // namespace acg
