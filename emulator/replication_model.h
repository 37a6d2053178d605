#pragma once
// The simulated duration of one region's copy (see emulator/replication.h for the formula and
// the state machine it feeds). Kept apart so that settings can hold a model without pulling
// in the store.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "emulator/arm_error.h"

namespace acg {

struct ReplicationModel {
  double base_seconds = 300;          // every region copy, whatever the size
  double seconds_per_gib = 20;        // a Full copy of one GiB
  double extra_replica_factor = 0.2;  // each replica beyond the first adds this share
  double distance_factor_per_1000km = 0.1;
  double shallow_factor = 0.1;        // Shallow replication copies metadata, not blobs
  std::map<std::string, double> storage_factors{
      {"Standard_LRS", 1.0}, {"Standard_ZRS", 1.3}, {"Premium_LRS", 1.2}, {"PremiumV2_LRS", 1.2}};
  double jitter = 0;                  // 0..0.9: each job x a seeded factor in [1 - j, 1 + j]
  std::uint64_t jitter_seed = 0;
  double speed = 1000;                // X times faster than the modelled world; 0 = instant

  bool instant() const { return speed <= 0; }
  // Overrides from a config document's "replication" object (camelCase keys, README).
  static Result<ReplicationModel> from_json(const nlohmann::json& config, ReplicationModel defaults);
};

// What one job copies.
struct CopyRequest {
  std::string artifact_id;  // with region: the jitter's seed
  std::string region;
  double size_gib = 0;
  int replicas = 1;         // replicas to make
  std::string storage_type = "Standard_LRS";
  double distance_km = 0;   // from the version's own region
  bool shallow = false;
  bool within_region = false;  // only more replicas of a region that already has the image
  double slow_factor = 1;      // from an injected fault
};

std::int64_t duration_ms(const ReplicationModel& model, const CopyRequest& copy);

}  // namespace acg
