#pragma once
// The emulator's tunable rules and behaviours, shared by the core and the resource types.

#include <cstdint>

#include <string>
#include <vector>

#include "emulator/quotas.h"
#include "emulator/replication_model.h"
#include "emulator/storage_cost.h"

namespace acg {

struct EmulatorSettings {
  // Simulated duration of gallery and resource-group writes; 0 finishes them synchronously.
  std::int64_t operation_delay_ms = 0;
  // Items per page of a list; the rest follows through nextLink.
  int page_size = 100;
  // Image versions one image definition may hold (a rule of this product, not Azure's).
  int max_versions_per_definition = 1000;
  // How long replication to each target region takes (README "Replication").
  ReplicationModel replication;
  // Time moves only through the admin API (POST /_emulator/clock/advance), from the instant
  // it was last left at.
  bool virtual_clock = false;
  // Role assignments made at start (and again after a reset), besides the default principal's
  // Owner of the default subscription: {principal object id, role GUID, scope}.
  struct InitialAssignment {
    std::string principal_id, role, scope;
  };
  std::vector<InitialAssignment> initial_assignments;
  // Lets POST .../share name tenants other than the gallery's own (AADTenants groups). Off by
  // default: the emulator does not model cross-tenant sharing (gallery_sharing.h).
  bool allow_cross_tenant_sharing = false;
  // Storage prices for cost estimates (emulator/storage_cost.h): the built-in table, or it
  // with the config file's "prices" / --prices merged over.
  PriceTable prices = PriceTable::builtin();
  // Galleries, image definitions and versions per subscription per region (emulator/quotas.h),
  // as the config file sets them; the admin API's overrides live in the store.
  QuotaSettings quotas;
};

}  // namespace acg
