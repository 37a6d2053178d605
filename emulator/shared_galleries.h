#pragma once
// What consumers read of galleries shared with them: the read-only proxies under
// /subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/
//   sharedGalleries[/{uniqueName}[/images[/{d}[/versions[/{v}]]]]]     (direct sharing)
//   communityGalleries/{publicName}[/images[/{d}[/versions[/{v}]]]]   (community galleries)
// Who may see a gallery at all is gallery_sharing.h's rule. Where, is this file's (a rule of
// this product; the service documents only that versions appear where they are replicated):
//
//   a gallery  appears in a location where it lives, or where one of its image versions
//              has Completed replication;
//   an image   where its definition lives, or where one of its versions has Completed;
//   a version  where its copy has Completed (jobs in emulator/replication.h).
//
// Shapes follow the spec's examples: {name, location, identifier.uniqueId, properties}, plus
// `type` for community proxies. location is the region asked for (programmatic name).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "emulator/arm_error.h"
#include "emulator/gallery_sharing.h"
#include "emulator/resource_type.h"

namespace acg {

// A consumer read: the names after .../sharedGalleries or .../communityGalleries, outermost
// first (gallery, image, version). A get names the item; a list names the parent (none:
// every shared gallery, direct sharing only).
struct PublicGalleryRef {
  Audience audience = Audience::shared;
  std::string region;  // the path's location; the catalog's programmatic name once checked
  std::vector<std::string> names;
  bool tenant_only = false;  // sharedTo=tenant (direct sharing)
};

// The item ref names as the consumer sees it, or 404 ResourceNotFound.
Result<nlohmann::json> read_public_resource(const PublicGalleryRef& ref, const Consumer& consumer, Lookup& lookup);
// Every item in the parent ref names, in creation order, or 404 when the parent is not visible.
Result<std::vector<nlohmann::json>> read_public_listing(const PublicGalleryRef& ref, const Consumer& consumer,
                                                        Lookup& lookup);

}  // namespace acg
