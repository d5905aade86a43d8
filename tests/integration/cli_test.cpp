// The leakwatch CLI as a user runs it: the real binary against real HTTP servers (started here,
// on 127.0.0.1 with a kernel-chosen port) that serve scripted snapshot series. Exit codes, error
// text, stored snapshots and findings are checked; JSON is read back by python3's json module.
#include <doctest/doctest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <thread>

#include "src/snapshot/codec.hpp"
#include "src/store/store.hpp"
#include "tests/diff/synthetic_snapshot.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/profile/pprof_raw.hpp"

using lw::test::run_command;
using lw::test::SnapshotBuilder;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000LL;
constexpr std::int64_t kMinute = SnapshotBuilder::kMinute;

const std::string kCli = std::string("'") + LW_CLI + "'";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::size_t occurrences(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

// A service a minute apart per snapshot (by the times it reports), with healthy parts: a cache
// that fills in three minutes then stays, churn, and a worker pool that keeps running.
SnapshotBuilder healthy(int i, const std::string& run = "run-1") {
  SnapshotBuilder b(kT0 + i * kMinute, run);
  b.site({"operator new", "Cache::put", "Handler::serve"}, 50'000 + std::min(i, 3) * 300'000, 10 + std::min(i, 3) * 30)
      .site({"operator new", "Request::parse", "Handler::serve"}, i % 2 ? 400'000 : 90'000, 40);
  b.task(1, "", 500 + static_cast<std::uint64_t>(i) * 7, {"main"}, {});
  for (std::uint64_t w = 2; w < 6; ++w)
    b.task(w, "chan receive", 100 + static_cast<std::uint64_t>(i) * 13, {"lw::Chan<Job>::recv", "Pool::work"},
           {"lw::go", "Pool::start"});
  return b;
}

// The same service with planted faults: a heap site that grows per request, forgotten senders
// that block forever (three merely stuck, two proven leaked by the runtime).
SnapshotBuilder leaky(int i) {
  SnapshotBuilder b = healthy(i);
  b.site({"operator new", "Handler::remember", "Handler::serve"}, 100'000 + i * 200'000, 1 + i * 100);
  for (std::uint64_t id = 10; id < 13; ++id)
    b.task(id, "chan send", 2, {"lw::Chan<Response>::send", "Handler::reply_after_timeout"},
           {"lw::go", "Handler::serve"});
  for (std::uint64_t id = 20; id < 22; ++id)
    b.task(id, "chan send", 1, {"lw::Chan<Response>::send", "Handler::forward"}, {"lw::go", "Handler::serve"},
           /*leaked=*/true);
  return b;
}

// The healthy service with OS threads: a condition-variable pool woken now and then and an event
// loop whose CPU time grows (healthy), and planted thread faults: a detached thread waiting on a
// condition nobody signals, two deadlocked threads (proven by the target), three joinable threads
// that finished at minute 1 and are never joined, and a site that starts two threads a minute
// that never end.
SnapshotBuilder threaded(int i) {
  using lw::snapshot::JoinState;
  using lw::snapshot::ThreadState;
  SnapshotBuilder b = healthy(i);
  for (int w = 0; w < 3; ++w)
    b.waiting_thread(200 + w, "condition wait", kT0 + ((i + w) / 2) * 2 * kMinute, 0x5000,
                     static_cast<std::uint64_t>(i + w) / 2 * 1'000'000,
                     {"pthread_cond_wait", "std::condition_variable::wait", "Pool::take"},
                     {"pthread_create", "std::thread::_M_start_thread", "Pool::Pool"});
  b.syscall_thread(210, "epoll_wait", static_cast<std::uint64_t>(i + 1) * 30'000'000, {"epoll_wait", "Loop::run"},
                   {"pthread_create", "Server::start"});
  b.waiting_thread(300, "condition wait", kT0 - kMinute, 0x6000, 2'000'000,
                   {"pthread_cond_wait", "std::condition_variable::wait", "Notifier::wait_for_shutdown"},
                   {"pthread_create", "std::thread::_M_start_thread", "Notifier::start"})
      .join = JoinState::kDetached;
  for (std::int64_t tid : {400, 401}) {
    auto& t = b.waiting_thread(tid, "mutex lock", kT0 - kMinute, tid == 400 ? 0x7200 : 0x7100, 1'000'000,
                               {"__lll_lock_wait", "pthread_mutex_lock", "Account::transfer"},
                               {"pthread_create", "Bank::start_tellers"});
    t.leaked = true;
    t.leak_reason = "deadlock: thread 400 holds 0x7100 and waits for 0x7200 held by thread 401";
  }
  for (std::int64_t tid = 500; tid < 503; ++tid) {
    auto& t = b.thread(tid, i < 1 ? std::vector<std::string>{"Batch::work"} : std::vector<std::string>{},
                       {"pthread_create", "Batch::run_parallel"});
    if (i >= 1) {
      t.state = ThreadState::kExited;
      t.exit_time_unix_ns = kT0 + kMinute - 1000;
    }
  }
  for (int k = 0; k < 2 * i; ++k)
    b.thread(600 + k, {"Session::pump"}, {"pthread_create", "Session::open"}).cpu_ns =
        static_cast<std::uint64_t>(i - k / 2 + 1) * 40'000'000;
  return b;
}

// ScriptedTarget serves snapshot number k (k = requests so far) at /debug/leakwatch/snapshot,
// and stops listening after `die_after` requests when that is >= 0.
class ScriptedTarget {
 public:
  explicit ScriptedTarget(std::function<SnapshotBuilder(int)> script, int die_after = -1)
      : script_(std::move(script)), die_after_(die_after) {
    server_.Get("/debug/leakwatch/snapshot", [this](const httplib::Request&, httplib::Response& res) {
      int k = served_++;
      res.set_content(lw::snapshot::encode(script_(k).get()), "application/octet-stream");
      if (die_after_ >= 0 && k + 1 >= die_after_ && !stopping_.exchange(true))
        stopper_ = std::thread([this] { server_.stop(); });
    });
    server_.Get("/garbage/debug/leakwatch/snapshot", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("this is not a protobuf snapshot at all", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~ScriptedTarget() {
    if (!stopping_.exchange(true)) server_.stop();
    thread_.join();
    if (stopper_.joinable()) stopper_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }
  int served() const { return served_.load(); }

 private:
  std::function<SnapshotBuilder(int)> script_;
  int die_after_;
  httplib::Server server_;
  std::thread thread_, stopper_;
  std::atomic<int> served_{0};
  std::atomic<bool> stopping_{false};
  int port_ = 0;
};

// A port with nothing listening: bind one, note it, close it.
int dead_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

struct TempDb {
  std::string dir = lw::test::make_temp_dir("cli");
  std::string path = dir + "/leakwatch.db";
  ~TempDb() { std::system(("rm -rf '" + dir + "'").c_str()); }
};

}  // namespace

TEST_CASE("leakwatch without a command is a usage error") {
  auto r = run_command(kCli);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "leakwatch: error: no command given"));
  CHECK(contains(r.output, "usage: leakwatch"));
}

TEST_CASE("an unknown command is named in the error") {
  auto r = run_command(kCli + " frobnicate");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "unknown command 'frobnicate'"));
}

