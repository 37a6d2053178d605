#pragma once
// Marketplace terms (Microsoft.MarketplaceOrdering, api-version 2021-01-01): before a VM is
// deployed from a marketplace image, or from a gallery image whose definition carries the
// marketplace `purchasePlan` it was sourced from, its subscription must have accepted the
// plan's legal terms. The emulator has no marketplace catalog: every publisher, offer and plan
// has terms, never accepted until a client accepts them.
//
//   GET  .../offerTypes/virtualmachine/publishers/{p}/offers/{o}/plans/{n}/agreements/current
//   PUT  the same, with properties.accepted            (az vm image terms accept / cancel)
//   GET  .../agreements/{p}/offers/{o}/plans/{n}       (the signed agreement)
//   POST .../agreements/{p}/offers/{o}/plans/{n}/sign | /cancel
//   GET  .../agreements                                (every signed or canceled agreement)
//
// Per subscription, one accepted flag per plan:
//
//   (none) ──accept (PUT accepted:true, sign)──► Accepted ──cancel (PUT accepted:false, cancel)──► Canceled
//                                                   ▲────────────────── accept ─────────────────────┘

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace acg {

// A marketplace plan: publisher, offer (ARM calls it "product" in plans) and plan name.
struct MarketplacePlan {
  std::string publisher, offer, plan;
};

// Which of the service's two shapes an answer takes.
enum class TermsView {
  offer_type,  // .../offerTypes/.../agreements/current: type "Microsoft.MarketplaceOrdering/offertypes"
  agreement,   // .../agreements/...: type "Microsoft.MarketplaceOrdering/agreements", with state and dates
};

// "publisher:offer:plan", lower-cased: the key of a plan in the store.
std::string terms_key(const MarketplacePlan& plan);

// An AgreementTerms resource. `stored` is what was recorded ({"publisher", "offer", "plan",
// "accepted", "signDate", "cancelDate"}), or null when the terms were never touched.
nlohmann::json agreement_terms_json(const std::string& sub, const MarketplacePlan& plan, const nlohmann::json& stored,
                                    TermsView view, const std::string& now);

// The record of a change: `previous` (or null) with accepted set and the date of the change.
nlohmann::json updated_terms_record(const nlohmann::json& previous, const MarketplacePlan& plan, bool accepted,
                                    const std::string& now);

}  // namespace acg
