#include "storage/migrations.h"

#include <sqlite3.h>

#include <string>

namespace acg::storage {
namespace {

// Append only: a shipped migration is never edited, a change is a new entry.
constexpr const char* kMigrations[] = {
    // 1: resources as canonical JSON plus indexed lower-cased keys; long-running operations.
    R"sql(
    CREATE TABLE resources (
      seq        INTEGER PRIMARY KEY AUTOINCREMENT,
      key        TEXT NOT NULL UNIQUE,   -- lower-cased ARM id
      id         TEXT NOT NULL,          -- ARM id in canonical casing
      type_key   TEXT NOT NULL,
      type       TEXT NOT NULL,
      parent_key TEXT NOT NULL,
      parent_id  TEXT NOT NULL,
      name       TEXT NOT NULL,
      body       TEXT NOT NULL
    );
    CREATE INDEX resources_by_parent ON resources (parent_key, type_key, seq);
    CREATE INDEX resources_by_type ON resources (type_key, key);
    CREATE TABLE operations (
      id           TEXT PRIMARY KEY,
      kind         TEXT NOT NULL,
      resource_id  TEXT NOT NULL,
      location     TEXT NOT NULL,
      subscription TEXT NOT NULL,
      status       TEXT NOT NULL,
      start_time   TEXT NOT NULL,
      end_time     TEXT NOT NULL,
      due_ms       INTEGER NOT NULL,
      error        TEXT NOT NULL,
      payload      TEXT NOT NULL
    );
    CREATE INDEX operations_pending ON operations (status, due_ms);
    )sql",
    // 2: replication jobs (one per artifact version and target region), the operations of a
    // resource (a delete cancels them), and small named values such as the clock's offset.
    R"sql(
    CREATE TABLE replication_jobs (
      artifact_key  TEXT NOT NULL,        -- lower-cased id of the version
      region        TEXT NOT NULL,        -- programmatic region name: "westus2"
      artifact_id   TEXT NOT NULL,
      subscription  TEXT NOT NULL,
      state         TEXT NOT NULL,        -- Replicating | Completed | Failed
      started_ms    INTEGER NOT NULL,
      due_ms        INTEGER NOT NULL,
      replica_count INTEGER NOT NULL,
      storage_type  TEXT NOT NULL,
      error         TEXT NOT NULL,        -- JSON of the ARM error it fails with, else empty
      PRIMARY KEY (artifact_key, region)
    );
    CREATE INDEX replication_jobs_due ON replication_jobs (state, due_ms);
    CREATE INDEX operations_by_resource ON operations (resource_id, status);
    CREATE TABLE meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
    )sql",
    // 3: resources counted by type and location below a subscription (the gallery quotas:
    // 100 galleries, 1,000 definitions, 10,000 versions per subscription per region).
    R"sql(
    CREATE INDEX resources_by_type_location ON resources (type_key, json_extract(body, '$.location'), key);
    )sql",
};

constexpr int kVersion = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

StoreStatus exec(sqlite3* db, const std::string& sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return {};
  StoreError e{rc == SQLITE_READONLY ? StoreCode::read_only : StoreCode::io_error,
               msg ? msg : "migration failed"};
  sqlite3_free(msg);
  return e;
}

StoreResult<int> user_version(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) != SQLITE_OK)
    return StoreError{StoreCode::corrupt, sqlite3_errmsg(db)};
  int rc = sqlite3_step(stmt);
  int version = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  if (version < 0) return StoreError{StoreCode::corrupt, "cannot read the schema version"};
  return version;
}

}  // namespace

int current_schema_version() { return kVersion; }

StoreStatus migrate(sqlite3* db) {
  auto version = user_version(db);
  if (!version.ok()) return version.error();
  if (version.value() > kVersion)
    return StoreError{StoreCode::misuse, "the database has schema version " +
                                             std::to_string(version.value()) +
                                             ", newer than this emulator's " +
                                             std::to_string(kVersion)};
  for (int v = version.value(); v < kVersion; ++v) {
    std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                      "PRAGMA user_version = " + std::to_string(v + 1) + "; COMMIT;";
    if (auto st = exec(db, sql); !st.ok()) {
      (void)exec(db, "ROLLBACK");
      return st;
    }
  }
  return {};
}

}  // namespace acg::storage