TEST_CASE("version and help succeed") {
  auto v = run_command(kCli + " version");
  CHECK(v.exit_code == 0);
  CHECK(v.output == "leakwatch 0.1.0\n");
  auto h = run_command(kCli + " --help");
  CHECK(h.exit_code == 0);
  CHECK(contains(h.output, "commands:"));
}

TEST_CASE("every subcommand has --help") {
  for (const char* cmd : {"snapshot", "watch", "diff", "stacks", "top", "export", "run"}) {
    auto r = run_command(kCli + " " + cmd + " --help");
    CHECK_MESSAGE(r.exit_code == 0, cmd);
    CHECK_MESSAGE(contains(r.output, std::string("usage: leakwatch ") + cmd), cmd);
  }
}

TEST_CASE("snapshot stores one snapshot per call and prints its id") {
  ScriptedTarget target([](int i) { return leaky(i); });
  TempDb db;
  auto a = run_command(kCli + " snapshot " + target.url() + " --db " + db.path);
  CHECK(a.exit_code == 0);
  CHECK(a.output == "1\n");
  auto b = run_command(kCli + " snapshot " + target.host_port() + "/ --db=" + db.path);
  CHECK(b.exit_code == 0);
  CHECK(b.output == "2\n");
  auto st = lw::store::Store::open(db.path);
  REQUIRE(st.ok());
  auto infos = (*st)->snapshots({});
  REQUIRE(infos->size() == 2);
  // Both URL forms name the same target; the blob is what the server sent.
  CHECK((*infos)[0].target == target.url());
  CHECK((*infos)[1].target == target.url());
  CHECK(*(*st)->snapshot_blob(2) == lw::snapshot::encode(leaky(1).get()));
}

TEST_CASE("snapshot error paths") {
  ScriptedTarget target([](int i) { return healthy(i); });
  TempDb db;
  struct Case {
    std::string args;
    std::string message;
  } cases[] = {
      {"", "snapshot: no target URL given"},
      {"a:1 b:2", "give exactly one target URL"},
      {"ftp://127.0.0.1:1", "unsupported scheme 'ftp'"},
      {"127.0.0.1:99999", "bad port '99999'"},
      {"http://:80", "no host"},
      {target.url() + " --bogus", "unknown flag '--bogus'"},
      {target.url() + " --db", "flag --db needs a value"},
      {target.url() + " --timeout soon", "--timeout: bad duration 'soon'"},
      {"127.0.0.1:" + std::to_string(dead_port()), "127.0.0.1:"},
      {target.url() + "/garbage", "not a leakwatch snapshot"},
      {target.url() + "/nothing-here", "HTTP 404"},
  };
  for (const Case& c : cases) {
    auto r = run_command(kCli + " snapshot --db " + db.path + " " + c.args);
    CHECK_MESSAGE(r.exit_code == 2, c.args);
    CHECK_MESSAGE(contains(r.output, "leakwatch: error: "), c.args);
    CHECK_MESSAGE(contains(r.output, c.message), c.args << " -> " << r.output);
  }
  // A file that is not a database is reported and left alone.
  std::string junk = db.dir + "/junk.db";
  std::ofstream(junk) << std::string(8192, 'j');
  auto r = run_command(kCli + " snapshot " + target.url() + " --db " + junk);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, junk));
  std::ifstream in(junk);
  CHECK(std::string((std::istreambuf_iterator<char>(in)), {}) == std::string(8192, 'j'));
}

