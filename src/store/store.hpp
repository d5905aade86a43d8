// store.hpp: the snapshot store: snapshots of many targets kept in one SQLite file, with the
// figures the differ needs (MemStats, heap sites, tasks, threads, stacks by function name) in
// tables beside the encoded snapshot, which is kept byte for byte.
// Not thread-safe: one Store per thread. Any number of processes may open the same file: one
// writes at a time (others wait up to the busy timeout), readers never wait. Allocates.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "leakwatch/result.hpp"
#include "src/snapshot/model.hpp"
#include "src/store/database.hpp"
#include "src/store/retention.hpp"
#include "src/store/task_pack.hpp"
#include "src/store/thread_pack.hpp"

namespace lw::store {

// SnapshotInfo is one stored snapshot without its blob.
struct SnapshotInfo {
  std::int64_t id = 0;
  std::string target;
  std::int64_t time_unix_ns = 0;
  std::string instance_id;
  std::int64_t pid = 0;
  std::int64_t process_start_unix_ns = 0;
  std::int64_t sample_rate = 0;
  std::int64_t heap_alloc = 0;
  std::int64_t heap_objects = 0;
  std::int64_t rss = 0;
  std::int64_t num_tasks = 0;
  std::int64_t leaked_tasks = 0;
  std::int64_t num_threads = 0;
  std::int64_t threads_created = 0;  // 0 for snapshots stored before schema version 4
  std::int64_t leaked_threads = 0;   // likewise
};

// StoredSite is one heap site of a snapshot; sites whose stacks have the same function names are
// summed.
struct StoredSite {
  std::int64_t stack_id = 0;
  std::int64_t inuse_bytes = 0;
  std::int64_t inuse_objects = 0;
  std::int64_t alloc_bytes = 0;
  std::int64_t alloc_objects = 0;
};

// StoredThreadCreateSite is one thread creation site of a snapshot (Snapshot::thread_creates)
// with its store stack id; sites whose stacks have the same function names are summed.
struct StoredThreadCreateSite {
  std::int64_t stack_id = 0;
  std::int64_t count = 0;
};

// StoredProfileSite is the live keys of one custom profile at one stack of a snapshot; sites whose
// stacks have the same function names are summed.
struct StoredProfileSite {
  std::string profile;
  std::int64_t stack_id = 0;
  std::int64_t count = 0;
};

struct ScrapeError {
  std::string target;
  std::int64_t time_unix_ns = 0;
  std::string message;
};

// SnapshotQuery selects snapshots; every field narrows, unset fields do not.
struct SnapshotQuery {
  std::optional<std::string> target;
  std::optional<std::int64_t> since_unix_ns;  // time >= since
  std::optional<std::int64_t> from_id;        // id >= from_id
  std::optional<std::int64_t> to_id;          // id <= to_id
};

struct StoreOptions {
  int busy_timeout_ms = kDefaultBusyTimeoutMs;
};

class Store {
 public:
  // open() opens or creates the store at `path` and migrates it to the current schema. A file
  // that is not a leakwatch database (another program's SQLite file, or not SQLite at all) is
  // refused before anything is written: it stays byte for byte as it was, no WAL switch, no
  // schema version, no tables.
  static Result<std::unique_ptr<Store>> open(const std::string& path, StoreOptions options = {});
  // open_read_only() opens an existing store for commands that only read (diff, export): the
  // file is opened read-only (Database::open_read_only) and never written, so it works in a
  // directory the reader cannot write. A store of an older schema is the exception: it is opened
  // with open() and migrated once (reading needs the current tables).
  static Result<std::unique_ptr<Store>> open_read_only(const std::string& path, StoreOptions options = {});

  // add_snapshot() stores `s`, taken from `target`, with `encoded` (its wire bytes) kept as is, in
  // one transaction. Returns the new snapshot id.
  Result<std::int64_t> add_snapshot(std::string_view target, const snapshot::Snapshot& s,
                                    std::string_view encoded);
  // add_scrape_error() records that `target` could not be read at `time_unix_ns`.
  Result<void> add_scrape_error(std::string_view target, std::int64_t time_unix_ns,
                                std::string_view message);

