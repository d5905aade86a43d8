// The snapshot store: round trips, migrations, retention, concurrent access, crashes.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>

#include <sqlite3.h>

#include "src/snapshot/codec.hpp"
#include "src/store/schema.hpp"
#include "src/store/store.hpp"
#include "tests/diff/synthetic_snapshot.hpp"

using lw::store::Database;
using lw::store::Retention;
using lw::store::Store;
using lw::test::SnapshotBuilder;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000LL;
constexpr std::int64_t kMinute = SnapshotBuilder::kMinute;

std::string fresh_path(const char* name) {
  std::string p = "/tmp/lw_store_" + std::to_string(getpid()) + "_" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((p + suffix).c_str());
  return p;
}

lw::snapshot::Snapshot sample(int i, const std::string& run = "run-1") {
  SnapshotBuilder b(kT0 + i * kMinute, run);
  b.site({"operator new", "Handler::remember", "Handler::serve"}, 1000 * (i + 1), i + 1)
      .site({"operator new", "Cache::put"}, 500)
      .task(1, "", 10 + i, {"main"}, {})
      .task(7, "chan send", 3, {"lw::Chan<int>::send", "Handler::reply"}, {"lw::go", "Handler::serve"});
  b.waiting_thread(4300, "condition wait", kT0, 0x7000, 1000 + static_cast<std::uint64_t>(i),
                   {"pthread_cond_wait", "Pool::take"}, {"pthread_create", "Pool::start"});
  b.thread_created({"pthread_create", "Pool::start"}, 4);
  return b.get();
}

std::int64_t add(Store& st, const std::string& target, const lw::snapshot::Snapshot& s) {
  auto id = st.add_snapshot(target, s, lw::snapshot::encode(s));
  REQUIRE_MESSAGE(id.ok(), id.error().message);
  return *id;
}

}  // namespace

TEST_CASE("a snapshot is stored with its blob as is, its sites, tasks and stacks by name") {
  auto p = fresh_path("roundtrip.db");
  auto st = Store::open(p);
  REQUIRE(st.ok());
  auto s = sample(2);
  std::string bytes = lw::snapshot::encode(s);
  auto id = (*st)->add_snapshot("http://127.0.0.1:6060", s, bytes);
  REQUIRE(id.ok());
  CHECK(*(*st)->snapshot_blob(*id) == bytes);
  auto back = (*st)->load_snapshot(*id);
  REQUIRE(back.ok());
  CHECK(back->tasks.size() == 2);

  auto infos = (*st)->snapshots({});
  REQUIRE(infos.ok());
  REQUIRE(infos->size() == 1);
  CHECK((*infos)[0].target == "http://127.0.0.1:6060");
  CHECK((*infos)[0].instance_id == "run-1");
  CHECK((*infos)[0].heap_alloc == 3000 + 500);
  CHECK((*infos)[0].num_tasks == 2);

  auto sites = (*st)->heap_sites(*id);
  REQUIRE(sites.ok());
  REQUIRE(sites->size() == 2);
  bool saw_leak_site = false;
  for (const auto& site : *sites) {
    auto frames = (*st)->stack_frames(site.stack_id);
    REQUIRE(frames.ok());
    if (frames->at(1) == "Handler::remember") {
      saw_leak_site = true;
      CHECK(site.inuse_bytes == 3000);
      CHECK(site.inuse_objects == 3);
    }
  }
  CHECK(saw_leak_site);

  auto tasks = (*st)->tasks(*id);
  REQUIRE(tasks.ok());
  REQUIRE(tasks->size() == 2);
  const auto& t7 = (*tasks)[1].task_id == 7 ? (*tasks)[1] : (*tasks)[0];
  CHECK(t7.wait_reason == "chan send");
  CHECK(t7.state == lw::snapshot::TaskState::kWaiting);
  CHECK(*(*st)->stack_frames(t7.create_stack_id) == std::vector<std::string>{"lw::go", "Handler::serve"});

  // The same code in a second snapshot reuses the stack rows.
  auto id2 = add(**st, "http://127.0.0.1:6060", sample(3));
  auto tasks2 = (*st)->tasks(id2);
  REQUIRE(tasks2.ok());
  for (const auto& t : *tasks2)
    if (t.task_id == 7) CHECK(t.stack_id == t7.stack_id);
  CHECK(*(*st)->targets() == std::vector<std::string>{"http://127.0.0.1:6060"});
}