TEST_CASE("watch on a leaky service reports each planted fault once and exits 1") {
  ScriptedTarget target([](int i) { return leaky(i); });
  TempDb db;
  auto r = run_command(kCli + " watch " + target.url() + " --every 50ms --count 8 --db " + db.path);
  CHECK(r.exit_code == 1);
  CHECK(target.served() == 8);
  CHECK(occurrences(r.output, "heap_growth  " + target.url()) == 1);
  CHECK(contains(r.output, "Handler::remember"));
  CHECK_FALSE(contains(r.output, "Cache::put"));
  CHECK(occurrences(r.output, "stuck_tasks  ") == 1);
  CHECK(contains(r.output, "3 tasks [chan send] unmoved for"));
  CHECK(contains(r.output, "Handler::reply_after_timeout"));
  CHECK(occurrences(r.output, "leaked_tasks  ") == 1);
  CHECK(contains(r.output, "2 tasks [chan send] can never wake"));
  CHECK(contains(r.output, "8 snapshots stored, 0 failed"));
  // Text shows the user's frames: allocator and runtime frames are left to JSON and pprof.
  CHECK_FALSE(contains(r.output, "    operator new\n"));
  CHECK_FALSE(contains(r.output, "    lw::Chan<Response>::send\n"));

  // diff over what watch stored: JSON read back by a real parser.
  auto j = run_command(kCli + " diff --db " + db.path + " --format json | python3 -c '"
                       "import json,sys\n"
                       "d=json.load(sys.stdin)\n"
                       "for f in d[\"findings\"]:\n"
                       "  print(f[\"kind\"], \"|\".join(f[\"frames\"]), f[\"wait_reason\"], f[\"count\"], "
                       "round(f[\"bytes_per_minute\"]), f[\"confidence\"] > 0.5, \"|\".join(f[\"all_frames\"]))\n'");
  CHECK(j.exit_code == 0);  // python's status: the pipe hides diff's 1
  // `frames` starts at the user's code; `all_frames` keeps the allocator and runtime frames.
  CHECK(contains(j.output, "heap_growth Handler::remember|Handler::serve  0 200000 True "
                           "operator new|Handler::remember|Handler::serve"));
  CHECK(contains(j.output, "stuck_tasks Handler::reply_after_timeout chan send 3 0 True "
                           "lw::Chan<Response>::send|Handler::reply_after_timeout"));
  CHECK(contains(j.output, "leaked_tasks Handler::forward chan send 2 0 True "
                           "lw::Chan<Response>::send|Handler::forward"));
  auto code = run_command(kCli + " diff --db " + db.path + " --format json > /dev/null");
  CHECK(code.exit_code == 1);

  // A shorter --stuck-after and an explicit id range.
  auto range = run_command(kCli + " diff --db " + db.path + " --from 1 --to 3 --stuck-after 90s");
  CHECK(range.exit_code == 1);
  CHECK(contains(range.output, "stuck_tasks"));
  CHECK_FALSE(contains(range.output, "heap_growth"));  // three snapshots are too few for a trend
}

TEST_CASE("watch and diff report each planted thread fault once, in text and JSON") {
  ScriptedTarget target([](int i) { return threaded(i); });
  TempDb db;
  auto r = run_command(kCli + " watch " + target.url() + " --every 50ms --count 8 --db " + db.path);
  CHECK(r.exit_code == 1);
  // Each as first seen: when it met its rule.
  CHECK(occurrences(r.output, "stuck_threads  ") == 1);
  CHECK(contains(r.output, "1 thread [condition wait] unmoved, no CPU time, for 5m0s (6 snapshots #1..#6"));
  CHECK(contains(r.output, "    Notifier::wait_for_shutdown\n  created by:\n    Notifier::start\n"));
  CHECK(occurrences(r.output, "leaked_threads  ") == 1);
  CHECK(contains(r.output, "2 threads [mutex lock] can never wake: deadlock: thread 400 holds 0x7100"));
  CHECK(occurrences(r.output, "unjoined_threads  ") == 1);
  CHECK(contains(r.output, "3 threads exited and never joined, for 1m0s (2 snapshots #2..#3"));
  CHECK(contains(r.output, "    threads created at:\n    Batch::run_parallel\n"));
  CHECK(occurrences(r.output, "thread_growth  ") == 1);
  CHECK(contains(r.output, "+2.0 threads/min over 4m0s, 0 -> 8 threads (5 snapshots #1..#5"));
  // The healthy threads and the pool's tasks are quiet; pthread and std::thread frames are left to JSON.
  CHECK_FALSE(contains(r.output, "Pool::take"));
  CHECK_FALSE(contains(r.output, "Loop::run"));
  CHECK_FALSE(contains(r.output, "    pthread_cond_wait\n"));
  CHECK_FALSE(contains(r.output, "    pthread_create\n"));

  // diff over all of it: the figures at the end of the window.
  auto d = run_command(kCli + " diff --db " + db.path);
  CHECK(d.exit_code == 1);
  CHECK(contains(d.output, "1 thread [condition wait] unmoved, no CPU time, for 7m0s (8 snapshots #1..#8"));
  CHECK(contains(d.output, "3 threads exited and never joined, for 6m0s (7 snapshots #2..#8"));
  CHECK(contains(d.output, "+2.0 threads/min over 7m0s, 0 -> 14 threads (8 snapshots #1..#8"));
  auto j = run_command(kCli + " diff --db " + db.path + " --format json | python3 -c '"
                       "import json,sys\n"
                       "d=json.load(sys.stdin)\n"
                       "for f in d[\"findings\"]:\n"
                       "  print(f[\"kind\"], \"|\".join(f[\"frames\"]), \"|\".join(f[\"create_frames\"]), "
                       "f[\"wait_reason\"] or \"-\", f[\"count\"], f[\"ids\"], f[\"task_ids\"], "
                       "round(f[\"threads_per_minute\"], 1), f[\"detail\"] != \"\", \"|\".join(f[\"all_frames\"]))\n'");
  CHECK(j.exit_code == 0);
  CHECK(contains(j.output, "leaked_threads Account::transfer Bank::start_tellers mutex lock 2 [400, 401] [] 0 True "
                           "__lll_lock_wait|pthread_mutex_lock|Account::transfer\n"));
  CHECK(contains(j.output, "stuck_threads Notifier::wait_for_shutdown Notifier::start condition wait 1 [300] [] 0 "
                           "False pthread_cond_wait|std::condition_variable::wait|Notifier::wait_for_shutdown\n"));
  CHECK(contains(j.output, "thread_growth Session::open Session::open - 14 [] [] 2 False pthread_create|Session::open\n"));
  CHECK(contains(j.output, "unjoined_threads Batch::run_parallel Batch::run_parallel - 3 [500, 501, 502] [] 0 False "
                           "pthread_create|Batch::run_parallel\n"));
  CHECK(occurrences(j.output, "\n") == 4);  // and nothing else
}

