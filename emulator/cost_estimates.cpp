// Storage cost estimates over the store (GET /_emulator/cost): the versions a scope holds,
// soft-deleted ones included, priced by emulator/storage_cost.h, and optionally the plan a
// retention policy would carry out (emulator/retention_plan.h).

#include "emulator/emulator.h"
#include "emulator/request_body.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kVersionType = "Microsoft.Compute/galleries/images/versions";

ArmError invalid_scope(const std::string& scope) {
  return bad_request("InvalidScope",
                     "The scope '" + scope +
                         "' is not valid. Give the id of a subscription, resource group, gallery, image definition "
                         "or image version: /subscriptions/{id}[/resourceGroups/{rg}[/providers/"
                         "Microsoft.Compute/galleries/{g}[/images/{d}[/versions/{v}]]]].",
                     "scope");
}

// The types a scope may be, besides a subscription.
bool priceable_scope_type(const std::string& type) {
  return iequals(type, "Microsoft.Resources/resourceGroups") || iequals(type, "Microsoft.Compute/galleries") ||
         iequals(type, "Microsoft.Compute/galleries/images") || iequals(type, kVersionType);
}

std::vector<json> parse_bodies(const std::vector<storage::ResourceRow>& rows) {
  std::vector<json> out;
  for (const auto& row : rows) {
    json body = json::parse(row.body, nullptr, false);
    if (body.is_object()) out.push_back(std::move(body));
  }
  return out;
}

// "/subscriptions/{id}" with nothing after it: the subscription id, else empty.
std::string subscription_only(const std::string& scope) {
  const std::string prefix = "/subscriptions/";
  if (!istarts_with(scope, prefix)) return {};
  std::string rest = scope.substr(prefix.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  return rest.find('/') == std::string::npos ? rest : std::string();
}

}  // namespace

Result<json> Emulator::storage_cost(const std::string& scope_in, const std::optional<RetentionPolicy>& retention) {
  return read<json>([&]() -> Result<json> {
    std::string scope = scope_in;
    while (scope.size() > 1 && scope.back() == '/') scope.pop_back();
    if (!istarts_with(scope, "/subscriptions/")) return invalid_scope(scope_in);
    const std::string sub = scope.substr(15, scope.find('/', 15) == std::string::npos ? std::string::npos
                                                                                       : scope.find('/', 15) - 15);
    const Subscription* subscription = identities_.find_subscription(sub);
    if (!subscription)
      return not_found("SubscriptionNotFound", "The subscription '" + sub + "' could not be found.");
    std::vector<json> versions;
    if (subscription_only(scope).empty()) {
      auto stored = load(scope);
      if (!stored) return std::move(stored).error();
      if (!*stored) return not_found("ResourceNotFound", "The scope '" + scope + "' was not found.");
      const std::string type = json_text(**stored, "type");
      if (!priceable_scope_type(type)) return invalid_scope(scope_in);
      if (iequals(type, kVersionType)) versions.push_back(std::move(**stored));
    } else {
      scope = "/subscriptions/" + subscription->id;
    }
    if (versions.empty()) {
      auto rows = store_->list_in_scope(scope, kVersionType, 0, 1 << 30);
      if (!rows.ok()) return internal_error(rows.error().message);
      versions = parse_bodies(rows.value().rows);
    }
    std::vector<VersionCost> costs;
    std::vector<json> live;
    for (const json& v : versions) {
      costs.push_back(version_cost(v, settings_.prices, is_soft_deleted(v)));
      if (!is_soft_deleted(v)) live.push_back(v);
    }
    json report = cost_report(scope, costs, settings_.prices);
    if (!retention) return report;
    auto vms = store_->list_in_scope("/subscriptions/" + subscription->id, "Microsoft.Compute/virtualMachines", 0, 1 << 30);
    if (!vms.ok()) return internal_error(vms.error().message);
    const RetentionPlan plan =
        plan_retention(live, parse_bodies(vms.value().rows), *retention, clock_.now_ms(), settings_.prices);
    report["retention"] = retention_plan_json(plan, *retention);
    return report;
  });
}

}  // namespace acg