  // targets() lists every target URL, in the order first seen.
  Result<std::vector<std::string>> targets();
  // snapshots() lists the snapshots `q` selects, oldest first (by time, then id).
  Result<std::vector<SnapshotInfo>> snapshots(const SnapshotQuery& q);
  // snapshot_blob() / load_snapshot() return one snapshot's bytes / decoded value.
  Result<std::string> snapshot_blob(std::int64_t id);
  Result<snapshot::Snapshot> load_snapshot(std::int64_t id);
  // heap_sites() / tasks() / threads() / thread_creates() read one snapshot's rows. A snapshot
  // stored before schema version 4 has no threads and no creation sites here (its blob, read by
  // load_snapshot(), has the few thread fields targets sent then).
  Result<std::vector<StoredSite>> heap_sites(std::int64_t snapshot_id);
  // heap_site() is one site of a snapshot by its stack id; nullopt when the snapshot has none there.
  Result<std::optional<StoredSite>> heap_site(std::int64_t snapshot_id, std::int64_t stack_id);
  Result<std::vector<StoredTask>> tasks(std::int64_t snapshot_id);
  Result<std::vector<StoredThread>> threads(std::int64_t snapshot_id);
  // last_read_corrupt() is true when the last tasks() or threads() failed because the snapshot's
  // packed set does not decode (a damaged row), as opposed to a database failure: a reader may
  // skip that snapshot and go on.
  bool last_read_corrupt() const { return corrupt_; }
  Result<std::vector<StoredThreadCreateSite>> thread_creates(std::int64_t snapshot_id);
  // profile_sites() reads one snapshot's custom profile sites, by profile name then stack id
  // (none for snapshots stored before schema version 5).
  Result<std::vector<StoredProfileSite>> profile_sites(std::int64_t snapshot_id);
  // stack_frames() returns the function names (innermost first) of stack `id`.
  Result<std::vector<std::string>> stack_frames(std::int64_t id);
  Result<std::vector<ScrapeError>> scrape_errors(std::optional<std::string> target);

  // prune() applies `keep` to every target (the age limit counts back from `now_unix_ns`) and
  // returns the number of snapshots deleted.
  Result<std::int64_t> prune(const Retention& keep, std::int64_t now_unix_ns);

  Database& database() { return *db_; }

 private:
  explicit Store(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  Result<std::int64_t> target_id(std::string_view url);
  Result<std::int64_t> intern_stack(const std::string& frames, Statement& find, Statement& add);
  // add_threads() writes the thread set and creation sites of snapshot `snapshot_id` (inside
  // add_snapshot()'s transaction); store_stack maps a snapshot stack id to a store one.
  Result<void> add_threads(std::int64_t snapshot_id, const snapshot::Snapshot& s,
                           const std::function<std::int64_t(snapshot::StackId)>& store_stack);
  // add_profile_sites() writes the custom profile sites of snapshot `snapshot_id`, likewise.
  Result<void> add_profile_sites(std::int64_t snapshot_id, const snapshot::Snapshot& s,
                                 const std::function<std::int64_t(snapshot::StackId)>& store_stack);

  std::unique_ptr<Database> db_;
  bool corrupt_ = false;
  std::unordered_map<std::string, std::int64_t> stack_ids_;  // frames text -> id; stacks are never deleted
  // (instance id, raw return addresses) -> stack id, for snapshots of a run already seen.
  static constexpr std::size_t kMaxPcStackIds = 1 << 20;
  std::unordered_map<std::string, std::int64_t> pc_stack_ids_;
  std::map<std::int64_t, std::vector<std::string>> frames_cache_;
};

// stack_function_names() names each frame of stack `id` of `s` (innermost first): the function from
// the snapshot's locations, or the address in hex when it is unknown. Empty for id 0 or an unknown
// id. `by_address` is an index of s.locations (build it once with index_locations()).
using LocationIndex = std::unordered_map<std::uint64_t, const snapshot::Location*>;
LocationIndex index_locations(const snapshot::Snapshot& s);
std::vector<std::string> stack_function_names(const snapshot::Stack& stack, const LocationIndex& by_address);

}  // namespace lw::store