TEST_CASE("watch on a healthy service finds nothing and exits 0") {
  ScriptedTarget target([](int i) { return healthy(i); });
  TempDb db;
  auto r = run_command(kCli + " watch " + target.host_port() + " --every 50ms --count 8 --db " + db.path);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.output, "8 snapshots stored, 0 failed, 0 findings"));
  auto d = run_command(kCli + " diff --db " + db.path);
  CHECK(d.exit_code == 0);
  CHECK(contains(d.output, "no findings (8 snapshots, 1 series)"));
  auto j = run_command(kCli + " diff --db " + db.path + " --format json");
  CHECK(j.output == "{\"findings\":[]}\n");
}

TEST_CASE("a target that dies mid-watch is recorded and retried while the others go on") {
  ScriptedTarget steady([](int i) { return leaky(i); });
  ScriptedTarget dying([](int i) { return healthy(i); }, /*die_after=*/3);
  TempDb db;
  auto r = run_command(kCli + " watch " + steady.url() + " " + dying.url() +
                       " --every 50ms --count 8 --timeout 1s --db " + db.path);
  CHECK(r.exit_code == 1);
  CHECK(steady.served() == 8);
  CHECK(dying.served() == 3);
  CHECK(occurrences(r.output, "leakwatch: warning: " + dying.url()) == 1);  // once, not every round
  CHECK(contains(r.output, "11 snapshots stored, 5 failed"));
  CHECK(contains(r.output, "heap_growth  " + steady.url()));
  auto st = lw::store::Store::open(db.path);
  REQUIRE(st.ok());
  auto errors = (*st)->scrape_errors(dying.url());
  REQUIRE(errors.ok());
  CHECK(errors->size() == 5);
  lw::store::SnapshotQuery q;
  q.target = dying.url();
  CHECK((*st)->snapshots(q)->size() == 3);
}

TEST_CASE("SIGINT and SIGTERM stop a watch cleanly with every round stored") {
  ScriptedTarget target([](int i) { return healthy(i); });
  for (const char* sig : {"INT", "TERM"}) {
    TempDb db;
    // The signal goes once two rounds are stored (a slow start, under a sanitizer on a loaded
    // machine, must not meet the signal before the CLI's handlers are in).
    const std::string two_stored =
        "python3 -c \"import sqlite3,sys; c=sqlite3.connect('file:" + db.path +
        "?mode=ro', uri=True); sys.exit(0 if c.execute('select count(*) from snapshots').fetchone()[0] >= 2 else 1)\"";
    auto r = run_command(kCli + " watch " + target.url() + " --every 50ms --db " + db.path +
                         " & pid=$!; for i in $(seq 400); do " + two_stored + " 2>/dev/null && break; sleep 0.05; done; kill -" +
                         sig + " $pid; wait $pid; echo \"exit=$?\"");
    CHECK_MESSAGE(contains(r.output, "exit=0"), r.output);
    CHECK(contains(r.output, "leakwatch: stopped after "));
    // The summary's count is what the store holds.
    auto st = lw::store::Store::open(db.path);
    REQUIRE(st.ok());
    auto n = (*st)->snapshots({})->size();
    CHECK(n >= 2);
    CHECK(contains(r.output, std::to_string(n) + " snapshots stored"));
  }
}

