#include "emulator/quotas.h"

#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

// Far beyond any real quota, and small enough that usage + 1 never overflows.
constexpr std::int64_t kMaxLimit = 1'000'000'000;

ArmError invalid_configuration(const std::string& message, const std::string& target) {
  return bad_request("InvalidConfiguration", message, target);
}

const QuotaKind* quota_by_key(const std::string& key) {
  for (const QuotaKind& k : quota_kinds())
    if (k.key == key) return &k;
  return nullptr;
}

std::string known_keys() {
  std::string out;
  for (const QuotaKind& k : quota_kinds()) out += (out.empty() ? "" : ", ") + k.key;
  return out;
}

}  // namespace

const std::vector<QuotaKind>& quota_kinds() {
  static const std::vector<QuotaKind> kinds = {
      {"galleries", "Galleries", "Microsoft.Compute/galleries", 100},
      {"imageDefinitions", "Gallery Image Definitions", "Microsoft.Compute/galleries/images", 1000},
      {"imageVersions", "Gallery Image Versions", "Microsoft.Compute/galleries/images/versions", 10000},
  };
  return kinds;
}

const QuotaKind* quota_for_type(std::string_view resource_type) {
  for (const QuotaKind& k : quota_kinds())
    if (iequals(k.resource_type, resource_type)) return &k;
  return nullptr;
}

Result<QuotaLimits> quota_limits_from_json(const json& limits, const std::string& where, bool allow_null) {
  if (!limits.is_object())
    return invalid_configuration(where + " must be an object such as {\"galleries\": 100}.", where);
  QuotaLimits out;
  for (const auto& [key, value] : limits.items()) {
    if (!quota_by_key(key))
      return invalid_configuration(where + ": unknown quota '" + key + "' (known: " + known_keys() + ").",
                                   where + "." + key);
    if (allow_null && value.is_null()) {
      out[key] = -1;
      continue;
    }
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0 || value.get<std::int64_t>() > kMaxLimit)
      return invalid_configuration(where + "." + key + " must be an integer from 0 to " + std::to_string(kMaxLimit) + ".",
                                   where + "." + key);
    out[key] = value.get<std::int64_t>();
  }
  return out;
}

Result<QuotaSettings> quota_settings_from_config(const json& config) {
  QuotaSettings settings;
  if (!config.is_object() || !config.contains("quotas")) return settings;
  const json& quotas = config["quotas"];
  if (!quotas.is_object())
    return invalid_configuration("quotas must be an object: {\"default\": {...}, \"<subscription id>\": {...}}.",
                                 "quotas");
  for (const auto& [key, value] : quotas.items()) {
    auto limits = quota_limits_from_json(value, "quotas." + key, false);
    if (!limits) return std::move(limits).error();
    if (key == "default") settings.defaults = std::move(*limits);
    else settings.subscriptions[to_lower(key)] = std::move(*limits);
  }
  return settings;
}

std::int64_t effective_limit(const QuotaKind& kind, const std::string& sub, const QuotaSettings& settings,
                             const std::map<std::string, QuotaLimits>& overrides) {
  const std::string key = to_lower(sub);
  for (const auto* per_sub : {&overrides, &settings.subscriptions}) {
    auto it = per_sub->find(key);
    if (it == per_sub->end()) continue;
    if (auto limit = it->second.find(kind.key); limit != it->second.end()) return limit->second;
  }
  if (auto limit = settings.defaults.find(kind.key); limit != settings.defaults.end()) return limit->second;
  return kind.documented_default;
}

ArmError quota_exceeded(const QuotaKind& kind, const std::string& sub, const std::string& location,
                        std::int64_t limit, std::int64_t usage) {
  return conflict("OperationNotAllowed",
                  "Operation could not be completed as it results in exceeding approved " + kind.display_name +
                      " quota. Additional details - Deployment Model: Resource Manager, Location: " + location +
                      ", Current Limit: " + std::to_string(limit) + ", Current Usage: " + std::to_string(usage) +
                      ", Additional Required: 1, (Minimum) New Limit Required: " + std::to_string(usage + 1) +
                      ". acg-emulator takes no quota requests: raise the limit with PUT /_emulator/quotas/" + sub +
                      " {\"" + kind.key + "\": " + std::to_string(usage + 1) +
                      "} or in the config file's \"quotas\".");
}

json usage_json(const QuotaKind& kind, std::int64_t usage, std::int64_t limit) {
  return {{"unit", "Count"},
          {"currentValue", usage},
          {"limit", limit},
          {"name", {{"value", kind.key}, {"localizedValue", kind.display_name}}}};
}

}  // namespace acg
