// Microsoft.MarketplaceOrdering agreements (emulator/marketplace_terms.h): the marketplace terms
// `az vm image terms accept|show|cancel` and the SDKs' marketplace_agreements read and sign.

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

namespace {

const std::string kProvider = "/subscriptions/{sub}/providers/Microsoft.MarketplaceOrdering";

MarketplacePlan plan_of(const RequestContext& ctx) {
  return MarketplacePlan{ctx.param("publisher"), ctx.param("offer"), ctx.param("plan")};
}

// The only offer type the service knows (OfferType enum: "virtualmachine").
Status check_offer_type(const RequestContext& ctx) {
  if (iequals(ctx.param("offerType"), "virtualmachine")) return ok_status();
  return bad_request("InvalidParameter",
                     "The value '" + ctx.param("offerType") +
                         "' of parameter 'offerType' is not valid. Allowed values are 'virtualmachine'.",
                     "offerType");
}

HttpResponse terms_response(const Result<json>& terms) {
  if (!terms) return error_response(terms.error());
  return json_response(200, *terms);
}

// PUT .../agreements/current: an AgreementTerms whose properties.accepted says accept or cancel.
Result<bool> accepted_of(const HttpRequest& request) {
  auto body = parse_json_body(request, false);
  if (!body) return std::move(body).error();
  const json* accepted = body->is_object() && (*body)["properties"].is_object() && (*body)["properties"].contains("accepted")
                             ? &(*body)["properties"]["accepted"]
                             : nullptr;
  if (!accepted || !accepted->is_boolean())
    return bad_request("InvalidRequestContent",
                       "The request content was invalid and could not be deserialized: 'properties.accepted' must be "
                       "true or false.",
                       "properties.accepted");
  return accepted->get<bool>();
}

}  // namespace

void add_marketplace_routes(Router& router, Services& s) {
  const std::string current = kProvider + "/offerTypes/{offerType}/publishers/{publisher}/offers/{offer}/plans/{plan}/agreements/current";
  router.add("GET", current, ApiFamily::marketplace, true, [&s](RequestContext& ctx) {
    if (auto st = check_offer_type(ctx); !st) return error_response(st.error());
    return terms_response(s.emulator.marketplace_terms(ctx.param("sub"), plan_of(ctx), TermsView::offer_type));
  });
  router.add("PUT", current, ApiFamily::marketplace, true, [&s](RequestContext& ctx) {
    if (auto st = check_offer_type(ctx); !st) return error_response(st.error());
    auto accepted = accepted_of(ctx.request);
    if (!accepted) return error_response(accepted.error());
    return terms_response(
        s.emulator.set_marketplace_terms(ctx.param("sub"), plan_of(ctx), *accepted, TermsView::offer_type));
  });

  const std::string agreement = kProvider + "/agreements/{publisher}/offers/{offer}/plans/{plan}";
  router.add("GET", agreement, ApiFamily::marketplace, true, [&s](RequestContext& ctx) {
    return terms_response(s.emulator.marketplace_terms(ctx.param("sub"), plan_of(ctx), TermsView::agreement));
  });
  for (auto [action, accept] : {std::pair{"sign", true}, std::pair{"cancel", false}})
    router.add("POST", agreement + "/" + action, ApiFamily::marketplace, true, [&s, accept = accept](RequestContext& ctx) {
      return terms_response(s.emulator.set_marketplace_terms(ctx.param("sub"), plan_of(ctx), accept, TermsView::agreement));
    });
  // The Python SDK reads a bare JSON array here (List[AgreementTerms]), not {"value": [...]}.
  router.add("GET", kProvider + "/agreements", ApiFamily::marketplace, true, [&s](RequestContext& ctx) {
    auto agreements = s.emulator.marketplace_agreements(ctx.param("sub"));
    if (!agreements) return error_response(agreements.error());
    return json_response(200, json(*agreements));
  });
}

}  // namespace acg::api