TEST_CASE("queries select by target, time and id range") {
  auto p = fresh_path("query.db");
  auto st = Store::open(p).value();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(add(*st, "a:1", sample(i)));
  add(*st, "b:2", sample(1));
  lw::store::SnapshotQuery q;
  q.target = "a:1";
  CHECK(st->snapshots(q)->size() == 4);
  q.since_unix_ns = kT0 + 2 * kMinute;
  CHECK(st->snapshots(q)->size() == 2);
  lw::store::SnapshotQuery r;
  r.from_id = ids[1];
  r.to_id = ids[2];
  auto got = *st->snapshots(r);
  REQUIRE(got.size() == 2);
  CHECK(got[0].id == ids[1]);
  CHECK(!st->load_snapshot(9999).ok());
  CHECK(st->load_snapshot(9999).error().message.find("no snapshot 9999") != std::string::npos);
}

TEST_CASE("a version 1 database migrates to the current schema and keeps its data") {
  auto p = fresh_path("migrate.db");
  {
    auto db = Database::open(p);
    REQUIRE(db.ok());
    REQUIRE(lw::store::migrate(**db, 1).ok());
    CHECK(*(*db)->user_version() == 1);
    REQUIRE((*db)->exec("INSERT INTO targets(url) VALUES('http://old:1')").ok());
    // scrape_errors arrives with version 2.
    CHECK_FALSE((*db)->exec("SELECT * FROM scrape_errors").ok());
  }
  auto st = Store::open(p);
  REQUIRE(st.ok());
  CHECK(*(*st)->database().user_version() == lw::store::kSchemaVersion);
  CHECK(*(*st)->targets() == std::vector<std::string>{"http://old:1"});
  REQUIRE((*st)->add_scrape_error("http://old:1", kT0, "connection refused").ok());
  auto errors = (*st)->scrape_errors(std::nullopt);
  REQUIRE(errors.ok());
  REQUIRE(errors->size() == 1);
  CHECK((*errors)[0].message == "connection refused");
  add(**st, "http://old:1", sample(0));
}

TEST_CASE("a database from a newer leakwatch is refused and left alone") {
  auto p = fresh_path("newer.db");
  {
    auto db = Database::open(p).value();
    REQUIRE(db->exec("PRAGMA user_version=99").ok());
  }
  auto st = Store::open(p);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("schema version 99, newer than") != std::string::npos);
  CHECK(*(*Database::open(p))->user_version() == 99);
}

