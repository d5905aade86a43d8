// Threads end to end: the thread_faults fixture (plain C++, never includes leakwatch) under
// `leakwatch run` and linked with libleakwatch.so, read over HTTP by curl and `go tool pprof`.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/fixture_process.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/profile/pprof_raw.hpp"

namespace {

using lw::test::run_command;

std::string curl(const std::string& url) {
  auto r = run_command("curl -sS --max-time 20 '" + url + "'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  return r.output;
}

// ThreadEntry is one record of threads?debug=2: its header line and the lines below it.
struct ThreadEntry {
  std::string header;
  std::string body;
};

std::vector<ThreadEntry> parse_dump(const std::string& text) {
  std::vector<ThreadEntry> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("thread ", 0) == 0) {
      out.push_back({line, ""});
    } else if (!out.empty()) {
      out.back().body += line + "\n";
    }
  }
  return out;
}

// running_in() is the entry whose stack passes through `function`; fails the test if not one.
const ThreadEntry* running_in(const std::vector<ThreadEntry>& dump, const std::string& function) {
  const ThreadEntry* found = nullptr;
  int n = 0;
  for (const ThreadEntry& e : dump)
    if (e.body.find(function + "(") != std::string::npos) {
      found = &e;
      ++n;
    }
  CHECK_MESSAGE(n == 1, function << " is in " << n << " threads");
  return found;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void check_fixture(const std::string& url, bool fixed) {
  // Give the deadlocked pair time to lock each other (100 ms) and the waits time to pass a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  const std::string text = curl(url + "/debug/pprof/threads?debug=2");
  INFO(text);
  const std::vector<ThreadEntry> dump = parse_dump(text);
  REQUIRE(dump.size() >= 5);
  for (const ThreadEntry& e : dump) CHECK_FALSE(contains(e.header, "\"lw-"));  // our own threads left out

  // The healthy parts: four pool workers in a condition wait, created by main.
  int pool = 0;
  for (const ThreadEntry& e : dump)
    if (contains(e.body, "pool_worker(")) {
      ++pool;
      CHECK(contains(e.header, "[condition wait"));
      CHECK(contains(e.body, "created by main in thread "));
    }
  CHECK(pool == 4);

  const std::string leaks = curl(url + "/debug/pprof/threadleak?debug=2");
  if (fixed) {
    CHECK(parse_dump(leaks).empty());
    CHECK_FALSE(contains(text, "wait_for_signal_forever("));
    return;
  }
  // Exact waits: the wait time is printed (the faults started over a second ago).
  const ThreadEntry* never = running_in(dump, "wait_for_signal_forever");
  REQUIRE(never);
  CHECK(contains(never->header, "[condition wait, 1 seconds]"));
  CHECK(contains(never->body, "created by main in thread "));
  CHECK(contains(never->body, "thread_faults.cpp:"));
  for (const char* f : {"transfer_a_to_b", "transfer_b_to_a", "wait_for_orphaned_lock"}) {
    const ThreadEntry* e = running_in(dump, f);
    REQUIRE(e);
    CHECK(contains(e->header, "[mutex lock (leaked), 1 seconds, held by thread "));
  }
  const ThreadEntry* reader = running_in(dump, "read_from_pipe");
  REQUIRE(reader);
  CHECK(contains(reader->header, "[syscall read, pipe:["));
  // The thread that blocks every signal: listed, with its state and why there is no stack.
  int unjoined = 0, blocking = 0;
  for (const ThreadEntry& e : dump) {
    if (contains(e.header, "[exited, unjoined]")) ++unjoined;
    if (contains(e.body, "stack unavailable: thread blocks signal")) {
      ++blocking;
      CHECK(contains(e.header, "[syscall pause"));
      CHECK(contains(e.body, "created by main in thread "));
    }
  }
  CHECK(unjoined == 3);
  CHECK(blocking == 1);

  // threadleak: exactly the deadlocked pair and the orphaned mutex's waiter.
  const std::vector<ThreadEntry> leaked = parse_dump(leaks);
  INFO(leaks);
  CHECK(leaked.size() == 3);
  std::map<std::string, int> in_leak;
  for (const ThreadEntry& e : leaked)
    for (const char* f : {"transfer_a_to_b", "transfer_b_to_a", "wait_for_orphaned_lock"})
      if (contains(e.body, std::string(f) + "(")) ++in_leak[f];
  CHECK(in_leak["transfer_a_to_b"] == 1);
  CHECK(in_leak["transfer_b_to_a"] == 1);
  CHECK(in_leak["wait_for_orphaned_lock"] == 1);
  CHECK(contains(leaks, "# leaked: deadlock: thread "));
  CHECK(contains(leaks, "which exited without unlocking it"));

  // threadcreate: go tool pprof reads the creation stacks; the faults were created in main.
  auto r = run_command("cd /tmp && HOME=/tmp GOCACHE=/tmp/lw_gocache go tool pprof -raw '" + url +
                       "/debug/pprof/threadcreate' 2>&1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto profile = lw::test::parse_raw(r.output);
  CHECK(contains(profile.sample_types, "threadcreate/count"));
  long long from_main = 0;
  for (const auto& s : profile.samples)
    for (const auto& f : s.frames)
      if (f == "main" && !s.values.empty()) {
        from_main += s.values[0];
        break;
      }
  CHECK(from_main >= 14);  // 4 pool + 6 faults + 3 unjoined + the owner + per-request threads
}

}  // namespace

TEST_CASE("an unmodified program under leakwatch run: every thread, its wait, creator and proofs") {
  lw::test::FixtureProcess app(LW_CLI, {"run", "--http", "127.0.0.1:0", "--", LW_THREAD_FAULTS_PLAIN}, {}, "ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  REQUIRE_MESSAGE(!app.url().empty(), app.output());
  check_fixture(app.url(), false);
}

TEST_CASE("the same program linked with libleakwatch.so") {
  lw::test::FixtureProcess app(LW_THREAD_FAULTS_LINKED, {}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  check_fixture(app.url(), false);
}

TEST_CASE("the fixed twin: the healthy parts only, nothing proven") {
  lw::test::FixtureProcess app(LW_CLI, {"run", "--http", "127.0.0.1:0", "--", LW_THREAD_FAULTS_PLAIN, "--fixed"}, {},
                               "ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  check_fixture(app.url(), true);
}

namespace {

// watch_summary() watches `url` for `rounds` one-second rounds and returns the findings of
// `leakwatch diff` as sorted "kind first-frame" lines.
// With check_export, the last snapshot is also exported as threads and threadleak profiles that
// go tool pprof reads: threadleak holds exactly the proven threads.
std::string watch_summary(const std::string& url, int rounds, bool check_export = false) {
  const std::string dir = lw::test::make_temp_dir("thread_watch");
  const std::string db = dir + "/leakwatch.db";
  auto watch = run_command(std::string("'" LW_CLI "' watch ") + url + " --every 1s --count " + std::to_string(rounds) +
                           " --stuck-after 2s --db '" + db + "' 2>&1");
  INFO(watch.output);
  CHECK(watch.exit_code <= 1);
  auto summary = run_command(std::string("'" LW_CLI "' diff --db '") + db +
                             "' --stuck-after 2s --format json | python3 -c 'import json,sys\n"
                             "out=[]\n"
                             "for f in json.load(sys.stdin)[\"findings\"]:\n"
                             "  frames=f[\"frames\"] or f[\"create_frames\"]\n"
                             "  out.append(f[\"kind\"]+\" \"+(frames[0].split(\"(\")[0] if frames else \"-\"))\n"
                             "print(\"\\n\".join(sorted(out)))'");
  REQUIRE(summary.exit_code == 0);
  for (const char* kind : {"threads", "threadleak"}) {
    if (!check_export) break;
    const std::string out = dir + "/" + kind + ".pb.gz";
    auto e = run_command(std::string("'" LW_CLI "' export --db '") + db + "' --snapshot " + std::to_string(rounds) +
                         " --profile " + kind + " -o '" + out + "' 2>&1");
    INFO(e.output);
    REQUIRE(e.exit_code == 0);
    auto r = run_command("cd /tmp && HOME=/tmp GOCACHE=/tmp/lw_gocache go tool pprof -raw '" + out + "' 2>&1");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto profile = lw::test::parse_raw(r.output);
    CHECK(contains(profile.sample_types, std::string(kind) + "/count"));
    int proven = 0, samples = 0;
    for (const auto& sample : profile.samples) {
      ++samples;
      for (const auto& f : sample.frames)
        if (contains(f, "transfer_a_to_b") || contains(f, "transfer_b_to_a") || contains(f, "wait_for_orphaned_lock")) {
          ++proven;
          break;
        }
    }
    if (std::string(kind) == "threadleak") CHECK(samples == 3);
    CHECK(proven == 3);
    if (std::string(kind) == "threads") CHECK(samples > 3);
  }
  run_command("rm -rf '" + dir + "'");
  return summary.output;
}

}  // namespace

TEST_CASE("leakwatch watch and diff name each thread fault of the program, and none of its healthy parts") {
  lw::test::FixtureProcess app(LW_CLI, {"run", "--http", "127.0.0.1:0", "--", LW_THREAD_FAULTS_PLAIN}, {}, "ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string summary = watch_summary(app.url(), 6, true);
  CHECK(summary ==
        "leaked_threads fixture::transfer_a_to_b\n"
        "leaked_threads fixture::transfer_b_to_a\n"
        "leaked_threads fixture::wait_for_orphaned_lock\n"
        "stuck_threads fixture::read_from_pipe\n"
        "stuck_threads fixture::wait_for_signal_forever\n"
        "stuck_threads main\n"  // the thread that blocks every signal: no stack, named by its creator
        "unjoined_threads main\n");
}

TEST_CASE("the fixed twin gives no finding") {
  lw::test::FixtureProcess app(LW_CLI, {"run", "--http", "127.0.0.1:0", "--", LW_THREAD_FAULTS_PLAIN, "--fixed"}, {},
                               "ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  CHECK(watch_summary(app.url(), 6) == "\n");
}
