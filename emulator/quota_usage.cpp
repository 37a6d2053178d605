// The Emulator's side of the subscription quotas (emulator/quotas.h): the check inside a
// create's transaction, the usages list, and the admin API's overrides, kept in one meta value
// {"<subscription>": {"galleries": N, ...}} so a restart keeps them.

#include "emulator/emulator.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kOverridesKey = "quota.overrides";

ArmError unknown_location(const std::string& location, const RegionCatalog& regions) {
  std::string available;
  for (const Region& r : regions.regions())
    if (r.supports_galleries) available += (available.empty() ? "" : ",") + r.name;
  return bad_request("LocationNotAvailableForResourceType",
                     "The provided location '" + location +
                         "' is not available for resource type 'Microsoft.Compute/locations/usages'. List of "
                         "available regions for the resource type is '" +
                         available + "'.");
}

json limits_json(const QuotaLimits& limits) {
  json out = json::object();
  for (const auto& [key, value] : limits) out[key] = value;
  return out;
}

}  // namespace

Result<std::map<std::string, QuotaLimits>> Emulator::quota_overrides_locked() {
  std::map<std::string, QuotaLimits> out;
  auto text = store_->get_meta(kOverridesKey);
  if (!text.ok()) return internal_error(text.error().message);
  if (text.value().empty()) return out;
  json all = json::parse(text.value(), nullptr, false);
  if (!all.is_object()) return out;
  for (const auto& [sub, limits] : all.items()) {
    auto parsed = quota_limits_from_json(limits, "quota.overrides." + sub, false);
    if (parsed) out[sub] = std::move(*parsed);
  }
  return out;
}

Status Emulator::check_quota(const ResourceType& type, const std::string& sub, const std::string& location) {
  const QuotaKind* kind = quota_for_type(type.type());
  if (!kind) return ok_status();
  auto overrides = quota_overrides_locked();
  if (!overrides) return std::move(overrides).error();
  const std::int64_t limit = effective_limit(*kind, sub, settings_.quotas, *overrides);
  auto usage = store_->count_in_location("/subscriptions/" + sub, kind->resource_type, location);
  if (!usage.ok()) return internal_error(usage.error().message);
  if (usage.value() + 1 > limit) return quota_exceeded(*kind, sub, location, limit, usage.value());
  return ok_status();
}

Result<std::vector<json>> Emulator::usages(const std::string& sub, const std::string& location) {
  return read<std::vector<json>>([&]() -> Result<std::vector<json>> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    const Region* region = regions_.find(location);
    if (!region) return unknown_location(location, regions_);
    auto overrides = quota_overrides_locked();
    if (!overrides) return std::move(overrides).error();
    const std::string canonical_sub = identities_.find_subscription(sub)->id;
    std::vector<json> out;
    for (const QuotaKind& kind : quota_kinds()) {
      auto usage = store_->count_in_location("/subscriptions/" + canonical_sub, kind.resource_type, region->name);
      if (!usage.ok()) return internal_error(usage.error().message);
      out.push_back(usage_json(kind, usage.value(), effective_limit(kind, canonical_sub, settings_.quotas, *overrides)));
    }
    return out;
  });
}

// {"subscriptionId", "limits": {key: N}, "sources": {key: "adminApi"|"config"|"configDefault"|"documented"},
//  "overrides": {...}, "usage": [{"location", key: N...}]}
json Emulator::quotas_locked(const std::string& sub) {
  auto overrides = quota_overrides_locked();
  const std::map<std::string, QuotaLimits> none;
  const auto& admin = overrides ? *overrides : none;
  const std::string key = to_lower(sub);
  json limits = json::object(), sources = json::object();
  for (const QuotaKind& kind : quota_kinds()) {
    limits[kind.key] = effective_limit(kind, sub, settings_.quotas, admin);
    auto has = [&](const std::map<std::string, QuotaLimits>& per_sub) {
      auto it = per_sub.find(key);
      return it != per_sub.end() && it->second.count(kind.key) > 0;
    };
    sources[kind.key] = has(admin)                                      ? "adminApi"
                        : has(settings_.quotas.subscriptions)           ? "config"
                        : settings_.quotas.defaults.count(kind.key) > 0 ? "configDefault"
                                                                        : "documented";
  }
  std::map<std::string, json> by_location;
  for (const QuotaKind& kind : quota_kinds()) {
    auto counted = store_->count_by_location("/subscriptions/" + sub, kind.resource_type);
    if (!counted.ok()) continue;
    for (const auto& [location, count] : counted.value()) {
      json& entry = by_location[location];
      if (entry.is_null()) {
        entry = {{"location", location}};
        for (const QuotaKind& k : quota_kinds()) entry[k.key] = 0;
      }
      entry[kind.key] = count;
    }
  }
  json usage = json::array();
  for (auto& [location, entry] : by_location) usage.push_back(std::move(entry));
  auto mine = admin.find(key);
  return {{"subscriptionId", sub},
          {"limits", limits},
          {"sources", sources},
          {"overrides", mine == admin.end() ? json::object() : limits_json(mine->second)},
          {"usage", usage}};
}

Result<json> Emulator::quotas_of(const std::string& sub) {
  return read<json>([&]() -> Result<json> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    return quotas_locked(identities_.find_subscription(sub)->id);
  });
}

Result<json> Emulator::set_quota_overrides(const std::string& sub, const json& limits) {
  auto parsed = quota_limits_from_json(limits, "body", true);
  if (!parsed) {
    ArmError e = std::move(parsed).error();
    e.code = "InvalidRequestContent";  // a request of the admin API, not the config file
    return e;
  }
  return write<json>([&]() -> Result<json> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    const std::string canonical = identities_.find_subscription(sub)->id;
    auto overrides = quota_overrides_locked();
    if (!overrides) return std::move(overrides).error();
    QuotaLimits& mine = (*overrides)[to_lower(canonical)];
    for (const auto& [key, value] : *parsed) {
      if (value < 0) mine.erase(key);  // null: back to the config file's or the documented limit
      else mine[key] = value;
    }
    json all = json::object();
    for (const auto& [s, l] : *overrides)
      if (!l.empty()) all[s] = limits_json(l);
    if (auto st = store_->put_meta(kOverridesKey, all.dump()); !st.ok()) return internal_error(st.error().message);
    return quotas_locked(canonical);
  });
}

Result<json> Emulator::clear_quota_overrides(const std::string& sub) {
  json removal = json::object();
  for (const QuotaKind& kind : quota_kinds()) removal[kind.key] = nullptr;
  return set_quota_overrides(sub, removal);
}

}  // namespace acg
