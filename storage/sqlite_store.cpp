// SQLite implementation of Store.
//
// Design notes
// - WAL journal, synchronous=NORMAL: survives a process crash (kill -9); only a power loss
//   can drop the last commits. Measured ~10k durable single-row writes/s (STYLE.md).
// - Prepared statements are cached for the connection's lifetime and reset right after each
//   use: a stepped-but-not-reset SELECT holds its read snapshot and blocks checkpoints.
// - Lookups are by lower-cased id, so ARM's case-insensitive paths are plain equality.
// - Subtree removal uses a range on the lower-cased id: "<id>/" <= key < "<id>0"
//   ('0' is the character after '/').

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string_view>

#include "storage/migrations.h"
#include "storage/store.h"

namespace acg::storage {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

StoreCode code_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL: return StoreCode::disk_full;
    case SQLITE_READONLY: return StoreCode::read_only;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return StoreCode::corrupt;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return StoreCode::busy;
    case SQLITE_MISUSE: return StoreCode::misuse;
    default: return StoreCode::io_error;
  }
}

// A cached prepared statement, reset (and its bindings cleared) when the guard ends.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  void bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); }
  int step() { return sqlite3_step(s_); }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }
  std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3_stmt* s_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  StoreStatus begin() override { return exec("BEGIN IMMEDIATE"); }
  StoreStatus commit() override { return exec("COMMIT"); }
  void rollback() override { (void)exec("ROLLBACK"); }

  StoreResult<std::optional<ResourceRow>> get(const std::string& id) override {
    auto st = prepare("SELECT id, type, parent_id, name, body, seq FROM resources WHERE key = ?1");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, lower(id));
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<ResourceRow>{};
    if (rc != SQLITE_ROW) return error(rc);
    return std::optional<ResourceRow>{row_of(s)};
  }

  StoreStatus put(const ResourceRow& row) override {
    // Upsert that keeps seq (and so list order) stable when a resource is updated.
    auto st = prepare(
        "INSERT INTO resources (key, id, type_key, type, parent_key, parent_id, name, body) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT(key) DO UPDATE SET id = excluded.id, type_key = excluded.type_key, "
        "type = excluded.type, parent_key = excluded.parent_key, parent_id = excluded.parent_id, "
        "name = excluded.name, body = excluded.body");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, lower(row.id));
    s.bind(2, row.id);
    s.bind(3, lower(row.type));
    s.bind(4, row.type);
    s.bind(5, lower(row.parent_id));
    s.bind(6, row.parent_id);
    s.bind(7, row.name);
    s.bind(8, row.body);
    return done(s.step());
  }

  StoreStatus remove(const std::string& id) override {
    auto st = prepare("DELETE FROM resources WHERE key = ?1");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, lower(id));
    return done(s.step());
  }

  StoreStatus remove_tree(const std::string& id) override {
    for (const char* sql : {"DELETE FROM resources WHERE key = ?1 OR (key >= ?2 AND key < ?3)",
                            "DELETE FROM replication_jobs WHERE artifact_key = ?1 OR "
                            "(artifact_key >= ?2 AND artifact_key < ?3)"}) {
      auto st = prepare(sql);
      if (!st.ok()) return st.error();
      Stmt s(st.value());
      std::string key = lower(id);
      s.bind(1, key);
      s.bind(2, key + "/");
      s.bind(3, key + "0");
      if (auto removed = done(s.step()); !removed.ok()) return removed;
    }
    return {};
  }

  StoreResult<ResourcePage> list_children(const std::string& parent_id, const std::string& type,
                                          std::int64_t after_seq, int limit) override {
    auto st = prepare(
        "SELECT id, type, parent_id, name, body, seq FROM resources "
        "WHERE parent_key = ?1 AND (?2 = '' OR type_key = ?2) AND seq > ?3 "
        "ORDER BY seq LIMIT ?4");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, lower(parent_id));
    s.bind(2, lower(type));
    s.bind(3, after_seq);
    s.bind(4, static_cast<std::int64_t>(limit) + 1);
    return page_of(s, limit);
  }

  StoreResult<ResourcePage> list_in_scope(const std::string& scope_id, const std::string& type,
                                          std::int64_t after_seq, int limit) override {
    auto st = prepare(
        "SELECT id, type, parent_id, name, body, seq FROM resources "
        "WHERE type_key = ?1 AND key >= ?2 AND key < ?3 AND seq > ?4 "
        "ORDER BY seq LIMIT ?5");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    std::string key = lower(scope_id);
    s.bind(1, lower(type));
    s.bind(2, key + "/");
    s.bind(3, key + "0");
    s.bind(4, after_seq);
    s.bind(5, static_cast<std::int64_t>(limit) + 1);
    return page_of(s, limit);
  }

  StoreResult<std::int64_t> count_children(const std::string& parent_id) override {
    // Role assignments on a resource go with it; they never hold a delete back.
    auto st = prepare(
        "SELECT count(*) FROM resources WHERE parent_key = ?1 AND type_key NOT LIKE 'microsoft.authorization/%'");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, lower(parent_id));
    int rc = s.step();
    if (rc != SQLITE_ROW) return error(rc);
    return s.int64(0);
  }

  // Both use the index on (type_key, json_extract(body, '$.location'), key) (migration 3): the
  // expression must be spelled exactly as in the index for SQLite to use it.
  StoreResult<std::int64_t> count_in_location(const std::string& scope_id, const std::string& type,
                                              const std::string& location) override {
    auto st = prepare(
        "SELECT count(*) FROM resources WHERE type_key = ?1 AND json_extract(body, '$.location') = ?2 "
        "AND key >= ?3 AND key < ?4");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    const std::string key = lower(scope_id);
    s.bind(1, lower(type));
    s.bind(2, location);
    s.bind(3, key + "/");
    s.bind(4, key + "0");
    int rc = s.step();
    if (rc != SQLITE_ROW) return error(rc);
    return s.int64(0);
  }

  StoreResult<std::vector<std::pair<std::string, std::int64_t>>> count_by_location(const std::string& scope_id,
                                                                                  const std::string& type) override {
    auto st = prepare(
        "SELECT json_extract(body, '$.location') AS location, count(*) FROM resources "
        "WHERE type_key = ?1 AND key >= ?2 AND key < ?3 AND location IS NOT NULL GROUP BY location ORDER BY location");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    const std::string key = lower(scope_id);
    s.bind(1, lower(type));
    s.bind(2, key + "/");
    s.bind(3, key + "0");
    std::vector<std::pair<std::string, std::int64_t>> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.emplace_back(s.text(0), s.int64(1));
    if (auto done_status = done(rc); !done_status.ok()) return done_status.error();
    return out;
  }

  StoreResult<std::optional<OperationRow>> get_operation(const std::string& id) override {
    auto st = prepare(std::string(kOperationColumns) + " WHERE id = ?1");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, lower(id));
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<OperationRow>{};
    if (rc != SQLITE_ROW) return error(rc);
    return std::optional<OperationRow>{operation_of(s)};
  }

  StoreStatus put_operation(const OperationRow& op) override {
    auto st = prepare(
        "INSERT OR REPLACE INTO operations (id, kind, resource_id, location, subscription, status, "
        "start_time, end_time, due_ms, error, payload) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, lower(op.id));
    s.bind(2, op.kind);
    s.bind(3, op.resource_id);
    s.bind(4, op.location);
    s.bind(5, op.subscription);
    s.bind(6, op.status);
    s.bind(7, op.start_time);
    s.bind(8, op.end_time);
    s.bind(9, op.due_ms);
    s.bind(10, op.error);
    s.bind(11, op.payload);
    return done(s.step());
  }

  StoreResult<std::vector<OperationRow>> due_operations(std::int64_t due_ms) override {
    auto st = prepare(std::string(kOperationColumns) +
                      " WHERE status = 'InProgress' AND due_ms <= ?1 ORDER BY due_ms, rowid");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, due_ms);
    return operations(s);
  }

  StoreResult<std::optional<std::int64_t>> next_due_ms() override {
    auto st = prepare("SELECT min(due_ms) FROM operations WHERE status = 'InProgress'");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    int rc = s.step();
    if (rc != SQLITE_ROW) return error(rc);
    if (sqlite3_column_type(raw(st.value()), 0) == SQLITE_NULL) return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>{s.int64(0)};
  }

  StoreResult<std::vector<OperationRow>> pending_operations_of(const std::string& resource_id) override {
    auto st = prepare(std::string(kOperationColumns) +
                      " WHERE resource_id = ?1 AND status = 'InProgress' ORDER BY rowid");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, resource_id);
    return operations(s);
  }

  StoreResult<std::vector<OperationRow>> recent_operations(int limit) override {
    // A replaced row gets a new rowid, so the start time orders them; rowid breaks ties.
    auto st = prepare(std::string(kOperationColumns) + " ORDER BY start_time DESC, rowid DESC LIMIT ?1");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, static_cast<std::int64_t>(limit));
    return operations(s);
  }

  StoreStatus put_job(const ReplicationJobRow& job) override {
    auto st = prepare(
        "INSERT OR REPLACE INTO replication_jobs (artifact_key, region, artifact_id, subscription, state, "
        "started_ms, due_ms, replica_count, storage_type, error) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, lower(job.artifact_id));
    s.bind(2, lower(job.region));
    s.bind(3, job.artifact_id);
    s.bind(4, job.subscription);
    s.bind(5, job.state);
    s.bind(6, job.started_ms);
    s.bind(7, job.due_ms);
    s.bind(8, static_cast<std::int64_t>(job.replica_count));
    s.bind(9, job.storage_type);
    s.bind(10, job.error);
    return done(s.step());
  }

  StoreStatus remove_job(const std::string& artifact_id, const std::string& region) override {
    auto st = prepare("DELETE FROM replication_jobs WHERE artifact_key = ?1 AND region = ?2");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, lower(artifact_id));
    s.bind(2, lower(region));
    return done(s.step());
  }

  StoreResult<std::vector<ReplicationJobRow>> jobs_of(const std::string& artifact_id) override {
    auto st = prepare(std::string(kJobColumns) + " WHERE artifact_key = ?1");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, lower(artifact_id));
    return jobs(s);
  }

  StoreResult<std::vector<ReplicationJobRow>> due_jobs(std::int64_t due_ms, int limit) override {
    auto st = prepare(std::string(kJobColumns) +
                      " WHERE state = 'Replicating' AND due_ms <= ?1 ORDER BY due_ms LIMIT ?2");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, due_ms);
    s.bind(2, static_cast<std::int64_t>(limit));
    return jobs(s);
  }

  StoreResult<std::vector<ReplicationJobRow>> active_jobs() override {
    auto st = prepare(std::string(kJobColumns) + " WHERE state = 'Replicating' ORDER BY due_ms");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    return jobs(s);
  }

  StoreResult<std::string> get_meta(const std::string& key) override {
    auto st = prepare("SELECT value FROM meta WHERE key = ?1");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, key);
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::string();
    if (rc != SQLITE_ROW) return error(rc);
    return s.text(0);
  }

  StoreStatus put_meta(const std::string& key, const std::string& value) override {
    auto st = prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    s.bind(1, key);
    s.bind(2, value);
    return done(s.step());
  }

  StoreResult<StoreCounts> counts() override {
    StoreCounts out;
    using Pairs = std::vector<std::pair<std::string, std::int64_t>>;
    auto grouped = [this](const char* sql, Pairs& into) -> StoreStatus {
      auto st = prepare(sql);
      if (!st.ok()) return st.error();
      Stmt s(st.value());
      int rc;
      while ((rc = s.step()) == SQLITE_ROW) into.emplace_back(s.text(0), s.int64(1));
      return done(rc);
    };
    // Types differ only in casing across rows at most: one group per lower-cased type.
    if (auto st = grouped("SELECT min(type), count(*) FROM resources GROUP BY type_key ORDER BY type_key",
                          out.resources_by_type);
        !st.ok())
      return st.error();
    if (auto st = grouped("SELECT state, count(*) FROM replication_jobs GROUP BY state ORDER BY state",
                          out.jobs_by_state);
        !st.ok())
      return st.error();
    auto st = prepare("SELECT count(*) FROM operations WHERE status = 'InProgress'");
    if (!st.ok()) return st.error();
    Stmt s(st.value());
    int rc = s.step();
    if (rc != SQLITE_ROW) return error(rc);
    out.operations_in_progress = s.int64(0);
    return out;
  }

  StoreStatus clear() override {
    return exec("DELETE FROM resources; DELETE FROM operations; DELETE FROM replication_jobs;");
  }

 private:
  static constexpr const char* kOperationColumns =
      "SELECT id, kind, resource_id, location, subscription, status, start_time, end_time, "
      "due_ms, error, payload FROM operations";

  StoreResult<std::vector<OperationRow>> operations(Stmt& s) {
    std::vector<OperationRow> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(operation_of(s));
    if (rc != SQLITE_DONE) return error(rc);
    return out;
  }

  static constexpr const char* kJobColumns =
      "SELECT artifact_id, region, subscription, state, started_ms, due_ms, replica_count, storage_type, "
      "error FROM replication_jobs";

  StoreResult<std::vector<ReplicationJobRow>> jobs(Stmt& s) {
    std::vector<ReplicationJobRow> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
      out.push_back(ReplicationJobRow{s.text(0), s.text(1), s.text(2), s.text(3), s.int64(4), s.int64(5),
                                      static_cast<int>(s.int64(6)), s.text(7), s.text(8)});
    if (rc != SQLITE_DONE) return error(rc);
    return out;
  }

  static sqlite3_stmt* raw(sqlite3_stmt* s) { return s; }

  StoreError error(int rc) const { return StoreError{code_of(rc), sqlite3_errmsg(db_)}; }

  StoreStatus done(int rc) const {
    if (rc == SQLITE_DONE) return {};
    return error(rc);
  }

  StoreStatus exec(const char* sql) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
    if (rc == SQLITE_OK) return {};
    StoreError e{code_of(rc), msg ? msg : sqlite3_errmsg(db_)};
    sqlite3_free(msg);
    return e;
  }

  StoreResult<sqlite3_stmt*> prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return error(rc);
    cache_.emplace(sql, stmt);
    return stmt;
  }

  static ResourceRow row_of(const Stmt& s) {
    return ResourceRow{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.int64(5)};
  }

  static OperationRow operation_of(const Stmt& s) {
    return OperationRow{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5),
                        s.text(6), s.text(7), s.int64(8), s.text(9), s.text(10)};
  }

  StoreResult<ResourcePage> page_of(Stmt& s, int limit) {
    ResourcePage page;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) page.rows.push_back(row_of(s));
    if (rc != SQLITE_DONE) return error(rc);
    if (static_cast<int>(page.rows.size()) > limit) {
      page.rows.pop_back();
      page.next_after = page.rows.back().seq;
    }
    return page;
  }

  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> cache_;
};

StoreStatus configure(sqlite3* db, bool in_memory) {
  const char* pragmas = in_memory ? "PRAGMA foreign_keys = ON;"
                                  : "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";
  char* msg = nullptr;
  int rc = sqlite3_exec(db, pragmas, nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return {};
  StoreError e{code_of(rc), msg ? msg : "cannot configure database"};
  sqlite3_free(msg);
  return e;
}

}  // namespace

StoreResult<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    StoreError e{code_of(rc), std::string("cannot open database '") + path + "': " +
                                  (db ? sqlite3_errmsg(db) : "out of memory")};
    sqlite3_close(db);
    return e;
  }
  if (auto st = configure(db, path == ":memory:"); !st.ok()) {
    sqlite3_close(db);
    return st.error();
  }
  if (auto st = migrate(db); !st.ok()) {
    sqlite3_close(db);
    return st.error();
  }
  return std::unique_ptr<Store>(new SqliteStore(db));
}

}  // namespace acg::storage