TEST_CASE("watch error paths") {
  TempDb db;
  struct Case {
    std::string args;
    std::string message;
  } cases[] = {
      {"", "watch: no target URL given"},
      {"a:1 --every 0s", "--every: bad duration '0s'"},
      {"a:1 --every fast", "--every: bad duration 'fast'"},
      {"a:1 --count -1", "--count: want a positive whole number, got '-1'"},
      {"a:1 --keep 7x", "--keep: want a count (100) or an age"},
      {"a:1 --min-snapshots 2", "a trend needs at least 3 snapshots"},
      {"gopher://a:1", "unsupported scheme 'gopher'"},
  };
  for (const Case& c : cases) {
    auto r = run_command(kCli + " watch " + c.args + " --db " + db.path);
    CHECK_MESSAGE(r.exit_code == 2, c.args);
    CHECK_MESSAGE(contains(r.output, c.message), c.args << " -> " << r.output);
  }
  // Every target down for the whole watch: nothing to judge is an error.
  auto r = run_command(kCli + " watch 127.0.0.1:" + std::to_string(dead_port()) +
                       " --every 20ms --count 2 --db " + db.path);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "leakwatch: error: no snapshot could be taken from any target"));
}

TEST_CASE("watch --keep applies retention as it goes") {
  ScriptedTarget target([](int i) { return healthy(i); });
  TempDb db;
  auto r = run_command(kCli + " watch " + target.url() + " --every 20ms --count 6 --keep 4 --db " + db.path);
  CHECK(r.exit_code == 0);
  auto st = lw::store::Store::open(db.path);
  REQUIRE(st.ok());
  auto infos = *(*st)->snapshots({});
  REQUIRE(infos.size() == 4);
  CHECK(infos[0].time_unix_ns == kT0 + 2 * kMinute);
}

TEST_CASE("a restart mid-watch starts a new series") {
  // Growth in each run, but each run alone is too short for a trend; joined it would be one.
  ScriptedTarget target([](int i) {
    SnapshotBuilder b(kT0 + i * kMinute, i < 4 ? "run-1" : "run-2", i < 4 ? 100 : 200);
    b.site({"operator new", "Handler::remember"}, 100'000 + i * 200'000);
    return b;
  });
  TempDb db;
  auto r = run_command(kCli + " watch " + target.url() + " --every 20ms --count 8 --db " + db.path);
  CHECK(r.exit_code == 0);
  auto d = run_command(kCli + " diff --db " + db.path);
  CHECK(contains(d.output, "no findings (8 snapshots, 2 series)"));
}

TEST_CASE("diff error paths") {
  ScriptedTarget target([](int i) { return healthy(i); });
  TempDb db;
  REQUIRE(run_command(kCli + " snapshot " + target.url() + " --db " + db.path).exit_code == 0);
  struct Case {
    std::string args;
    std::string message;
  } cases[] = {
      {"--window 10m --from 1 --to 2", "--window cannot be combined with --from/--to"},
      {"--from 1", "--from and --to go together"},
      {"--from 5 --to 2", "--from 5 is after --to 2"},
      {"--from x --to 2", "--from: want a snapshot id, got 'x'"},
      {"--format xml", "--format: want text or json, got 'xml'"},
      {"--stuck-after -5m", "--stuck-after: bad duration '-5m'"},
      {"extra", "unexpected argument 'extra'"},
      {"--target 127.0.0.1:1", "no snapshots of http://127.0.0.1:1 in"},
      {"--from 50 --to 60", "no snapshots with ids 50..60"},
  };
  for (const Case& c : cases) {
    auto r = run_command(kCli + " diff --db " + db.path + " " + c.args);
    CHECK_MESSAGE(r.exit_code == 2, c.args);
    CHECK_MESSAGE(contains(r.output, c.message), c.args << " -> " << r.output);
  }
  auto missing = run_command(kCli + " diff --db " + db.dir + "/none.db");
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.output, "no database at " + db.dir + "/none.db"));
  CHECK(access((db.dir + "/none.db").c_str(), F_OK) != 0);  // not created
}

TEST_CASE("top lists heap sites of a live target or a snapshot file") {
  ScriptedTarget target([](int i) { return leaky(7 + i); });
  auto r = run_command(kCli + " top " + target.url() + " -n 2");
  CHECK(r.exit_code == 0);
  CHECK(contains(r.output, "Showing top 2 of 3 sites, inuse_space total"));
  // The biggest site first, allocator frames dropped from the site's name.
  auto first_row = r.output.find("Handler::remember <- Handler::serve");
  CHECK(first_row != std::string::npos);
  CHECK(first_row < r.output.find("Cache::put"));
  CHECK(contains(r.output, "1.4 MiB"));  // 100000 + 7 * 200000 bytes

  TempDb db;
  std::string file = db.dir + "/snap.pb";
  std::ofstream(file, std::ios::binary) << lw::snapshot::encode(healthy(0).get());
  auto f = run_command(kCli + " top " + file + " --sample inuse_objects");
  CHECK(f.exit_code == 0);
  CHECK(contains(f.output, "inuse_objects total 50"));

  auto bad = run_command(kCli + " top " + file + " --sample bytes");
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.output, "--sample: want inuse_space"));
  auto zero = run_command(kCli + " top " + file + " -n 0");
  CHECK(zero.exit_code == 2);
  CHECK(contains(zero.output, "-n: want a positive whole number"));
  auto none = run_command(kCli + " top");
  CHECK(none.exit_code == 2);
  auto junk = run_command(kCli + " top " + db.dir);
  CHECK(junk.exit_code == 2);
}