TEST_CASE("retention keeps the newest N per target, or drops by age") {
  auto p = fresh_path("retention.db");
  auto st = Store::open(p).value();
  for (int i = 0; i < 6; ++i) add(*st, "a:1", sample(i));
  for (int i = 0; i < 3; ++i) add(*st, "b:2", sample(i));
  auto n = st->prune(Retention{4, 0}, kT0);
  REQUIRE(n.ok());
  CHECK(*n == 2);
  lw::store::SnapshotQuery qa;
  qa.target = "a:1";
  auto left = *st->snapshots(qa);
  REQUIRE(left.size() == 4);
  CHECK(left[0].time_unix_ns == kT0 + 2 * kMinute);  // the oldest two went
  CHECK(st->heap_sites(left[0].id)->size() == 2);
  // Sites and tasks go with their snapshot.
  auto& db = st->database();
  auto count = [&](const char* sql) {
    auto q = lw::store::Statement::prepare(db, sql);
    REQUIRE(q.ok());
    REQUIRE(*q->step());
    return q->int64(0);
  };
  CHECK(count("SELECT COUNT(*) FROM task_sets WHERE snapshot_id NOT IN (SELECT id FROM snapshots)") == 0);
  CHECK(count("SELECT COUNT(*) FROM heap_sites WHERE snapshot_id NOT IN (SELECT id FROM snapshots)") == 0);
  CHECK(count("SELECT COUNT(*) FROM task_sets") == count("SELECT COUNT(*) FROM snapshots"));
  // Threads, their creation sites and counters too.
  CHECK(count("SELECT COUNT(*) FROM thread_sets WHERE snapshot_id NOT IN (SELECT id FROM snapshots)") == 0);
  CHECK(count("SELECT COUNT(*) FROM thread_create_sites WHERE snapshot_id NOT IN (SELECT id FROM snapshots)") == 0);
  CHECK(count("SELECT COUNT(*) FROM thread_sets") == count("SELECT COUNT(*) FROM snapshots"));
  CHECK(count("SELECT COUNT(*) FROM thread_create_sites") == count("SELECT COUNT(*) FROM snapshots"));
  // By age: "now" is 5 minutes after the first snapshot; keep 2m30s.
  auto m = st->prune(*lw::store::parse_retention("150s"), kT0 + 5 * kMinute);
  REQUIRE(m.ok());
  CHECK(*m == 1 + 3);  // a:1 at 2 min (of 2..5) and b:2 at 0, 1, 2 min
  CHECK(st->snapshots(qa)->size() == 3);
}

