#pragma once
// Subscription quotas of Azure Compute Gallery: how many galleries, image definitions and image
// versions one subscription may hold in one region. The documented defaults (LIMITS.md §1,
// "Store and share resources in an Azure Compute Gallery", Limits):
//
//   galleries          100 per subscription per region
//   imageDefinitions 1,000 per subscription per region
//   imageVersions   10,000 per subscription per region
//
// A limit comes from, first match wins: the admin API's override for the subscription
// (PUT /_emulator/quotas/{sub}, persisted), the config file's entry for the subscription, the
// config file's "default" entry, the documented default. Each key is resolved on its own, so
// an override may name only one limit.
//
// Counting: a resource counts in the region of its own location from its creation until it is
// gone from the store, so a version deleted into soft delete keeps counting until it is purged
// (it still holds its name and can be restored, and a restore must never fail on a quota), and
// a resource whose deletion is under way counts until the deletion ends. A re-PUT of an
// existing resource is not a new one. The check and the insert share the write's transaction.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/arm_error.h"

namespace acg {

// One quota: its key in configuration, the admin API and the usages list, and the resource
// type it counts.
struct QuotaKind {
  std::string key;            // "galleries" | "imageDefinitions" | "imageVersions"
  std::string display_name;   // "Galleries", as the usages list's localizedValue
  std::string resource_type;  // "Microsoft.Compute/galleries"
  std::int64_t documented_default = 0;
};

const std::vector<QuotaKind>& quota_kinds();
// The quota that counts resources of `resource_type`, or nullptr.
const QuotaKind* quota_for_type(std::string_view resource_type);

// Limits by quota key; a missing key falls through to the next source.
using QuotaLimits = std::map<std::string, std::int64_t>;

// What the config file says: {"quotas": {"default": {...}, "<subscription id>": {...}}}.
struct QuotaSettings {
  QuotaLimits defaults;
  std::map<std::string, QuotaLimits> subscriptions;  // by lower-cased subscription id
};

// Parses the config file's "quotas" member (absent: no settings). 400 InvalidConfiguration
// for an unknown key or a limit that is not a non-negative integer.
Result<QuotaSettings> quota_settings_from_config(const nlohmann::json& config);
// A {"galleries": N, ...} object; `where` prefixes messages. In an update a null value removes
// the key (returned as -1) when allow_null is set.
Result<QuotaLimits> quota_limits_from_json(const nlohmann::json& limits, const std::string& where, bool allow_null);

// The limit of `kind` for subscription `sub` (any casing), given the admin overrides.
std::int64_t effective_limit(const QuotaKind& kind, const std::string& sub, const QuotaSettings& settings,
                             const std::map<std::string, QuotaLimits>& overrides);

// The refusal of a create that would exceed a quota. Compute's regional quota error, as real
// clients receive it (409 OperationNotAllowed; e.g. Azure.RequestFailedException "Operation
// could not be completed as it results in exceeding approved Total Regional Cores quota.
// Additional details - Deployment Model: Resource Manager, Location: centralus, Current Limit:
// 10, Current Usage: 8, Additional Required: 4, (Minimum) New Limit Required: 12." Status: 409
// (Conflict), ErrorCode: OperationNotAllowed, nforgeio/neonKUBE#1671; the ARM page "Resolve
// errors for resource quotas" documents Code=OperationNotAllowed). The gallery limits' own
// error is not documented (LIMITS.md §1), so the gallery quota is named the same way.
ArmError quota_exceeded(const QuotaKind& kind, const std::string& sub, const std::string& location,
                        std::int64_t limit, std::int64_t usage);

// One item of Compute's ListUsagesResult ({unit, currentValue, limit, name{value, localizedValue}}).
nlohmann::json usage_json(const QuotaKind& kind, std::int64_t usage, std::int64_t limit);

}  // namespace acg
