// The snapshot store.
//
// A snapshot is written in one transaction: its row (MemStats columns + the encoded bytes as
// received, so `export` and future leakwatch versions can read everything the target sent), its
// heap sites, its tasks, its threads and its custom profile sites. The tables exist so the differ can read a series of 100
// snapshots without decoding 100 blobs; the blob stays the source of truth for profiles.
//
// Stacks are interned by function names (see schema.cpp); ids are never reused, because stacks are
// never deleted (retention drops snapshots, sites and tasks; the stack table only grows with the
// number of distinct code paths, not with time). That makes the in-memory id cache safe even with
// other processes writing.
#include "src/store/store.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <functional>

#include "src/snapshot/codec.hpp"
#include "src/store/schema.hpp"

namespace lw::store {

namespace {

std::int64_t as_i64(std::uint64_t v) { return v > INT64_MAX ? INT64_MAX : static_cast<std::int64_t>(v); }

// stack_frames_text() writes the function names of `stack`, one per line, into *out.
void stack_frames_text(const snapshot::Stack& stack, const LocationIndex& by_address, std::string* out) {
  out->clear();
  for (std::uint64_t pc : stack.pcs) {
    if (!out->empty()) *out += '\n';
    auto it = by_address.find(pc);
    if (it != by_address.end() && !it->second->function.empty()) {
      *out += it->second->function;
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(pc));
      *out += buf;
    }
  }
}

std::vector<std::string> split_frames(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

// Transaction rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  Result<void> begin() {
    auto r = db_.exec("BEGIN IMMEDIATE");
    open_ = r.ok();
    return r;
  }
  Result<void> commit() {
    auto r = db_.exec("COMMIT");
    if (r) open_ = false;
    return r;
  }
  ~Transaction() {
    if (open_) (void)db_.exec("ROLLBACK");
  }

 private:
  Database& db_;
  bool open_ = false;
};

constexpr const char* kSnapshotColumns =
    "s.id, t.url, s.time_unix_ns, s.instance_id, s.pid, s.process_start_unix_ns, s.sample_rate, "
    "s.heap_alloc, s.heap_objects, s.rss, s.num_tasks, s.leaked_tasks, s.num_threads, "
    "COALESCE(h.threads_created, 0), COALESCE(h.leaked_threads, 0)";
// Snapshots stored before schema version 4 have no thread set: their thread counters read 0.
constexpr const char* kSnapshotTables =
    " FROM snapshots s JOIN targets t ON t.id = s.target_id LEFT JOIN thread_sets h ON h.snapshot_id = s.id";

SnapshotInfo read_info(const Statement& st) {
  SnapshotInfo i;
  i.id = st.int64(0);
  i.target = st.text(1);
  i.time_unix_ns = st.int64(2);
  i.instance_id = st.text(3);
  i.pid = st.int64(4);
  i.process_start_unix_ns = st.int64(5);
  i.sample_rate = st.int64(6);
  i.heap_alloc = st.int64(7);
  i.heap_objects = st.int64(8);
  i.rss = st.int64(9);
  i.num_tasks = st.int64(10);
  i.leaked_tasks = st.int64(11);
  i.num_threads = st.int64(12);
  i.threads_created = st.int64(13);
  i.leaked_threads = st.int64(14);
  return i;
}

// insert_rows() inserts `count` rows with `columns` values each, kBatchRows rows per statement
// ("INSERT ... VALUES (?,..),(?,..),..."): one statement step per row made 100k task rows cost
// several times more than the rows themselves. bind(st, first_param, i) binds row i.
constexpr std::size_t kBatchRows = 64;

template <class Bind>
Result<void> insert_rows(Database& db, const char* head, int columns, std::size_t count, Bind bind) {
  auto make = [&](std::size_t rows) {
    std::string one = "(";
    for (int c = 0; c < columns; ++c) one += c ? ",?" : "?";
    one += ")";
    std::string sql = head;
    for (std::size_t r = 0; r < rows; ++r) sql += (r ? "," : "") + one;
    return Statement::prepare(db, sql.c_str());
  };
  std::size_t i = 0;
  if (count >= kBatchRows) {
    auto batch = make(kBatchRows);
    if (!batch) return batch.error();
    for (; i + kBatchRows <= count; i += kBatchRows) {
      for (std::size_t r = 0; r < kBatchRows; ++r) bind(*batch, static_cast<int>(r) * columns + 1, i + r);
      if (auto res = batch->run(); !res) return res.error();
    }
  }
  if (i < count) {
    auto single = make(1);
    if (!single) return single.error();
    for (; i < count; ++i) {
      bind(*single, 1, i);
      if (auto res = single->run(); !res) return res.error();
    }
  }
  return {};
}

