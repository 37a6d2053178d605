#pragma once
// Replication of image and application versions to their target regions.
//
// Every target region of a version is one job (storage::ReplicationJobRow), written in the
// same transaction as the version and moved along this state machine by the functions named
// on its arrows. Time is the emulator's clock; a job's progress is the share of its duration
// that has passed, so it rises smoothly and survives a restart (started_ms and due_ms are
// persisted: after a crash a job resumes where the clock says it is, never from zero).
//
//   start_job()                     settle_job(): due, no error planned
//  ────────────► Replicating ───────────────────────────────────────────► Completed
//                  ▲  │  settle_job(): due, a fault planned an error              │
//                  │  └────────────────────────────────────────────────► Failed   │
//                  │                                                      │       │
//                  │  plan_replication(): the profile is PUT again         │       │
//                  └──────────────── (retry of a Failed region) ◄─────────┘       │
//                  └──────────────── (more replicas or another storage type) ◄────┘
//
//   A region dropped from the profile, or the version deleted, removes its job whatever its
//   state (plan_replication(), Store::remove_tree): the copy in flight is canceled.
//
// The version's provisioningState follows its jobs (aggregate()): Creating or Updating while
// any region replicates, Failed when one failed, Succeeded when all completed. The PUT's
// long-running operation finishes with it.
//
// Duration model (duration_ms()): what one region's copy takes in the modelled real world,
// divided by the speed knob:
//
//   (base + perGiB x size) x (1 + extraReplica x (replicas - 1)) x storageFactor[type]
//     x (1 + distanceFactor x km / 1000) x (Shallow ? shallowFactor : 1) x jitter x slowFault
//     / speed
//
// A replica-count increase in a completed region copies only the new replicas inside that
// region: (base + perGiB x size) x extraReplica x added x storageFactor (no distance).
// A decrease removes replicas at once.

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "emulator/arm_error.h"
#include "emulator/replication_model.h"
#include "storage/store.h"

namespace acg {

class RegionCatalog;

inline constexpr const char* kReplicating = "Replicating";
inline constexpr const char* kCompleted = "Completed";
inline constexpr const char* kFailed = "Failed";

// --- Faults (admin API) -----------------------------------------------------------------

// What an injected fault does to the jobs that start while it is in place.
struct RegionFault {
  std::string region;         // programmatic name
  bool fail = false;          // the copy fails when it is due
  double probability = 1;     // of failing, per job (seeded)
  double slow_factor = 1;     // the copy takes this many times longer
};

// The next `remaining` writes of a resource type fail with `error` (before anything is
// written, like a transient fault of the real service).
struct OperationFault {
  std::string method;         // "PUT", "PATCH", "DELETE" or "*"
  std::string resource_type;  // "Microsoft.Compute/galleries/images/versions" or "*"
  int remaining = 1;
  ArmError error;
};

// The faults in place, in memory: a restart clears them (a decision already taken, a job
// planned to fail, is persisted in the job).
class FaultPlan {
 public:
  void add_region_fault(RegionFault fault);
  void add_operation_fault(OperationFault fault);
  void seed(std::uint64_t seed);
  void clear();
  nlohmann::json to_json() const;

  // The combined effect on a job starting in `region`: slow factor and, when it will fail,
  // the error it fails with.
  struct Effect {
    double slow_factor = 1;
    std::optional<ArmError> error;
  };
  Effect effect_on(const std::string& region);
  // Consumes one matching operation fault, if any.
  std::optional<ArmError> take_operation_fault(const std::string& method, const std::string& resource_type);

 private:
  mutable std::mutex mutex_;
  std::vector<RegionFault> regions_;
  std::vector<OperationFault> operations_;
  std::mt19937_64 random_{0};
};

// --- Jobs -------------------------------------------------------------------------------

// Everything plan_replication needs besides the jobs already stored.
struct ReplicationContext {
  const ReplicationModel& model;
  const RegionCatalog& regions;
  FaultPlan& faults;
  std::int64_t now_ms = 0;
  std::string artifact_id;
  std::string subscription;
  std::string home_region;  // the version's own region
  double size_gib = 0;
  bool shallow = false;
};

// The jobs after a (re)publication of `profile`: a new job per new region (start_job), a
// retry per failed region, a partial copy per region with more replicas, the other regions
// kept as they are; jobs of regions no longer targeted are left out (their copies cancel).
struct ReplicationPlan {
  std::vector<storage::ReplicationJobRow> put;     // jobs to write
  std::vector<std::string> removed_regions;        // jobs to remove
  std::vector<storage::ReplicationJobRow> result;  // every job of the version afterwards
};
ReplicationPlan plan_replication(const std::vector<storage::ReplicationJobRow>& existing,
                                 const nlohmann::json& publishing_profile, ReplicationContext& context);

storage::ReplicationJobRow start_job(const CopyRequest& copy, ReplicationContext& context, int replica_count);
// Replicating → Completed, or → Failed with the error a fault planned. Call when due.
void settle_job(storage::ReplicationJobRow& job);

// 0..100: the share of the job's time that has passed (100 once Completed).
int progress(const storage::ReplicationJobRow& job, std::int64_t now_ms);

// The version's state from its jobs: "Succeeded", "Failed" or "" while any replicates.
std::string aggregate(const std::vector<storage::ReplicationJobRow>& jobs);
// The ARM error a version whose jobs failed reports (the service's message, naming the
// regions and their details).
ArmError replication_failure(const std::vector<storage::ReplicationJobRow>& jobs, const RegionCatalog& regions);

// properties.replicationStatus: the target regions in profile order, each with its state,
// details and progress at now_ms.
nlohmann::json replication_status(const nlohmann::json& publishing_profile,
                                  const std::vector<storage::ReplicationJobRow>& jobs, const RegionCatalog& regions,
                                  std::int64_t now_ms);

// When replication_status() at now_ms would next show something else, the jobs unchanged:
// the earliest moment a Replicating job's progress reaches its next percent (INT64_MAX when
// none replicates). Lets the core reuse a status until then.
std::int64_t status_stable_until(const std::vector<storage::ReplicationJobRow>& jobs, std::int64_t now_ms);

// The size the model charges for a version's source: its disks' sizes, else 30 GiB for an
// image (the usual OS disk) and 1 GiB for an application package.
double source_size_gib(const nlohmann::json& properties);

}  // namespace acg