TEST_CASE("parse_retention reads counts and ages") {
  using lw::store::parse_retention;
  CHECK(parse_retention("100")->max_count == 100);
  CHECK(parse_retention("7d")->max_age_ns == 7LL * 86400 * 1'000'000'000);
  CHECK(parse_retention("90m")->max_age_ns == 90LL * 60 * 1'000'000'000);
  CHECK_FALSE(parse_retention("0"));
  CHECK_FALSE(parse_retention(""));
  CHECK_FALSE(parse_retention("-3"));
  CHECK_FALSE(parse_retention("7x"));
  CHECK_FALSE(parse_retention("d"));
}

TEST_CASE("readers run while another connection holds the write lock; writers wait, then fail clearly") {
  auto p = fresh_path("locked.db");
  auto writer = Store::open(p).value();
  add(*writer, "a:1", sample(0));
  // Another process-like connection takes the write lock and keeps it.
  auto holder = Database::open(p).value();
  REQUIRE(holder->exec("BEGIN IMMEDIATE").ok());
  REQUIRE(holder->exec("INSERT INTO targets(url) VALUES('held:1')").ok());

  lw::store::StoreOptions quick;
  quick.busy_timeout_ms = 200;
  auto reader = Store::open(p, quick);
  REQUIRE_MESSAGE(reader.ok(), reader.error().message);
  CHECK((*reader)->snapshots({})->size() == 1);  // WAL: readers do not wait for the writer
  auto blocked = (*reader)->add_snapshot("a:1", sample(1), lw::snapshot::encode(sample(1)));
  REQUIRE_FALSE(blocked.ok());
  CHECK(blocked.error().message.find("is locked by another writer (gave up after 200 ms)") != std::string::npos);
  CHECK(blocked.error().message.find(p) != std::string::npos);

  REQUIRE(holder->exec("COMMIT").ok());
  auto after = (*reader)->add_snapshot("a:1", sample(1), lw::snapshot::encode(sample(1)));
  CHECK(after.ok());
  CHECK((*reader)->snapshots({})->size() == 2);
}

TEST_CASE("a corrupt store is reported and never overwritten") {
  auto p = fresh_path("corrupt.db");
  {
    auto st = Store::open(p).value();
    for (int i = 0; i < 20; ++i) add(*st, "a:1", sample(i));
    REQUIRE(st->database().exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  }
  // Scribble over the middle of the file (past the header), as a bad disk would.
  std::FILE* f = std::fopen(p.c_str(), "r+b");
  REQUIRE(f);
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  REQUIRE(size > 8192);
  std::string junk(static_cast<std::size_t>(size - 4096), '\x5a');
  std::fseek(f, 4096, SEEK_SET);
  std::fwrite(junk.data(), 1, junk.size(), f);
  std::fclose(f);
  auto before = std::to_string(size);
  auto st = Store::open(p);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find(p) != std::string::npos);
  // Left as it was: same size, junk still there.
  f = std::fopen(p.c_str(), "rb");
  std::fseek(f, 0, SEEK_END);
  CHECK(std::ftell(f) == size);
  std::fseek(f, 5000, SEEK_SET);
  CHECK(std::fgetc(f) == 0x5a);
  std::fclose(f);
}

TEST_CASE("kill -9 in the middle of writing leaves a readable store") {
  auto p = fresh_path("killed.db");
  { REQUIRE(Store::open(p).ok()); }
  // A child writes big snapshots in a loop; it is killed at an arbitrary point.
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(ready[0]);
    auto st = Store::open(p);
    if (!st.ok()) _exit(3);
    for (int i = 0;; ++i) {
      SnapshotBuilder b(kT0 + i * kMinute);
      for (int k = 0; k < 2000; ++k)
        b.task(static_cast<std::uint64_t>(k + 1), "chan receive", 1, {"recv", "worker"}, {"go", "main"});
      auto s = b.get();
      if (!(*st)->add_snapshot("a:1", s, lw::snapshot::encode(s)).ok()) _exit(4);
      if (i == 2) (void)!write(ready[1], "x", 1);
    }
  }
  close(ready[1]);
  char c;
  REQUIRE(read(ready[0], &c, 1) == 1);  // three snapshots are in
  usleep(30'000);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(ready[0]);
  CHECK(WIFSIGNALED(status));

  auto st = Store::open(p);
  REQUIRE_MESSAGE(st.ok(), st.error().message);
  auto all = (*st)->snapshots({});
  REQUIRE(all.ok());
  CHECK(all->size() >= 3);
  for (const auto& info : *all) {
    auto tasks = (*st)->tasks(info.id);
    REQUIRE(tasks.ok());
    CHECK(tasks->size() == 2000);  // every committed snapshot is whole
    CHECK((*st)->load_snapshot(info.id).ok());
  }
  // And it still takes writes.
  add(**st, "a:1", sample(0));
}

TEST_CASE("stacks are interned by function names across runs, never by address alone") {
  auto p = fresh_path("interning.db");
  auto st = Store::open(p).value();
  auto stack_of_task7 = [&](std::int64_t id) {
    auto tasks = st->tasks(id).value();
    for (const auto& t : tasks)
      if (t.task_id == 7) return t.stack_id;
    return std::int64_t{-1};
  };
  auto a = sample(0, "run-1");
  std::int64_t first = stack_of_task7(add(*st, "a:1", a));
  // Another run of the same binary, loaded elsewhere (ASLR): other addresses, same names.
  auto b = sample(1, "run-2");
  for (auto& l : b.locations) l.address += 0x1000;
  for (auto& s : b.stacks)
    for (auto& pc : s.pcs) pc += 0x1000;
  CHECK(stack_of_task7(add(*st, "a:1", b)) == first);
  // A third run where the same addresses hold other code: a new stack.
  auto c = sample(2, "run-3");
  for (auto& l : c.locations) l.function += "_v2";
  std::int64_t third = stack_of_task7(add(*st, "a:1", c));
  CHECK(third != first);
  CHECK(st->stack_frames(third)->at(0) == "lw::Chan<int>::send_v2");
  // And again within run-3 (the address cache): still its own names.
  CHECK(stack_of_task7(add(*st, "a:1", sample(3, "run-3"))) == third);
}

TEST_CASE("a snapshot's threads, creation sites and thread counters are stored and read back") {
  auto p = fresh_path("threads.db");
  auto st = Store::open(p).value();
  SnapshotBuilder b(kT0, "run-1");
  b.task(7, "sync.Mutex.Lock", 3, {"__lll_lock_wait", "Pool::take"}, {"lw::go", "Handler::serve"});
  auto& waiting = b.waiting_thread(4300, "mutex lock", kT0 - kMinute, 0x7000, 5'000'000,
                                   {"__lll_lock_wait", "Pool::take"}, {"pthread_create", "Pool::start"});
  waiting.wait_detail = "held by thread 4301";
  waiting.labels = {{"pool", "io"}};
  waiting.leaked = true;
  waiting.leak_reason = "deadlock: thread 4300 holds M1 and waits for M2 held by thread 4301";
  auto& exited = b.thread(4302, {}, {"pthread_create", "Pool::start"});
  exited.state = lw::snapshot::ThreadState::kExited;
  exited.exit_time_unix_ns = kT0 - 1000;
  auto& worker = b.syscall_thread(4303, "epoll_wait", 9'000'000, {"epoll_wait", "Loop::run"}, {});
  worker.runtime_worker = true;
  worker.join = lw::snapshot::JoinState::kUnknown;
  // The same code created at two addresses (a second copy, as after dlopen): one stored site.
  b.thread_created({"pthread_create", "Pool::start"}, 3);
  auto s = b.get();
  s.thread_creates.push_back({s.thread_creates[0].stack_id, 2});
  s.threads_created = 5;
  s.leaked_threads = 1;
  std::int64_t id = add(*st, "a:1", s);

  auto threads = st->threads(id);
  REQUIRE_MESSAGE(threads.ok(), threads.error().message);
  REQUIRE(threads->size() == 3);
  const auto& t0 = (*threads)[0];
  CHECK(t0.tid == 4300);
  CHECK(t0.state == lw::snapshot::ThreadState::kWaiting);
  CHECK(t0.wait_reason == "mutex lock");
  CHECK(t0.wait_since_unix_ns == kT0 - kMinute);
  CHECK(t0.wait_object == 0x7000);
  CHECK(t0.wait_detail == "held by thread 4301");
  CHECK(t0.cpu_ns == 5'000'000);
  CHECK(t0.join == lw::snapshot::JoinState::kJoinable);
  CHECK(t0.labels == s.threads[0].labels);
  CHECK(t0.leaked);
  CHECK(t0.leak_reason == s.threads[0].leak_reason);
  // Stack ids are the store's: they name the functions, and a stack shared with a task is one row.
  auto frames = st->stack_frames(static_cast<std::int64_t>(t0.stack_id));
  REQUIRE(frames.ok());
  CHECK(*frames == std::vector<std::string>{"__lll_lock_wait", "Pool::take"});
  CHECK(static_cast<std::int64_t>(t0.stack_id) == st->tasks(id)->at(0).stack_id);
  CHECK(*st->stack_frames(static_cast<std::int64_t>(t0.create_stack_id)) ==
        std::vector<std::string>{"pthread_create", "Pool::start"});
  CHECK((*threads)[1].state == lw::snapshot::ThreadState::kExited);
  CHECK((*threads)[1].stack_id == 0);
  CHECK((*threads)[1].exit_time_unix_ns == kT0 - 1000);
  CHECK((*threads)[1].create_stack_id == t0.create_stack_id);
  CHECK((*threads)[2].runtime_worker);
  CHECK((*threads)[2].create_stack_id == 0);

  auto creates = st->thread_creates(id);
  REQUIRE(creates.ok());
  REQUIRE(creates->size() == 1);
  CHECK((*creates)[0].stack_id == static_cast<std::int64_t>(t0.create_stack_id));
  CHECK((*creates)[0].count == 5);

  auto infos = st->snapshots({}).value();
  REQUIRE(infos.size() == 1);
  CHECK(infos[0].num_threads == 3);
  CHECK(infos[0].threads_created == 5);
  CHECK(infos[0].leaked_threads == 1);

  // The snapshot read back whole has its threads too (from the blob, with its own stack ids).
  auto back = st->load_snapshot(id).value();
  REQUIRE(back.threads.size() == 3);
  CHECK(back.threads[0].leak_reason == s.threads[0].leak_reason);
  CHECK(back.threads_created == 5);
  CHECK(back.threads_tracked);

  // A damaged thread set is a clear error, not wrong threads.
  REQUIRE(st->database().exec("UPDATE thread_sets SET records = substr(records, 1, 20)").ok());
  auto damaged = st->threads(id);
  REQUIRE_FALSE(damaged.ok());
  CHECK(damaged.error().message.find("snapshot " + std::to_string(id) + ": thread records: truncated") !=
        std::string::npos);
}

TEST_CASE("a version 3 database migrates: its snapshots still read, without threads; new ones have them") {
  auto p = fresh_path("migrate3.db");
  std::int64_t old_id = 0;
  {
    auto st = Store::open(p).value();
    old_id = add(*st, "a:1", sample(0));
    // What schema 3 had: no thread tables, and its version.
    REQUIRE(st->database().exec("DROP TABLE custom_profile_sites; DROP TABLE thread_create_sites; DROP TABLE thread_sets; "
                                      "PRAGMA user_version=3").ok());
  }
  {
    auto db = Database::open(p).value();
    CHECK(*db->user_version() == 3);
    CHECK_FALSE(db->exec("SELECT * FROM thread_sets").ok());
  }
  auto st = Store::open(p).value();
  CHECK(*st->database().user_version() == lw::store::kSchemaVersion);
  CHECK(st->tasks(old_id)->size() == 2);
  auto old_threads = st->threads(old_id);
  REQUIRE(old_threads.ok());
  CHECK(old_threads->empty());
  CHECK(st->thread_creates(old_id)->empty());
  CHECK(st->load_snapshot(old_id)->threads.size() == 1);  // the blob is kept as it came
  std::int64_t new_id = add(*st, "a:1", sample(1));
  auto infos = st->snapshots({}).value();
  REQUIRE(infos.size() == 2);
  CHECK(infos[0].threads_created == 0);
  CHECK(infos[1].threads_created == 4);
  REQUIRE(st->threads(new_id)->size() == 1);
  CHECK(st->threads(new_id)->at(0).wait_reason == "condition wait");
}

namespace {

std::string read_all(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::string out;
  if (f == nullptr) return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  std::fclose(f);
  return out;
}

}  // namespace

TEST_CASE("another program's SQLite file is refused before any write, by open and open_read_only") {
  for (const char* sql : {"CREATE TABLE users(id INTEGER PRIMARY KEY)", "CREATE TABLE t(x); PRAGMA user_version=2"}) {
    auto p = fresh_path("foreign.db");
    {
      // A plain rollback-journal file, as most programs leave theirs.
      sqlite3* raw = nullptr;
      REQUIRE(sqlite3_open(p.c_str(), &raw) == SQLITE_OK);
      REQUIRE(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
      sqlite3_close(raw);
    }
    std::string before = read_all(p);
    auto st = Store::open(p);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("is not a leakwatch database") != std::string::npos);
    auto ro = Store::open_read_only(p);
    REQUIRE_FALSE(ro.ok());
    CHECK(ro.error().message.find("is not a leakwatch database") != std::string::npos);
    CHECK(read_all(p) == before);
    CHECK(access((p + "-wal").c_str(), F_OK) != 0);
  }
}

TEST_CASE("a read-only store reads what a writer stored and never writes") {
  auto p = fresh_path("ro.db");
  {
    auto st = Store::open(p).value();
    add(*st, "http://a:1", sample(0));
  }
  std::string before = read_all(p);
  auto ro = Store::open_read_only(p);
  REQUIRE(ro.ok());
  CHECK((*ro)->database().read_only());
  CHECK((*ro)->snapshots({})->size() == 1);
  CHECK_FALSE((*ro)->add_scrape_error("http://a:1", 1, "x").ok());
  ro->reset();
  CHECK(read_all(p) == before);
}

TEST_CASE("a writer's lock is told apart from other failures") {
  auto p = fresh_path("busy.db");
  auto st = Store::open(p).value();
  st->database().set_busy_timeout(50);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(p.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto s = sample(0);
  auto locked = st->add_snapshot("http://a:1", s, lw::snapshot::encode(s));
  REQUIRE_FALSE(locked.ok());
  CHECK(st->database().last_failure_busy());
  CHECK(locked.error().message.find("locked by another writer (gave up after 50 ms)") != std::string::npos);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK(st->add_snapshot("http://a:1", s, lw::snapshot::encode(s)).ok());
  CHECK_FALSE(st->database().exec("INSERT INTO nowhere VALUES(1)").ok());
  CHECK_FALSE(st->database().last_failure_busy());
}

TEST_CASE("a task set that does not decode is named as corrupt, not as a database failure") {
  auto p = fresh_path("corrupt.db");
  auto st = Store::open(p).value();
  auto id = add(*st, "http://a:1", sample(0));
  REQUIRE(st->database().exec("UPDATE task_sets SET records = x'00'").ok());
  auto tasks = st->tasks(id);
  REQUIRE_FALSE(tasks.ok());
  CHECK(st->last_read_corrupt());
  CHECK(tasks.error().message.find("snapshot " + std::to_string(id) + ": ") == 0);
  CHECK(st->threads(id).ok());
  CHECK_FALSE(st->last_read_corrupt());
}

TEST_CASE("custom profile sites are stored per profile and stack, summed by function names, pruned with their snapshot") {
  auto p = fresh_path("custom.db");
  auto st = Store::open(p).value();
  SnapshotBuilder b(kT0, "run-1");
  b.custom("open_connections", {"Pool::open", "main"}, 4)
      .custom("open_connections", {"Pool::open_pooled", "main"}, 2)
      .custom("open_files", {"Pool::open", "main"}, 7);
  b.custom("open_connections", {"Pool::open", "main"}, 1);  // the same stack again
  const std::int64_t id = add(*st, "a:1", b.get());
  auto sites = st->profile_sites(id);
  REQUIRE(sites.ok());
  REQUIRE(sites->size() == 3);
  auto frames = [&](std::int64_t stack) { return st->stack_frames(stack).value(); };
  std::map<std::pair<std::string, std::vector<std::string>>, std::int64_t> got;
  for (const auto& s : *sites) got[{s.profile, frames(s.stack_id)}] = s.count;
  CHECK(got[{"open_connections", {"Pool::open", "main"}}] == 5);
  CHECK(got[{"open_connections", {"Pool::open_pooled", "main"}}] == 2);
  CHECK(got[{"open_files", {"Pool::open", "main"}}] == 7);
  CHECK(st->load_snapshot(id)->custom_profiles.size() == 2);  // the blob keeps them as sent
  Retention keep;
  keep.max_count = 1;
  add(*st, "a:1", sample(1));
  REQUIRE(st->prune(keep, kT0 + 10 * kMinute).ok());
  CHECK(st->profile_sites(id)->empty());
}

TEST_CASE("a version 4 database migrates: its snapshots read with no custom profile sites; new ones have them") {
  auto p = fresh_path("migrate4.db");
  std::int64_t old_id = 0;
  {
    auto st = Store::open(p).value();
    old_id = add(*st, "a:1", sample(0));
    REQUIRE(st->database().exec("DROP TABLE custom_profile_sites; PRAGMA user_version=4").ok());
  }
  auto st = Store::open(p).value();
  CHECK(*st->database().user_version() == lw::store::kSchemaVersion);
  auto old_sites = st->profile_sites(old_id);
  REQUIRE(old_sites.ok());
  CHECK(old_sites->empty());
  CHECK(st->tasks(old_id)->size() == 2);
  SnapshotBuilder b(kT0 + kMinute, "run-1");
  b.custom("open_files", {"Store::open", "main"}, 3);
  const std::int64_t new_id = add(*st, "a:1", b.get());
  REQUIRE(st->profile_sites(new_id)->size() == 1);
  CHECK(st->profile_sites(new_id)->at(0).count == 3);
}