// collect() steps `st` to its end and makes one T of each row with `read`.
template <class T, class Read>
Result<std::vector<T>> collect(Statement& st, Read read) {
  std::vector<T> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(read(st));
  }
  return out;
}

// rows_of() is collect() over `sql` with ?1 bound to `id`.
template <class T, class Read>
Result<std::vector<T>> rows_of(Database& db, const char* sql, std::int64_t id, Read read) {
  auto st = Statement::prepare(db, sql);
  if (!st) return st.error();
  st->bind(1, id);
  return collect<T>(*st, read);
}

}  // namespace

LocationIndex index_locations(const snapshot::Snapshot& s) {
  LocationIndex idx;
  idx.reserve(s.locations.size());
  for (const snapshot::Location& l : s.locations) idx.emplace(l.address, &l);
  return idx;
}

std::vector<std::string> stack_function_names(const snapshot::Stack& stack,
                                              const LocationIndex& by_address) {
  std::vector<std::string> names;
  names.reserve(stack.pcs.size());
  for (std::uint64_t pc : stack.pcs) {
    auto it = by_address.find(pc);
    if (it != by_address.end() && !it->second->function.empty()) {
      names.push_back(it->second->function);
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(pc));
      names.emplace_back(buf);
    }
  }
  return names;
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path, StoreOptions options) {
  // Judge an existing file through a read-only connection first: opening it for writing would
  // already switch it to WAL and set its page size.
  struct stat sb {};
  if (stat(path.c_str(), &sb) == 0 && sb.st_size > 0) {
    auto probe = Database::open_read_only(path, options.busy_timeout_ms);
    if (!probe) return probe.error();
    if (auto r = check_leakwatch_file(**probe); !r) return r.error();
  }
  auto db = Database::open(path, options.busy_timeout_ms);
  if (!db) return db.error();
  if (auto r = migrate(**db); !r) return r.error();
  return std::unique_ptr<Store>(new Store(std::move(*db)));
}

Result<std::unique_ptr<Store>> Store::open_read_only(const std::string& path, StoreOptions options) {
  auto db = Database::open_read_only(path, options.busy_timeout_ms);
  if (!db) return db.error();
  if (auto r = check_leakwatch_file(**db); !r) return r.error();
  auto version = (*db)->user_version();
  if (!version) return version.error();
  if (*version > kSchemaVersion)
    return make_error("database " + path + " has schema version " + std::to_string(*version) +
                      ", newer than this leakwatch knows (" + std::to_string(kSchemaVersion) + "); it was left untouched");
  if (*version < kSchemaVersion) {
    db->reset();
    return open(path, options);
  }
  return std::unique_ptr<Store>(new Store(std::move(*db)));
}

Result<std::int64_t> Store::target_id(std::string_view url) {
  auto ins = Statement::prepare(*db_, "INSERT INTO targets(url) VALUES(?) ON CONFLICT(url) DO NOTHING");
  if (!ins) return ins.error();
  if (auto r = ins->bind(1, url).run(); !r) return r.error();
  auto sel = Statement::prepare(*db_, "SELECT id FROM targets WHERE url = ?");
  if (!sel) return sel.error();
  sel->bind(1, url);
  auto row = sel->step();
  if (!row) return row.error();
  if (!*row) return make_error("target " + std::string(url) + " vanished while being added");
  return sel->int64(0);
}

Result<std::int64_t> Store::intern_stack(const std::string& frames, Statement& find, Statement& add) {
  if (auto it = stack_ids_.find(frames); it != stack_ids_.end()) return it->second;
  // FNV-1a: cheap, and collisions only cost a comparison below.
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : frames) h = (h ^ c) * 1099511628211ULL;
  auto hash = static_cast<std::int64_t>(h);
  find.reset();
  find.bind(1, hash);
  for (;;) {
    auto row = find.step();
    if (!row) return row.error();
    if (!*row) break;
    if (find.text(1) == frames) {
      std::int64_t id = find.int64(0);
      find.reset();
      stack_ids_.emplace(frames, id);
      return id;
    }
  }
  find.reset();
  if (auto r = add.bind(1, hash).bind(2, frames).run(); !r) return r.error();
  std::int64_t id = db_->last_insert_id();
  stack_ids_.emplace(frames, id);
  return id;
}

