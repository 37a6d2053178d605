#pragma once
// Numbered schema migrations; the schema version lives in PRAGMA user_version.

#include "storage/store_status.h"

struct sqlite3;

namespace acg::storage {

// Applies every migration newer than the database's user_version, each in its own
// transaction. A database newer than this binary is refused rather than guessed at.
StoreStatus migrate(sqlite3* db);

// The schema version this binary writes.
int current_schema_version();

}  // namespace acg::storage
