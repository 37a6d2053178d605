// The shapes of Microsoft.MarketplaceOrdering's AgreementTerms, and the Emulator's record of
// accepted terms (one meta value, like the network rules: small, and cleared by a reset).

#include "emulator/marketplace_terms.h"

#include <algorithm>

#include "emulator/emulator.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kTermsKey = "marketplace.agreements";
// Offline: the links name the plan but point nowhere (.invalid is reserved for that).
constexpr const char* kLinkBase = "https://marketplace.acg-emulator.invalid/terms/";

std::string plan_path(const MarketplacePlan& plan) {
  return plan.publisher + "/offers/" + plan.offer + "/plans/" + plan.plan;
}

// The same signature for a subscription and plan on every read: az sends back what it read.
std::string signature_of(const std::string& sub, const MarketplacePlan& plan) {
  std::string hex = derived_guid(to_lower(sub) + "|" + terms_key(plan));
  hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
  return to_upper(hex);
}

// object[key], or null when object is not an object or has no such member.
const json& json_value_or_null(const json& object, const std::string& key) {
  static const json null_value;
  if (!object.is_object()) return null_value;
  auto it = object.find(key);
  return it == object.end() ? null_value : *it;
}

}  // namespace

std::string terms_key(const MarketplacePlan& plan) {
  return to_lower(plan.publisher + ":" + plan.offer + ":" + plan.plan);
}

json agreement_terms_json(const std::string& sub, const MarketplacePlan& plan, const json& stored, TermsView view,
                          const std::string& now) {
  const std::string provider = "/subscriptions/" + sub + "/providers/Microsoft.MarketplaceOrdering";
  const bool accepted = stored.is_object() && stored.value("accepted", false);
  const std::string link = kLinkBase + to_lower(plan.publisher + "/" + plan.offer + "/" + plan.plan);
  json properties = {{"publisher", plan.publisher},
                     {"product", plan.offer},
                     {"plan", plan.plan},
                     {"licenseTextLink", link + "/license.txt"},
                     {"privacyPolicyLink", link + "/privacy"},
                     {"marketplaceTermsLink", link + "/marketplace-terms"},
                     {"retrieveDatetime", now},
                     {"signature", signature_of(sub, plan)},
                     {"accepted", accepted}};
  if (view == TermsView::offer_type)
    return {{"id", provider + "/offerTypes/VirtualMachine/publishers/" + plan_path(plan) + "/agreements/current"},
            {"name", plan.plan},
            {"type", "Microsoft.MarketplaceOrdering/offertypes"},
            {"properties", std::move(properties)}};
  // The agreements view (2015-06-01's AgreementProperties) also says when it was signed or canceled.
  properties["state"] = accepted ? "Active" : "Canceled";
  if (stored.is_object()) {
    if (stored.contains("signDate")) properties["signDate"] = stored["signDate"];
    if (stored.contains("cancelDate")) properties["cancelDate"] = stored["cancelDate"];
  }
  return {{"id", provider + "/agreements/" + plan_path(plan)},
          {"name", plan.plan},
          {"type", "Microsoft.MarketplaceOrdering/agreements"},
          {"properties", std::move(properties)}};
}

json updated_terms_record(const json& previous, const MarketplacePlan& plan, bool accepted, const std::string& now) {
  json record = previous.is_object() ? previous : json::object();
  record["publisher"] = plan.publisher;
  record["offer"] = plan.offer;
  record["plan"] = plan.plan;
  record["accepted"] = accepted;
  record[accepted ? "signDate" : "cancelDate"] = now;
  return record;
}

// --- The Emulator's record ---------------------------------------------------------------------

Result<json> Emulator::stored_terms_locked() {
  auto text = store_->get_meta(kTermsKey);
  if (!text.ok()) return internal_error(text.error().message);
  if (text.value().empty()) return json::object();
  json all = json::parse(text.value(), nullptr, false);
  return all.is_object() ? all : json::object();
}

Result<bool> Emulator::terms_accepted_locked(const std::string& sub, const MarketplacePlan& plan) {
  auto all = stored_terms_locked();
  if (!all) return std::move(all).error();
  const json& mine = json_value_or_null(*all, to_lower(sub));
  const json& record = json_value_or_null(mine, terms_key(plan));
  return record.is_object() && record.value("accepted", false);
}

Result<json> Emulator::marketplace_terms(const std::string& sub, const MarketplacePlan& plan, TermsView view) {
  return read<json>([&]() -> Result<json> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    auto all = stored_terms_locked();
    if (!all) return std::move(all).error();
    const json& mine = json_value_or_null(*all, to_lower(sub));
    return agreement_terms_json(identities_.find_subscription(sub)->id, plan, json_value_or_null(mine, terms_key(plan)),
                                view, format_arm_time(clock_.now_ms()));
  });
}

Result<json> Emulator::set_marketplace_terms(const std::string& sub, const MarketplacePlan& plan, bool accepted,
                                             TermsView view) {
  return write<json>([&]() -> Result<json> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    auto all = stored_terms_locked();
    if (!all) return std::move(all).error();
    const std::string now = format_arm_time(clock_.now_ms());
    json& record = (*all)[to_lower(sub)][terms_key(plan)];
    record = updated_terms_record(record, plan, accepted, now);
    if (auto st = store_->put_meta(kTermsKey, all->dump()); !st.ok()) return internal_error(st.error().message);
    return agreement_terms_json(identities_.find_subscription(sub)->id, plan, record, view, now);
  });
}

Result<std::vector<json>> Emulator::marketplace_agreements(const std::string& sub) {
  return read<std::vector<json>>([&]() -> Result<std::vector<json>> {
    if (auto st = require_subscription(sub); !st) return std::move(st).error();
    auto all = stored_terms_locked();
    if (!all) return std::move(all).error();
    std::vector<json> out;
    const json& mine = json_value_or_null(*all, to_lower(sub));
    if (!mine.is_object()) return out;
    const std::string now = format_arm_time(clock_.now_ms());
    for (const auto& [key, record] : mine.items()) {
      MarketplacePlan plan{record.value("publisher", ""), record.value("offer", ""), record.value("plan", "")};
      out.push_back(agreement_terms_json(identities_.find_subscription(sub)->id, plan, record, TermsView::agreement, now));
    }
    return out;
  });
}

}  // namespace acg