Result<std::int64_t> Store::add_snapshot(std::string_view target, const snapshot::Snapshot& s,
                                         std::string_view encoded) {
  Transaction tx(*db_);
  if (auto r = tx.begin(); !r) return r.error();
  // A failed transaction may have cached ids of stacks it inserted and then rolled back.
  struct CacheGuard {
    Store* self;
    std::size_t size_before;
    bool done = false;
    ~CacheGuard() {
      if (!done && self->stack_ids_.size() != size_before) {
        self->stack_ids_.clear();
        self->pc_stack_ids_.clear();
      }
    }
  } guard{this, stack_ids_.size()};

  auto tid = target_id(target);
  if (!tid) return tid.error();

  auto ins = Statement::prepare(*db_,
      "INSERT INTO snapshots(target_id, time_unix_ns, instance_id, pid, process_start_unix_ns, "
      "format_version, sample_rate, heap_alloc, heap_objects, heap_inuse, heap_sys, sys, "
      "total_alloc, mallocs, frees, stack_inuse, rss, num_tasks, num_threads, leaked_tasks, blob) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!ins) return ins.error();
  const snapshot::MemStats& m = s.mem;
  ins->bind(1, *tid).bind(2, s.time_unix_ns).bind(3, s.process.instance_id).bind(4, s.process.pid)
      .bind(5, s.process.start_time_unix_ns).bind(6, static_cast<std::int64_t>(s.format_version))
      .bind(7, s.heap.sample_rate).bind(8, as_i64(m.heap_alloc)).bind(9, as_i64(m.heap_objects))
      .bind(10, as_i64(m.heap_inuse)).bind(11, as_i64(m.heap_sys)).bind(12, as_i64(m.sys))
      .bind(13, as_i64(m.total_alloc)).bind(14, as_i64(m.mallocs)).bind(15, as_i64(m.frees))
      .bind(16, as_i64(m.stack_inuse)).bind(17, as_i64(m.rss)).bind(18, as_i64(m.num_tasks))
      .bind(19, as_i64(m.num_threads)).bind(20, as_i64(s.leaked_tasks)).bind_blob(21, encoded);
  if (auto r = ins->run(); !r) return r.error();
  std::int64_t snapshot_id = db_->last_insert_id();

  // Snapshot stack ids -> store stack ids (by function names).
  LocationIndex by_address = index_locations(s);
  std::unordered_map<snapshot::StackId, std::int64_t> stack_map;
  stack_map.reserve(s.stacks.size());
  auto find = Statement::prepare(*db_, "SELECT id, frames FROM stacks WHERE hash = ?");
  if (!find) return find.error();
  auto add = Statement::prepare(*db_, "INSERT INTO stacks(hash, frames) VALUES(?, ?)");
  if (!add) return add.error();
  std::string text, key;
  if (pc_stack_ids_.size() > kMaxPcStackIds) pc_stack_ids_.clear();
  for (const snapshot::Stack& st : s.stacks) {
    // Within one process run the same addresses always name the same functions: known address
    // lists skip symbol lookups and the text entirely.
    key.assign(s.process.instance_id);
    key.push_back('\0');
    key.append(reinterpret_cast<const char*>(st.pcs.data()), st.pcs.size() * sizeof(std::uint64_t));
    if (!s.process.instance_id.empty()) {
      if (auto it = pc_stack_ids_.find(key); it != pc_stack_ids_.end()) {
        stack_map.emplace(st.id, it->second);
        continue;
      }
    }
    stack_frames_text(st, by_address, &text);
    auto id = intern_stack(text, *find, *add);
    if (!id) return id.error();
    stack_map.emplace(st.id, *id);
    if (!s.process.instance_id.empty()) pc_stack_ids_.emplace(key, *id);
  }
  auto store_stack = [&](snapshot::StackId id) -> std::int64_t {
    auto it = stack_map.find(id);
    return it == stack_map.end() ? 0 : it->second;
  };

  // Sites whose stacks share function names are summed (their addresses differ, the code does not).
  std::map<std::int64_t, StoredSite> sites;
  for (const snapshot::HeapSite& hs : s.heap.sites) {
    StoredSite& o = sites[store_stack(hs.stack_id)];
    o.inuse_bytes += hs.inuse_bytes;
    o.inuse_objects += hs.inuse_objects;
    o.alloc_bytes += hs.alloc_bytes;
    o.alloc_objects += hs.alloc_objects;
  }
  std::vector<std::pair<std::int64_t, StoredSite>> site_rows(sites.begin(), sites.end());
  auto site_rows_ok = insert_rows(*db_,
      "INSERT INTO heap_sites(snapshot_id, stack_id, inuse_bytes, inuse_objects, alloc_bytes, alloc_objects) VALUES",
      6, site_rows.size(), [&](Statement& st, int p, std::size_t i) {
        const auto& [stack_id, o] = site_rows[i];
        st.bind(p, snapshot_id).bind(p + 1, stack_id).bind(p + 2, o.inuse_bytes).bind(p + 3, o.inuse_objects)
            .bind(p + 4, o.alloc_bytes).bind(p + 5, o.alloc_objects);
      });
  if (!site_rows_ok) return site_rows_ok.error();

  TaskPacker packer;
  for (const snapshot::TaskRecord& t : s.tasks)
    packer.add(t.id, t.state, t.wait_reason, t.wait_since_unix_ns, t.switch_count, store_stack(t.stack_id),
               store_stack(t.create_stack_id), t.leaked, t.leak_reason);
  const std::string packed = packer.finish();
  auto task_set = Statement::prepare(*db_, "INSERT INTO task_sets(snapshot_id, count, records) VALUES(?,?,?)");
  if (!task_set) return task_set.error();
  if (auto r = task_set->bind(1, snapshot_id).bind(2, static_cast<std::int64_t>(s.tasks.size()))
                   .bind_blob(3, packed).run();
      !r)
    return r.error();
  if (auto r = add_threads(snapshot_id, s, store_stack); !r) return r.error();
  if (auto r = add_profile_sites(snapshot_id, s, store_stack); !r) return r.error();
  if (auto r = tx.commit(); !r) return r.error();
  guard.done = true;
  return snapshot_id;
}

Result<void> Store::add_threads(std::int64_t snapshot_id, const snapshot::Snapshot& s,
                                const std::function<std::int64_t(snapshot::StackId)>& store_stack) {
  ThreadPacker packer;
  for (const snapshot::ThreadRecord& t : s.threads)
    packer.add(t, store_stack(t.stack_id), store_stack(t.create_stack_id));
  const std::string packed = packer.finish();
  auto set = Statement::prepare(*db_,
      "INSERT INTO thread_sets(snapshot_id, count, threads_created, leaked_threads, tracked, records) "
      "VALUES(?,?,?,?,?,?)");
  if (!set) return set.error();
  if (auto r = set->bind(1, snapshot_id).bind(2, static_cast<std::int64_t>(s.threads.size()))
                   .bind(3, as_i64(s.threads_created)).bind(4, as_i64(s.leaked_threads))
                   .bind(5, std::int64_t{s.threads_tracked ? 1 : 0}).bind_blob(6, packed).run();
      !r)
    return r.error();
  // Sites whose stacks share function names are summed, as heap sites are.
  std::map<std::int64_t, std::int64_t> creates;
  for (const snapshot::ThreadCreateSite& c : s.thread_creates) creates[store_stack(c.stack_id)] += c.count;
  std::vector<std::pair<std::int64_t, std::int64_t>> rows(creates.begin(), creates.end());
  return insert_rows(*db_, "INSERT INTO thread_create_sites(snapshot_id, stack_id, count) VALUES", 3,
                     rows.size(), [&](Statement& st, int p, std::size_t i) {
                       st.bind(p, snapshot_id).bind(p + 1, rows[i].first).bind(p + 2, rows[i].second);
                     });
}

Result<void> Store::add_profile_sites(std::int64_t snapshot_id, const snapshot::Snapshot& s,
                                     const std::function<std::int64_t(snapshot::StackId)>& store_stack) {
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> sites;
  for (const snapshot::CustomProfile& p : s.custom_profiles)
    for (const snapshot::CustomSample& c : p.samples) sites[{p.name, store_stack(c.stack_id)}] += c.count;
  std::vector<std::pair<std::pair<std::string, std::int64_t>, std::int64_t>> rows(sites.begin(), sites.end());
  return insert_rows(*db_, "INSERT INTO custom_profile_sites(snapshot_id, profile, stack_id, count) VALUES", 4,
                     rows.size(), [&](Statement& st, int p, std::size_t i) {
                       st.bind(p, snapshot_id).bind(p + 1, rows[i].first.first).bind(p + 2, rows[i].first.second)
                           .bind(p + 3, rows[i].second);
                     });
}

Result<void> Store::add_scrape_error(std::string_view target, std::int64_t time_unix_ns,
                                     std::string_view message) {
  Transaction tx(*db_);
  if (auto r = tx.begin(); !r) return r.error();
  auto tid = target_id(target);
  if (!tid) return tid.error();
  auto ins = Statement::prepare(*db_,
      "INSERT INTO scrape_errors(target_id, time_unix_ns, message) VALUES(?,?,?)");
  if (!ins) return ins.error();
  if (auto r = ins->bind(1, *tid).bind(2, time_unix_ns).bind(3, message).run(); !r) return r.error();
  return tx.commit();
}

Result<std::vector<std::string>> Store::targets() {
  auto st = Statement::prepare(*db_, "SELECT url FROM targets ORDER BY id");
  if (!st) return st.error();
  std::vector<std::string> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(st->text(0));
  }
  return out;
}

