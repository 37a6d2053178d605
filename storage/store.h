#pragma once
// The narrow interface between the emulator's rules and persistence (LevelDB's db.h vs db_impl).
//
// Resources are stored as canonical ARM JSON plus indexed columns: the lower-cased ARM id
// (primary key), the lower-cased parent id and the lower-cased type, so ARM's
// case-insensitive lookups and parent checks are plain SQL. Long-running operations are a
// second table. The store knows nothing of ARM rules: it never decides whether a write is
// allowed, only makes it durable and atomic.
//
// Threading: a Store is used by one thread at a time; the emulator serialises access.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/store_status.h"

namespace acg::storage {

struct ResourceRow {
  std::string id;         // as created: the canonical casing returned to clients
  std::string type;       // e.g. "Microsoft.Compute/galleries"
  std::string parent_id;  // id of the containing resource (resource group, gallery, ...)
  std::string name;
  std::string body;       // the ARM representation, JSON text
  std::int64_t seq = 0;   // insertion order; stable paging key (set by the store)
};

struct OperationRow {
  std::string id;            // GUID used in the status URL
  std::string kind;          // e.g. "put", "delete"
  std::string resource_id;   // the resource the operation works on
  std::string location;      // region in the status URL
  std::string subscription;
  std::string status;        // InProgress | Succeeded | Failed | Canceled
  std::string start_time;    // ISO 8601
  std::string end_time;      // empty while running
  std::int64_t due_ms = 0;   // clock time (ms since epoch) at which the work completes
  std::string error;         // JSON text of the ARM error when Failed, else empty
  std::string payload;       // JSON text the operation needs to finish (kind-specific)
};

// One target region of an artifact version being (or having been) replicated there. The
// state machine that moves it lives in emulator/replication.h; the store only keeps it.
struct ReplicationJobRow {
  std::string artifact_id;   // canonical id of the image or application version
  std::string region;        // programmatic region name: "westus2"
  std::string subscription;
  std::string state;         // Replicating | Completed | Failed
  std::int64_t started_ms = 0;
  std::int64_t due_ms = 0;   // when it finishes (Replicating) or finished
  int replica_count = 1;     // replicas it makes (or made) in the region
  std::string storage_type;  // of those replicas
  std::string error;         // JSON of the ARM error it fails (failed) with, else empty
};

// One page of a listing, in insertion order; next_after is the seq to resume after.
struct ResourcePage {
  std::vector<ResourceRow> rows;
  std::optional<std::int64_t> next_after;
};

// What the store holds, counted (the operator's metrics: GET /_emulator/metrics).
struct StoreCounts {
  std::vector<std::pair<std::string, std::int64_t>> resources_by_type;  // type as stored, sorted
  std::int64_t operations_in_progress = 0;
  std::vector<std::pair<std::string, std::int64_t>> jobs_by_state;  // Replicating | Completed | Failed
};

class Store {
 public:
  virtual ~Store() = default;

  // Transactions: one ARM write is one transaction. Nested begin() is an error.
  virtual StoreStatus begin() = 0;
  virtual StoreStatus commit() = 0;
  virtual void rollback() = 0;

  virtual StoreResult<std::optional<ResourceRow>> get(const std::string& id) = 0;
  virtual StoreStatus put(const ResourceRow& row) = 0;  // insert or replace; keeps seq on replace
  virtual StoreStatus remove(const std::string& id) = 0;
  // Removes the resource and every resource whose id starts with "<id>/".
  virtual StoreStatus remove_tree(const std::string& id) = 0;

  // Children of parent_id of one type (type empty = any type).
  virtual StoreResult<ResourcePage> list_children(const std::string& parent_id,
                                                  const std::string& type,
                                                  std::int64_t after_seq, int limit) = 0;
  // Resources of one type anywhere below scope_id (e.g. galleries in a subscription).
  virtual StoreResult<ResourcePage> list_in_scope(const std::string& scope_id,
                                                  const std::string& type,
                                                  std::int64_t after_seq, int limit) = 0;
  // Children that hold a delete back (role assignments and definitions do not).
  virtual StoreResult<std::int64_t> count_children(const std::string& parent_id) = 0;
  // Resources of one type below scope_id whose body's "location" is `location` (as stored: the
  // catalog's region name), counted on an index: the subscription quotas (emulator/quotas.h).
  virtual StoreResult<std::int64_t> count_in_location(const std::string& scope_id, const std::string& type,
                                                      const std::string& location) = 0;
  // The same for every location that has some: {location, count}, sorted by location.
  virtual StoreResult<std::vector<std::pair<std::string, std::int64_t>>> count_by_location(
      const std::string& scope_id, const std::string& type) = 0;

  virtual StoreResult<std::optional<OperationRow>> get_operation(const std::string& id) = 0;
  virtual StoreStatus put_operation(const OperationRow& op) = 0;
  // Operations still InProgress whose due time is <= due_ms, oldest first.
  virtual StoreResult<std::vector<OperationRow>> due_operations(std::int64_t due_ms) = 0;
  // The earliest due time of any InProgress operation.
  virtual StoreResult<std::optional<std::int64_t>> next_due_ms() = 0;

  // Operations of one resource (its canonical id) still InProgress.
  virtual StoreResult<std::vector<OperationRow>> pending_operations_of(const std::string& resource_id) = 0;
  // The `limit` most recently started operations in any state, newest first (the dashboard).
  virtual StoreResult<std::vector<OperationRow>> recent_operations(int limit) = 0;

  // Replication jobs. remove_tree() and clear() remove the jobs of what they remove.
  virtual StoreStatus put_job(const ReplicationJobRow& job) = 0;  // insert or replace (artifact, region)
  virtual StoreStatus remove_job(const std::string& artifact_id, const std::string& region) = 0;
  virtual StoreResult<std::vector<ReplicationJobRow>> jobs_of(const std::string& artifact_id) = 0;
  // Jobs still Replicating whose due time is <= due_ms, earliest first, at most `limit`.
  virtual StoreResult<std::vector<ReplicationJobRow>> due_jobs(std::int64_t due_ms, int limit) = 0;
  // Every job still Replicating, earliest due first.
  virtual StoreResult<std::vector<ReplicationJobRow>> active_jobs() = 0;

  // Small named values (the clock's offset): empty when unset.
  virtual StoreResult<std::string> get_meta(const std::string& key) = 0;
  virtual StoreStatus put_meta(const std::string& key, const std::string& value) = 0;

  // Resources per type, operations InProgress and replication jobs per state.
  virtual StoreResult<StoreCounts> counts() = 0;

  // Removes every resource, operation and job (admin reset); identities and meta stay.
  virtual StoreStatus clear() = 0;
};

// Opens (creating if needed) an SQLite database and migrates it to the current schema.
// path ":memory:" keeps nothing on disk.
StoreResult<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace acg::storage