TEST_CASE("run starts the program with the tracker preloaded and passes on its status") {
  // Any real shared library stands in for the preload library here; the tracker itself is
  // tested with the runtime.
  const std::string preload = "LEAKWATCH_PRELOAD=/lib/x86_64-linux-gnu/libz.so.1 ";
  auto r = run_command(preload + kCli + " run --http 127.0.0.1:7070 -- sh -c 'echo \"$LEAKWATCH_HTTP $LD_PRELOAD\"; exit 3'");
  CHECK(r.exit_code == 3);
  CHECK(contains(r.output, "127.0.0.1:7070 /lib/x86_64-linux-gnu/libz.so.1"));
  auto d = run_command(preload + kCli + " run -- sh -c 'echo $LEAKWATCH_HTTP'");
  CHECK(d.exit_code == 0);
  CHECK(d.output == "127.0.0.1:6060\n");
  // A signal sent to leakwatch reaches the program; its death is our status (128 + SIGTERM).
  auto s = run_command(preload + kCli + " run -- sleep 30 & pid=$!; sleep 0.3; kill -TERM $pid; wait $pid; echo \"exit=$?\"");
  CHECK(contains(s.output, "exit=143"));

  auto missing = run_command(preload + kCli + " run -- /nonexistent/program");
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.output, "leakwatch: error: cannot run /nonexistent/program: No such file or directory"));
  auto nolib = run_command("LEAKWATCH_PRELOAD=/nonexistent/lib.so " + kCli + " run -- true");
  CHECK(nolib.exit_code == 2);
  CHECK(contains(nolib.output, "cannot find libleakwatch_preload.so"));
  auto noprog = run_command(kCli + " run");
  CHECK(noprog.exit_code == 2);
  CHECK(contains(noprog.output, "run: no program given"));
  auto badaddr = run_command(kCli + " run --http nowhere -- true");
  CHECK(badaddr.exit_code == 2);
  CHECK(contains(badaddr.output, "--http: want HOST:PORT, got 'nowhere'"));
}

TEST_CASE("stacks prints threads after tasks; --threads-only, --tasks-only, --internal") {
  ScriptedTarget target([](int i) {
    SnapshotBuilder b = leaky(3 + i);
    b.named_thread(200, "svc", "", 0, {"Server::run", "main"})
        .named_thread(201, "pool-0", "condition wait", 3 * kMinute, {"pthread_cond_wait", "Pool::work"})
        .named_thread(202, "journal", "mutex lock", kMinute / 2, {"__lll_lock_wait", "Journal::flush"}, /*leaked=*/true)
        .named_thread(203, "lw-http", "", 0, {"accept", "lw::server::serve"}, false, /*internal=*/true);
    return b;
  });
  auto r = run_command(kCli + " stacks " + target.url());
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(occurrences("\n" + r.output, "\ngoroutine ") == 10);
  CHECK(occurrences("\n" + r.output, "\nthread ") == 3);
  CHECK(contains(r.output, "\n\nthread 200 \"svc\" [running]:\nServer::run(...)\n"));
  CHECK(contains(r.output, "\nthread 201 \"pool-0\" [condition wait, 3 minutes]:\n"));
  CHECK(contains(r.output, "\nthread 202 \"journal\" [mutex lock (leaked), 30 seconds]:\n"));
  CHECK(r.output.rfind("goroutine ", 0) == 0);  // tasks first
  CHECK_FALSE(contains(r.output, "lw-http"));

  auto threads = run_command(kCli + " stacks " + target.url() + " --threads-only");
  CHECK(threads.exit_code == 0);
  CHECK(threads.output.rfind("thread 200 \"svc\" [running]:\n", 0) == 0);
  CHECK_FALSE(contains(threads.output, "goroutine "));
  auto tasks = run_command(kCli + " stacks " + target.url() + " --tasks-only");
  CHECK(tasks.exit_code == 0);
  CHECK(occurrences("\n" + tasks.output, "\ngoroutine ") == 10);
  CHECK_FALSE(contains(tasks.output, "\nthread "));
  auto internal = run_command(kCli + " stacks " + target.url() + " --threads-only --internal");
  CHECK(contains(internal.output, "\nthread 203 \"lw-http\" [running]:\n"));

  auto group = run_command(kCli + " stacks " + target.url() + " --group");
  CHECK(group.exit_code == 0);
  CHECK(group.output.rfind("goroutine profile: total 10\n", 0) == 0);
  CHECK(contains(group.output, "\n\nthreads profile: total 3\n1 @ "));
  auto leaked = run_command(kCli + " stacks " + target.url() + " --leaked --group");
  CHECK(contains(leaked.output, "goroutineleak profile: total 2\n"));
  CHECK(contains(leaked.output, "threadleak profile: total 1\n"));
  auto leaked_dump = run_command(kCli + " stacks " + target.url() + " --leaked --threads-only");
  CHECK(leaked_dump.output.rfind("thread 202 \"journal\"", 0) == 0);
  CHECK(occurrences(leaked_dump.output, "thread ") == 1);

  auto both = run_command(kCli + " stacks " + target.url() + " --tasks-only --threads-only");
  CHECK(both.exit_code == 2);
  CHECK(contains(both.output, "stacks: --tasks-only and --threads-only exclude each other"));
  auto help = run_command(kCli + " stacks --help");
  CHECK(help.exit_code == 0);
  CHECK(contains(help.output, "--threads-only"));
  CHECK(contains(help.output, "--tasks-only"));
}

