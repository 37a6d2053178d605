// The share action and its long-running operation: Emulator's side of gallery_sharing.h.
// The consumer reads are in resources.cpp (they read through the same Lookup as writes).

#include "emulator/emulator.h"
#include "emulator/request_body.h"

namespace acg {

using nlohmann::json;

namespace {

// sharingStatus of a shared gallery: one region, the gallery's own (the emulator has no
// regional sharing to wait for).
json sharing_status(const std::string& region, const char* state) {
  return {{"aggregatedState", state},
          {"summary", json::array({{{"region", region}, {"state", state}, {"details", ""}}})}};
}

}  // namespace

Result<ShareOutcome> Emulator::share_gallery(const ResourceRef& ref, const json& body) {
  auto update = parse_sharing_update(body);
  if (!update) return std::move(update).error();
  if (auto fault = faults_.take_operation_fault("POST", gallery_type().type())) return std::move(*fault);
  std::optional<OperationRef> operation;
  auto shared = update_resource(gallery_type(), ref, [&](json& gallery) -> Status {
    // update_resource checked the subscription already.
    const Subscription& sub = *identities_.find_subscription(ref.subscription);
    const SharingContext context{sub.tenant_id, settings_.allow_cross_tenant_sharing,
                                 update->operation == "EnableCommunity" ? ids_.uuid() : std::string()};
    auto profile = apply_sharing_update(gallery, *update, context);
    if (!profile) return std::move(profile).error();
    gallery["properties"]["sharingProfile"] = std::move(*profile);
    const std::string location = gallery.value("location", "");
    auto started = begin_operation("share", gallery["id"], sub.id, location, std::nullopt, update->to_json().dump());
    if (!started) return std::move(started).error();
    operation = *started;
    gallery["properties"]["sharingStatus"] = sharing_status(location, operation ? "InProgress" : "Succeeded");
    return ok_status();
  });
  if (!shared) return std::move(shared).error();
  return ShareOutcome{update->to_json(), operation};
}

// A share operation ends Succeeded, and so does the gallery's sharingStatus unless a later
// share is still running (it ends the status itself). Canceled when the gallery is gone.
Result<Emulator::Finish> Emulator::finish_sharing(const storage::OperationRow& op) {
  auto stored = store_->get(op.resource_id);
  if (!stored.ok()) return internal_error(stored.error().message);
  if (!stored.value()) return Finish{"Canceled", std::nullopt, 0};
  auto pending = store_->pending_operations_of(op.resource_id);
  if (!pending.ok()) return internal_error(pending.error().message);
  for (const storage::OperationRow& other : pending.value())
    if (other.kind == "share" && other.id != op.id) return Finish{"Succeeded", std::nullopt, 0};
  storage::ResourceRow row = *stored.value();
  json gallery = json::parse(row.body, nullptr, false);
  if (gallery.is_discarded()) return internal_error("Stored resource is not valid JSON.");
  gallery["properties"]["sharingStatus"] = sharing_status(gallery.value("location", ""), "Succeeded");
  row.body = gallery.dump();
  if (auto st = store_->put(row); !st.ok()) return internal_error(st.error().message);
  return Finish{"Succeeded", std::nullopt, 0};
}

Result<Consumer> Emulator::consumer_of(const std::string& sub, PublicGalleryRef& ref) {
  if (auto st = require_subscription(sub); !st) return std::move(st).error();
  const Subscription& subscription = *identities_.find_subscription(sub);
  const char* type = ref.audience == Audience::shared ? "Microsoft.Compute/locations/sharedGalleries"
                                                      : "Microsoft.Compute/locations/communityGalleries";
  auto region = require_location(json{{"location", ref.region}}, regions_, type, true);
  if (!region) return std::move(region).error();
  ref.region = (*region)->name;
  return Consumer{subscription.id, subscription.tenant_id};
}

}  // namespace acg
