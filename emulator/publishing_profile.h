#pragma once
// The publishing profile image versions and application versions share: target regions with
// their replica counts and storage types, the common replica count, excludeFromLatest,
// end of life, storage account type and replication mode (fixed once published), and the
// rule that a replicated region is removed only when the safety profile allows it.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "emulator/arm_error.h"
#include "emulator/resource_type.h"

namespace acg {

// A version name must be Major.Minor.Patch within int32: 400 InvalidParameter naming
// `target` ("galleryImageVersionName") with the service's message for `noun` ("image").
Status check_version_name(std::string_view name, const std::string& noun, const std::string& target);

// Shape checks of properties.publishingProfile, before anything is read.
Status check_publishing_profile(const nlohmann::json& properties);

struct PublishingRules {
  std::string resource_type;      // for region errors: "Microsoft.Compute/galleries/images/versions"
  bool future_end_of_life = true;  // image versions refuse a past endOfLifeDate; applications do not
};

// The profile as stored: `wanted` merged over `stored` (null when creating); target regions
// named as the service names them ("West US"), each with its replica count and storage type,
// the artifact's own region among them (it is the only one when none is given).
Result<nlohmann::json> build_publishing_profile(const nlohmann::json& wanted, const nlohmann::json* stored,
                                                const std::string& location, Lookup& lookup,
                                                const PublishingRules& rules);

// storageAccountType and replicationMode cannot change once published. `owner` names the
// resource in messages: "galleryImageVersion".
Status check_fixed_publishing(const nlohmann::json& stored, const nlohmann::json& wanted, const std::string& owner);

// A replicated region may be removed only when safetyProfile.allowDeletionOfReplicatedLocations
// is not false.
Status check_region_removal(const nlohmann::json& stored_properties, const nlohmann::json& new_profile);

// The view image and application versions share: the stored resource with each target
// region's excludeFromLatest shown (a region without its own follows the version's). The
// core adds properties.replicationStatus when $expand asks for it (it reads the jobs).
nlohmann::json version_view(const nlohmann::json& stored);

}  // namespace acg