TEST_CASE("stacks prints every task as Go's goroutine dump, or grouped") {
  ScriptedTarget target([](int i) { return leaky(3 + i); });
  auto r = run_command(kCli + " stacks " + target.url());
  CHECK(r.exit_code == 0);
  CHECK(occurrences("\n" + r.output, "\ngoroutine ") == 10);  // main, 4 pool workers, 3 stuck, 2 leaked
  CHECK(contains(r.output, "goroutine 10 [chan send"));
  CHECK(contains(r.output, "Handler::reply_after_timeout(...)"));
  CHECK(contains(r.output, "created by Handler::serve in goroutine 1"));
  auto g = run_command(kCli + " stacks " + target.host_port() + " --group");
  CHECK(g.exit_code == 0);
  CHECK(contains(g.output, "goroutine profile: total 10\n"));
  CHECK(contains(g.output, "\n4 @ "));  // the pool's four workers share one stack
  auto leaked = run_command(kCli + " stacks " + target.url() + " --leaked --group");
  CHECK(contains(leaked.output, "goroutineleak profile: total 2\n"));

  auto none = run_command(kCli + " stacks");
  CHECK(none.exit_code == 2);
  CHECK(contains(none.output, "stacks: no target URL or file given"));
  auto bad = run_command(kCli + " stacks " + target.url() + " --group=yes");
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.output, "flag --group takes no value"));
  auto dead = run_command(kCli + " stacks 127.0.0.1:" + std::to_string(dead_port()));
  CHECK(dead.exit_code == 2);
  CHECK(contains(dead.output, "leakwatch: error: http://127.0.0.1:"));
}

namespace {

// pprof() runs `go tool pprof ARGS` offline (see tests/profile/synthetic_snapshot.hpp).
lw::test::CommandResult pprof(const std::string& args) {
  return run_command("cd /tmp && HOME=/tmp GOCACHE=/tmp/lw_gocache PPROF_TMPDIR=/tmp "
                     "go tool pprof -symbolize=none " + args + " 2>/dev/null");
}

}  // namespace

TEST_CASE("export writes stored snapshots as profiles go tool pprof reads") {
  ScriptedTarget target([](int i) { return leaky(4 + i); });
  TempDb db;
  REQUIRE(run_command(kCli + " snapshot " + target.url() + " --db " + db.path).exit_code == 0);
  std::string heap = db.dir + "/heap.pb.gz";
  auto e = run_command(kCli + " export --db " + db.path + " --snapshot 1 --profile heap -o " + heap);
  REQUIRE(e.exit_code == 0);
  auto raw = pprof("-raw " + heap);
  REQUIRE(raw.exit_code == 0);
  auto p = lw::test::parse_raw(raw.output);
  CHECK(p.sample_types == "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt]");
  const auto* leak = lw::test::find_sample(p, {"Handler::remember", "Handler::serve"});
  REQUIRE(leak != nullptr);
  CHECK(leak->values[3] == 100'000 + 4 * 200'000);

  std::string tasks = db.dir + "/goroutine.pb.gz";
  REQUIRE(run_command(kCli + " export --db " + db.path + " --snapshot 1 --profile goroutine -o " + tasks).exit_code == 0);
  auto top = pprof("-top " + tasks);
  CHECK(contains(top.output, "Type: goroutine"));
  CHECK(contains(top.output, "of 10 total"));

  // A delta profile: what grew between two snapshots, read by pprof.
  REQUIRE(run_command(kCli + " snapshot " + target.url() + " --db " + db.path).exit_code == 0);
  std::string delta = db.dir + "/delta.pb.gz";
  REQUIRE(run_command(kCli + " export --db " + db.path + " --snapshot 2 --base 1 --profile heap -o " + delta)
              .exit_code == 0);
  auto draw = pprof("-raw " + delta);
  REQUIRE(draw.exit_code == 0);
  auto dp = lw::test::parse_raw(draw.output);
  // The base's samples come in negated (pprof keeps samples with different bytes labels apart):
  // a stack's net inuse_space is the sum over its samples, as pprof -top shows it.
  auto net = [&](const std::vector<std::string>& frames) {
    long long sum = 0;
    int negative = 0;
    for (const auto& sample : dp.samples)
      if (sample.frames == frames) {
        sum += sample.values[3];
        negative += sample.values[3] < 0;
      }
    CHECK(negative == 1);
    return sum;
  };
  CHECK(net({"Handler::remember", "Handler::serve"}) == 200'000);  // one minute of the planted leak
  CHECK(net({"Request::parse", "Handler::serve"}) == 400'000 - 90'000);  // churn happened to be up

  struct Case {
    std::string args;
    std::string message;
  } cases[] = {
      {"--profile heap -o x", "--snapshot is required"},
      {"--snapshot 1 --base zero --profile heap -o x", "--base: want a snapshot id, got 'zero'"},
      {"--snapshot 1 --base 9 --profile heap -o " + db.dir + "/y", "no snapshot 9 in"},
      {"--snapshot one --profile heap -o x", "--snapshot: want a snapshot id, got 'one'"},
      {"--snapshot 1 -o x", "--profile is required"},
      {"--snapshot 1 --profile cpu -o x", "--profile: want heap, allocs, goroutine, goroutineleak, threads, threadleak, threadcreate, block or mutex, got 'cpu'"},
      {"--snapshot 1 --profile heap", "-o OUT is required"},
      {"--snapshot 7 --profile heap -o " + db.dir + "/x", "no snapshot 7 in " + db.path},
      {"--snapshot 1 --profile heap -o /nonexistent-dir/x.pb.gz", "cannot write /nonexistent-dir/x.pb.gz"},
  };
  for (const Case& c : cases) {
    auto r = run_command(kCli + " export --db " + db.path + " " + c.args);
    CHECK_MESSAGE(r.exit_code == 2, c.args);
    CHECK_MESSAGE(contains(r.output, c.message), c.args << " -> " << r.output);
  }
  auto missing = run_command(kCli + " export --db " + db.dir + "/none.db --snapshot 1 --profile heap -o x");
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.output, "no database at"));
}

