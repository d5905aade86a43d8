// schema.hpp: the store's tables and the migrations between their versions (PRAGMA user_version).
// Not thread-safe (works on one Database). Allocates.
//
// Version 1: targets, snapshots (process identity, MemStats columns, the encoded snapshot as is),
// stacks (function names, innermost first, interned), heap_sites and tasks per snapshot.
// Version 2: scrape_errors (a target that could not be read), an index of snapshots by time.
// Version 3: task_sets (a snapshot's tasks packed in one blob, task_pack.hpp) instead of task rows.
// Version 4: thread_sets (a snapshot's threads packed in one blob, thread_pack.hpp, with its
// thread counters) and thread_create_sites.
// Version 5: custom_profile_sites (each custom profile's live keys per stack).
#pragma once

#include <cstdint>

#include "leakwatch/result.hpp"
#include "src/store/database.hpp"

namespace lw::store {

inline constexpr std::int64_t kSchemaVersion = 5;

// check_leakwatch_file() refuses a database another program made, before anything is written to
// it: tables but no leakwatch schema version (user_version 0), or a schema version without
// leakwatch's tables. A new, empty database passes. Reads only.
Result<void> check_leakwatch_file(Database& db);

// migrate() brings `db` from its version up to `to` (each step in one transaction). A database
// newer than this build knows is an Error and is left as it is.
Result<void> migrate(Database& db, std::int64_t to = kSchemaVersion);

}  // namespace lw::store
