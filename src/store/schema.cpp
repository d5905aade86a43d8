// Migrations are append-only: each entry takes the schema from version i to i+1 and is never
// edited once released, so a database written by any older leakwatch opens in this one. Rejected:
// "CREATE TABLE IF NOT EXISTS" on every start, which cannot change an existing table.
//
// Stacks are found by a 64-bit hash of their text and compared in full, so a collision costs a
// comparison, never a wrong merge; a UNIQUE index on the text itself (kilobytes per deep stack)
// made interning 10k new stacks take most of a second.
//
// Stacks are stored as their function names (innermost first, one per line), not addresses: the
// same code has different addresses in each run (ASLR), and the differ groups by name across
// snapshots and restarts without decoding the blobs.
#include "src/store/schema.hpp"

#include <string>
#include <vector>

namespace lw::store {
namespace {

constexpr const char* kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE targets(
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL UNIQUE);
CREATE TABLE snapshots(
  id INTEGER PRIMARY KEY,
  target_id INTEGER NOT NULL REFERENCES targets(id),
  time_unix_ns INTEGER NOT NULL,
  instance_id TEXT NOT NULL,
  pid INTEGER NOT NULL,
  process_start_unix_ns INTEGER NOT NULL,
  format_version INTEGER NOT NULL,
  sample_rate INTEGER NOT NULL,
  heap_alloc INTEGER NOT NULL,
  heap_objects INTEGER NOT NULL,
  heap_inuse INTEGER NOT NULL,
  heap_sys INTEGER NOT NULL,
  sys INTEGER NOT NULL,
  total_alloc INTEGER NOT NULL,
  mallocs INTEGER NOT NULL,
  frees INTEGER NOT NULL,
  stack_inuse INTEGER NOT NULL,
  rss INTEGER NOT NULL,
  num_tasks INTEGER NOT NULL,
  num_threads INTEGER NOT NULL,
  leaked_tasks INTEGER NOT NULL,
  blob BLOB NOT NULL);
CREATE TABLE stacks(
  id INTEGER PRIMARY KEY,
  hash INTEGER NOT NULL,
  frames TEXT NOT NULL);
CREATE INDEX stacks_by_hash ON stacks(hash);
CREATE TABLE heap_sites(
  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  stack_id INTEGER NOT NULL REFERENCES stacks(id),
  inuse_bytes INTEGER NOT NULL,
  inuse_objects INTEGER NOT NULL,
  alloc_bytes INTEGER NOT NULL,
  alloc_objects INTEGER NOT NULL,
  PRIMARY KEY(snapshot_id, stack_id)) WITHOUT ROWID;
CREATE TABLE tasks(
  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  task_id INTEGER NOT NULL,
  state TEXT NOT NULL,
  wait_reason TEXT NOT NULL,
  wait_since_unix_ns INTEGER NOT NULL,
  switch_count INTEGER NOT NULL,
  stack_id INTEGER NOT NULL,
  create_stack_id INTEGER NOT NULL,
  leaked INTEGER NOT NULL,
  leak_reason TEXT NOT NULL,
  PRIMARY KEY(snapshot_id, task_id)) WITHOUT ROWID;
)sql",
    // 1 -> 2
    R"sql(
CREATE TABLE scrape_errors(
  id INTEGER PRIMARY KEY,
  target_id INTEGER NOT NULL REFERENCES targets(id),
  time_unix_ns INTEGER NOT NULL,
  message TEXT NOT NULL);
CREATE INDEX snapshots_by_target_time ON snapshots(target_id, time_unix_ns);
)sql",
    // 2 -> 3: a snapshot's tasks as one packed blob (task_pack.hpp); rows already in `tasks`
    // stay there and are still read.
    R"sql(
CREATE TABLE task_sets(
  snapshot_id INTEGER PRIMARY KEY REFERENCES snapshots(id) ON DELETE CASCADE,
  count INTEGER NOT NULL,
  records BLOB NOT NULL);
)sql",
    // 3 -> 4: a snapshot's threads as one packed blob (thread_pack.hpp) with the snapshot's thread
    // counters, and its thread creation sites. Snapshots stored before have no thread set.
    R"sql(
CREATE TABLE thread_sets(
  snapshot_id INTEGER PRIMARY KEY REFERENCES snapshots(id) ON DELETE CASCADE,
  count INTEGER NOT NULL,
  threads_created INTEGER NOT NULL,
  leaked_threads INTEGER NOT NULL,
  tracked INTEGER NOT NULL,
  records BLOB NOT NULL);
CREATE TABLE thread_create_sites(
  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  stack_id INTEGER NOT NULL REFERENCES stacks(id),
  count INTEGER NOT NULL,
  PRIMARY KEY(snapshot_id, stack_id)) WITHOUT ROWID;
)sql",
    // 4 -> 5: the live keys of each custom profile (lw::Profile) per stack. Snapshots stored
    // before have none here (nor in their blobs).
    R"sql(
CREATE TABLE custom_profile_sites(
  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  profile TEXT NOT NULL,
  stack_id INTEGER NOT NULL REFERENCES stacks(id),
  count INTEGER NOT NULL,
  PRIMARY KEY(snapshot_id, profile, stack_id)) WITHOUT ROWID;
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

}  // namespace

Result<void> check_leakwatch_file(Database& db) {
  auto version = db.user_version();
  if (!version) return version.error();
  auto st = Statement::prepare(db,
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  if (!st) return st.error();
  std::vector<std::string> tables;
  bool has_targets = false, has_snapshots = false;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    tables.push_back(st->text(0));
    has_targets = has_targets || tables.back() == "targets";
    has_snapshots = has_snapshots || tables.back() == "snapshots";
  }
  if (*version == 0 && tables.empty()) return {};  // new
  if (*version > kSchemaVersion) return {};         // a newer leakwatch's: migrate() says so
  if (*version > 0 && has_targets && has_snapshots) return {};
  std::string list;
  for (std::size_t i = 0; i < tables.size() && i < 5; ++i) list += (i ? ", " : "") + tables[i];
  if (tables.size() > 5) list += ", ...";
  return make_error("database " + db.path() + " is not a leakwatch database (schema version " +
                    std::to_string(*version) + (tables.empty() ? ", no tables" : ", tables " + list) +
                    "); it was left untouched");
}

Result<void> migrate(Database& db, std::int64_t to) {
  // An up-to-date database needs no lock: readers open it while a watcher writes.
  auto current = db.user_version();
  if (!current) return current.error();
  if (*current == to) return {};
  // BEGIN IMMEDIATE takes the write lock first, so two processes opening a new file at once
  // migrate it once: the second waits, then sees the new version.
  for (;;) {
    if (auto r = db.exec("BEGIN IMMEDIATE"); !r) return r.error();
    auto v = db.user_version();
    if (!v) {
      (void)db.exec("ROLLBACK");
      return v.error();
    }
    if (*v > kSchemaVersion) {
      (void)db.exec("ROLLBACK");
      return make_error("database " + db.path() + " has schema version " + std::to_string(*v) +
                        ", newer than this leakwatch knows (" + std::to_string(kSchemaVersion) +
                        "); it was left untouched");
    }
    if (*v >= to) return db.exec("COMMIT");
    auto step = db.exec(kMigrations[*v]);
    if (step) step = db.exec(("PRAGMA user_version=" + std::to_string(*v + 1)).c_str());
    if (step) step = db.exec("COMMIT");
    if (!step) {
      (void)db.exec("ROLLBACK");
      return make_error("cannot migrate " + db.path() + " to schema version " +
                        std::to_string(*v + 1) + ": " + step.error().message);
    }
  }
}

}  // namespace lw::store
