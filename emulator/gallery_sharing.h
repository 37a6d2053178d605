#pragma once
// Gallery sharing: the rules of POST .../galleries/{g}/share and who may see a gallery through
// the consumer views (shared_galleries.h) and deployments (gallery_deployment.h).
//
// A gallery's sharingProfile.permissions is chosen at creation and never changes (gallery_type.cpp).
// What the share action may do depends on it:
//
//   permissions  operationType    effect on sharingProfile
//   Groups       Add              ids merged into groups[{type, ids}]   (Subscriptions <= 30, AADTenants <= 5)
//   Groups       Remove           ids taken out; an emptied group disappears
//   any          Reset            groups cleared; a Community gallery stops being public
//   Community    EnableCommunity  communityGalleryInfo.communityGalleryEnabled = true,
//                                 publicNames = ["<publicNamePrefix>-<guid>"] (a public gallery keeps its name)
//
// Everything else is refused before anything is written. An AADTenants id other than the
// gallery's own tenant is cross-tenant sharing, which this emulator refuses unless
// EmulatorSettings::allow_cross_tenant_sharing is set (its tokens and identities are per tenant).
//
// Who sees a gallery (the consumer is the subscription in the request's path):
//   direct sharing  groups name the consumer's subscription (Subscriptions) or its tenant
//                   (AADTenants); with sharedTo=tenant only the tenant groups count
//   community       anyone, once EnableCommunity ran, by one of its public names
//   deployments     the gallery's own subscription as well (it needs no sharing)

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "emulator/arm_error.h"
#include "emulator/resource_type.h"

namespace acg {

struct SharingGroup {
  std::string type;  // Subscriptions | AADTenants
  std::vector<std::string> ids;
};

// A SharingUpdate body, checked and canonically spelled.
struct SharingUpdate {
  std::string operation;  // Add | Remove | Reset | EnableCommunity
  std::vector<SharingGroup> groups;
  bool has_groups = false;  // "groups" was in the body (echoed back, even when empty)

  // The body answered to the client: the update as applied.
  nlohmann::json to_json() const;
};

// Shape checks of a SharingUpdate: operationType one of the four, groups of known types whose
// ids are GUIDs; Add and Remove need at least one id. 400 InvalidParameter otherwise.
Result<SharingUpdate> parse_sharing_update(const nlohmann::json& body);

// What the share action needs besides the gallery.
struct SharingContext {
  std::string tenant;  // the tenant of the gallery's subscription
  bool allow_cross_tenant = false;
  std::string public_name_guid;  // the GUID a new public name gets
};

// The gallery's sharingProfile after `update`, or the refusal (wrong permissions, limits,
// cross-tenant, missing community information). `gallery` is the stored gallery.
Result<nlohmann::json> apply_sharing_update(const nlohmann::json& gallery, const SharingUpdate& update,
                                            const SharingContext& context);

// A community gallery that is public must be Reset before it is deleted (409).
Status check_community_delete(const nlohmann::json& gallery);

// The subscription reading shared galleries (the one in the request's path) and its tenant.
struct Consumer {
  std::string subscription;
  std::string tenant;
};

enum class Audience {
  shared,     // direct sharing: .../sharedGalleries/{identifier.uniqueName}, SharedGalleries/ ids
  community,  // .../communityGalleries/{public name}, CommunityGalleries/ ids
};

// Whether the gallery's groups name the consumer: its subscription or its tenant, or only its
// tenant when tenant_only (sharedTo=tenant).
bool shared_with(const nlohmann::json& gallery, const Consumer& consumer, bool tenant_only);
// The public names of a community gallery that is public now; empty otherwise.
std::vector<std::string> public_names(const nlohmann::json& gallery);

// The gallery a consumer reaches by `name` (uniqueName or public name), when it may see it;
// nullopt when there is none or it is not shared with the consumer. With owner_sees
// (deployments) the gallery's own subscription reaches it unshared; the consumer views need
// the sharing from everyone.
Result<std::optional<nlohmann::json>> find_public_gallery(Audience audience, const std::string& name,
                                                          const Consumer& consumer, bool tenant_only, bool owner_sees,
                                                          Lookup& lookup);

}  // namespace acg
