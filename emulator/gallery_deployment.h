#pragma once
// Deploying from a gallery: which image version a deployment (a virtual machine) gets, and
// whether it may have it where it runs. The real service's "replication completion check":
// a version can be deployed in a region only once its replication there has Completed.
//
//   imageReference.id                      .../galleries/g/images/d/versions/1.0.0   that version
//   imageReference.id                      .../galleries/g/images/d                  its "latest"
//   imageReference.sharedGalleryImageId    /SharedGalleries/<uniqueName>/Images/d[/Versions/v]
//   imageReference.communityGalleryImageId /CommunityGalleries/<publicName>/Images/d[/Versions/v]
//
// "Latest" is the highest Major.Minor.Patch (numerically) not excluded from latest in that
// region (the region's excludeFromLatest wins over the version's) and replicated there.

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "emulator/arm_error.h"
#include "emulator/gallery_sharing.h"
#include "emulator/resource_type.h"

namespace acg {

// Whether `version` is excluded from latest in `region` (empty: the version's own flag); the
// region's excludeFromLatest wins over the version's.
bool excluded_from_latest(const nlohmann::json& version, const std::string& region);

// The version "latest" names among `versions` for `region` (empty: no regional flags),
// or nullopt. `usable` filters further (replicated there); null accepts every version.
std::optional<nlohmann::json> pick_latest_version(const std::vector<nlohmann::json>& versions,
                                                  const std::string& region,
                                                  const std::function<bool(const nlohmann::json&)>& usable = {});

// What a deployment from a gallery image gets.
struct GalleryDeployment {
  nlohmann::json definition;  // the image definition
  nlohmann::json version;     // the version deployed
};

// Resolves a VM's storageProfile.imageReference when it names a gallery image, checking that
// the version is replicated (Completed) in `location`. A sharedGalleryImageId or
// communityGalleryImageId must name a gallery `consumer` may see (gallery_sharing.h; its own
// subscription always may). nullopt when the reference is not a gallery image (a platform or
// managed image). 404 GalleryImageNotFound otherwise, with the service's message.
Result<std::optional<GalleryDeployment>> resolve_gallery_image(const nlohmann::json& image_reference,
                                                               const std::string& location, const Consumer& consumer,
                                                               Lookup& lookup);

}  // namespace acg