#ifdef LW_REAL_PRELOAD
TEST_CASE("run preloads the real tracker: the program serves snapshots leakwatch can store") {
  TempDb db;
  std::string addr = "127.0.0.1:" + std::to_string(dead_port());
  // No LEAKWATCH_PRELOAD: leakwatch finds libleakwatch_preload.so beside itself (build tree).
  auto r = run_command("unset LEAKWATCH_PRELOAD; " + kCli + " run --http " + addr + " -- sleep 30 & pid=$!; " +
                       "for i in $(seq 1 100); do " + kCli + " snapshot " + addr + " --db " + db.path +
                       " 2>/dev/null && break; sleep 0.1; done; kill -TERM $pid; wait $pid; echo \"run_exit=$?\"");
  CHECK(contains(r.output, "1\n"));
  CHECK(contains(r.output, "run_exit=143"));
  auto st = lw::store::Store::open(db.path);
  REQUIRE(st.ok());
  auto snap = (*st)->load_snapshot(1);
  REQUIRE_MESSAGE(snap.ok(), r.output);
  bool is_sleep = false;
  for (const auto& arg : snap->process.cmdline) is_sleep = is_sleep || arg == "sleep";
  CHECK(is_sleep);
  CHECK(snap->process.pid > 0);
}
#endif

TEST_CASE("watch draws a live status line only on a terminal") {
  ScriptedTarget target([](int i) { return healthy(i); });
  TempDb db;
  auto tty = run_command("script -qec \"" + kCli + " watch " + target.url() + " --every 20ms --count 3 --db " + db.path +
                         "\" /dev/null");
  CHECK(contains(tty.output, "\r\033[Kwatch: round 3, 1/1 targets up, 3 snapshots, 0 findings"));
  TempDb db2;
  auto piped = run_command(kCli + " watch " + target.url() + " --every 20ms --count 3 --db " + db2.path);
  CHECK_FALSE(contains(piped.output, "watch: round"));
  CHECK_FALSE(contains(piped.output, "\033["));
}

TEST_CASE("diff, stacks and top colour their text on a terminal only, and never with NO_COLOR") {
  ScriptedTarget target([](int i) { return threaded(i); });
  TempDb db;
  REQUIRE(run_command(kCli + " watch " + target.url() + " --every 20ms --count 8 --db " + db.path).exit_code == 1);
  auto on_tty = [&](const std::string& env, const std::string& args) {
    return run_command("script -qec \"env " + env + " " + kCli + " " + args + "\" /dev/null").output;
  };
  const std::string diff = on_tty("TERM=xterm", "diff --db " + db.path);
  CHECK(contains(diff, "\033[31mleaked_threads\033[0m  "));
  CHECK(contains(diff, "\033[33mstuck_threads\033[0m  "));
  CHECK(contains(diff, "    \033[36mAccount::transfer\033[0m"));
  CHECK(contains(diff, "\033[2m  created by:\033[0m"));
  const std::string stacks = on_tty("TERM=xterm", "stacks " + target.url() + " --threads-only");
  CHECK(contains(stacks, "\033[1mthread "));
  const std::string top = on_tty("TERM=xterm", "top " + target.url());
  CHECK(contains(top, "\033[1m        flat"));
  // NO_COLOR (any non-empty value), TERM=dumb and a pipe: plain text, the same words.
  for (const std::string& env : {std::string("TERM=xterm NO_COLOR=1"), std::string("TERM=dumb")}) {
    const std::string plain = on_tty(env, "diff --db " + db.path);
    CHECK_MESSAGE(!contains(plain, "\033["), env);
    CHECK(contains(plain, "leaked_threads  "));
  }
  auto piped = run_command("TERM=xterm " + kCli + " diff --db " + db.path);
  CHECK_FALSE(contains(piped.output, "\033["));
  CHECK(contains(piped.output, "    Account::transfer\n"));
}