Result<std::vector<SnapshotInfo>> Store::snapshots(const SnapshotQuery& q) {
  std::string sql = std::string("SELECT ") + kSnapshotColumns + kSnapshotTables + " WHERE 1";
  if (q.target) sql += " AND t.url = ?1";
  if (q.since_unix_ns) sql += " AND s.time_unix_ns >= ?2";
  if (q.from_id) sql += " AND s.id >= ?3";
  if (q.to_id) sql += " AND s.id <= ?4";
  sql += " ORDER BY s.time_unix_ns, s.id";
  auto st = Statement::prepare(*db_, sql.c_str());
  if (!st) return st.error();
  if (q.target) st->bind(1, *q.target);
  if (q.since_unix_ns) st->bind(2, *q.since_unix_ns);
  if (q.from_id) st->bind(3, *q.from_id);
  if (q.to_id) st->bind(4, *q.to_id);
  return collect<SnapshotInfo>(*st, read_info);
}

Result<std::string> Store::snapshot_blob(std::int64_t id) {
  auto st = Statement::prepare(*db_, "SELECT blob FROM snapshots WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return make_error("no snapshot " + std::to_string(id) + " in " + db_->path());
  return st->blob(0);
}

Result<snapshot::Snapshot> Store::load_snapshot(std::int64_t id) {
  auto blob = snapshot_blob(id);
  if (!blob) return blob.error();
  auto s = snapshot::decode(*blob);
  if (!s) return make_error("snapshot " + std::to_string(id) + " in " + db_->path() + ": " + s.error().message);
  return s;
}

Result<std::vector<StoredSite>> Store::heap_sites(std::int64_t snapshot_id) {
  return rows_of<StoredSite>(*db_,
      "SELECT stack_id, inuse_bytes, inuse_objects, alloc_bytes, alloc_objects FROM heap_sites "
      "WHERE snapshot_id = ?",
      snapshot_id, [](const Statement& st) -> StoredSite {
        return {st.int64(0), st.int64(1), st.int64(2), st.int64(3), st.int64(4)};
      });
}

Result<std::optional<StoredSite>> Store::heap_site(std::int64_t snapshot_id, std::int64_t stack_id) {
  auto st = Statement::prepare(*db_,
      "SELECT stack_id, inuse_bytes, inuse_objects, alloc_bytes, alloc_objects FROM heap_sites "
      "WHERE snapshot_id = ? AND stack_id = ?");
  if (!st) return st.error();
  st->bind(1, snapshot_id).bind(2, stack_id);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<StoredSite>();
  return std::optional<StoredSite>(StoredSite{st->int64(0), st->int64(1), st->int64(2), st->int64(3), st->int64(4)});
}

Result<std::vector<StoredTask>> Store::tasks(std::int64_t snapshot_id) {
  corrupt_ = false;
  auto set = Statement::prepare(*db_, "SELECT records FROM task_sets WHERE snapshot_id = ?");
  if (!set) return set.error();
  set->bind(1, snapshot_id);
  auto found = set->step();
  if (!found) return found.error();
  if (*found) {
    auto tasks = unpack_tasks(set->blob(0));
    if (!tasks) {
      corrupt_ = true;
      return make_error("snapshot " + std::to_string(snapshot_id) + ": " + tasks.error().message);
    }
    return tasks;
  }
  // Snapshots stored before schema version 3 have a row per task.
  auto st = Statement::prepare(*db_,
      "SELECT task_id, state, wait_reason, wait_since_unix_ns, switch_count, stack_id, "
      "create_stack_id, leaked, leak_reason FROM tasks WHERE snapshot_id = ?");
  if (!st) return st.error();
  st->bind(1, snapshot_id);
  std::vector<StoredTask> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    StoredTask t;
    t.task_id = static_cast<std::uint64_t>(st->int64(0));
    snapshot::task_state_from_string(st->text(1), &t.state);
    t.wait_reason = st->text(2);
    t.wait_since_unix_ns = st->int64(3);
    t.switch_count = static_cast<std::uint64_t>(st->int64(4));
    t.stack_id = st->int64(5);
    t.create_stack_id = st->int64(6);
    t.leaked = st->int64(7) != 0;
    t.leak_reason = st->text(8);
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<StoredThread>> Store::threads(std::int64_t snapshot_id) {
  corrupt_ = false;
  auto set = Statement::prepare(*db_, "SELECT records FROM thread_sets WHERE snapshot_id = ?");
  if (!set) return set.error();
  set->bind(1, snapshot_id);
  auto found = set->step();
  if (!found) return found.error();
  if (!*found) return std::vector<StoredThread>{};  // stored before schema version 4
  auto threads = unpack_threads(set->blob(0));
  if (!threads) {
    corrupt_ = true;
    return make_error("snapshot " + std::to_string(snapshot_id) + ": " + threads.error().message);
  }
  return threads;
}

Result<std::vector<StoredThreadCreateSite>> Store::thread_creates(std::int64_t snapshot_id) {
  return rows_of<StoredThreadCreateSite>(*db_, "SELECT stack_id, count FROM thread_create_sites WHERE snapshot_id = ?",
                                         snapshot_id, [](const Statement& st) -> StoredThreadCreateSite {
                                           return {st.int64(0), st.int64(1)};
                                         });
}

Result<std::vector<StoredProfileSite>> Store::profile_sites(std::int64_t snapshot_id) {
  return rows_of<StoredProfileSite>(*db_,
      "SELECT profile, stack_id, count FROM custom_profile_sites WHERE snapshot_id = ? ORDER BY profile, stack_id",
      snapshot_id, [](const Statement& st) -> StoredProfileSite { return {st.text(0), st.int64(1), st.int64(2)}; });
}

Result<std::vector<std::string>> Store::stack_frames(std::int64_t id) {
  if (id == 0) return std::vector<std::string>{};
  if (auto it = frames_cache_.find(id); it != frames_cache_.end()) return it->second;
  auto st = Statement::prepare(*db_, "SELECT frames FROM stacks WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return make_error("no stack " + std::to_string(id) + " in " + db_->path());
  auto frames = split_frames(st->text(0));
  frames_cache_.emplace(id, frames);
  return frames;
}

Result<std::vector<ScrapeError>> Store::scrape_errors(std::optional<std::string> target) {
  auto st = Statement::prepare(*db_,
      "SELECT t.url, e.time_unix_ns, e.message FROM scrape_errors e JOIN targets t ON t.id = e.target_id "
      "WHERE ?1 IS NULL OR t.url = ?1 ORDER BY e.id");
  if (!st) return st.error();
  if (target) st->bind(1, *target);
  std::vector<ScrapeError> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back({st->text(0), st->int64(1), st->text(2)});
  }
  return out;
}

Result<std::int64_t> Store::prune(const Retention& keep, std::int64_t now_unix_ns) {
  Transaction tx(*db_);
  if (auto r = tx.begin(); !r) return r.error();
  std::int64_t deleted = 0;
  if (keep.max_age_ns > 0) {
    auto st = Statement::prepare(*db_, "DELETE FROM snapshots WHERE time_unix_ns < ?");
    if (!st) return st.error();
    if (auto r = st->bind(1, now_unix_ns - keep.max_age_ns).run(); !r) return r.error();
    deleted += db_->changes();
  }
  if (keep.max_count > 0) {
    // Keep the newest max_count per target: rank by time within each target.
    auto st = Statement::prepare(*db_,
        "DELETE FROM snapshots WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER "
        "(PARTITION BY target_id ORDER BY time_unix_ns DESC, id DESC) AS n FROM snapshots) WHERE n > ?)");
    if (!st) return st.error();
    if (auto r = st->bind(1, keep.max_count).run(); !r) return r.error();
    deleted += db_->changes();
  }
  if (auto r = tx.commit(); !r) return r.error();
  return deleted;
}

}  // namespace lw::store
