#pragma once
// Which image versions a retention policy would delete, and why each is kept or deleted.
// Pure: versions and VMs in (as ARM lists them), a plan out. `acg-emulator retention`
// (api/cli_tools.cpp) lists them over the ARM API, plans, then deletes; the admin API's cost
// route plans over the store to show the saving.
//
// Per image definition, every version gets the first reason that applies:
//   keep    "latest"                 what "latest" resolves to in any of its regions (the
//                                    highest Major.Minor.Patch not excluded from latest
//                                    there), and the highest version overall: a definition is
//                                    never emptied and deployments by definition id still work
//   keep    "referenced by VM ..."   a VM's storageProfile.imageReference.id names it, or names
//                                    its definition and imageReference.exactVersion is it
//   keep    "blocked before end of life ..."
//                                    safetyProfile.blockDeletionBeforeEndOfLife and an end of
//                                    life not yet reached (the service refuses the DELETE:
//                                    409 DeleteGalleryImageVersionBlockedBeforeEndOfLife)
//   delete  "end of life passed ..." with delete_end_of_life, even among the N newest
//   keep    "among the N newest"
//   keep    "published less than D days ago" (with older_than_days; also when no publishedDate)
//   delete  "older than the N newest"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "emulator/storage_cost.h"

namespace acg {

struct RetentionPolicy {
  int keep = 1;                            // newest versions kept per definition (>= 0)
  std::optional<int> older_than_days;      // only versions published before now - days go
  bool delete_end_of_life = false;         // versions past their end of life go, even among the newest
};

struct RetentionDecision {
  std::string id;             // the version's ARM id
  std::string name;           // "1.0.0"
  std::string definition_id;
  bool remove = false;        // delete (true) or keep
  std::string reason;
  double monthly_cost = 0;    // what it costs to keep (the saving when removed)
};

struct RetentionPlan {
  std::vector<RetentionDecision> decisions;  // per definition (in first-seen order), newest first
  double monthly_saving = 0;
  std::string currency;
  std::size_t deletions() const;
};

RetentionPlan plan_retention(const std::vector<nlohmann::json>& versions, const std::vector<nlohmann::json>& vms,
                             const RetentionPolicy& policy, std::int64_t now_ms, const PriceTable& prices);

// {"policy": {...}, "monthlySaving", "currency", "deleteCount", "versions": [{"id", "name",
// "action": "delete"|"keep", "reason", "monthlyCost"}]}
nlohmann::json retention_plan_json(const RetentionPlan& plan, const RetentionPolicy& policy);

}  // namespace acg
