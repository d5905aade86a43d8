// The block and mutex profiles end to end: the contention fixture's waits with known answers,
// served over HTTP and read by go tool pprof (-raw) and as Go's debug=1 text.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "tests/integration/fixture_process.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/profile/pprof_raw.hpp"

namespace {

using lw::test::run_command;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string fetch(const std::string& url, const std::string& file) {
  auto r = run_command("curl -s -o '" + file + "' -w '%{http_code}' '" + url + "'");
  return r.output;
}

// pprof_raw() reads a profile file or URL with go tool pprof -raw, with `flags` (e.g. -tagfocus).
lw::test::RawProfile pprof_raw(const std::string& file, const std::string& flags = "") {
  auto r = run_command("cd /tmp && HOME=/tmp GOCACHE=/tmp/lw_gocache go tool pprof -raw " + flags + " '" + file + "' 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  return lw::test::parse_raw(r.output);
}

// Where is the innermost frame that names one of the fixture's functions: the function a sample is
// charged to.
struct Charged {
  long long count = 0;
  long long delay_ns = 0;
};

Charged charged_to(const lw::test::RawProfile& p, const std::string& function) {
  Charged c;
  for (const auto& s : p.samples) {
    for (const auto& f : s.frames) {
      if (contains(f, "receive_slowly") || contains(f, "send_slowly") || contains(f, "hold_lw_mutex") ||
          contains(f, "wait_lw_mutex") || contains(f, "hold_std_mutex") || contains(f, "wait_std_mutex")) {
        if (contains(f, function)) {
          c.count += s.values.at(0);
          c.delay_ns += s.values.at(1);
        }
        break;
      }
    }
  }
  return c;
}

void check_near(double got, double want, double tolerance, const std::string& what) {
  INFO(what, ": ", got, " against ", want);
  CHECK(got >= want * (1 - tolerance));
  CHECK(got <= want * (1 + tolerance));
}

}  // namespace

TEST_CASE("block and mutex profiles with known answers, read by go tool pprof and as Go's text") {
  lw::test::FixtureProcess app(LW_CONTENTION, {}, {"LEAKWATCH_HTTP=127.0.0.1:0", "LEAKWATCH_BLOCK_RATE=1",
                                                   "LEAKWATCH_MUTEX_FRACTION=1"},
                               "contention: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string dir = "/tmp/lw_contention_" + std::to_string(app.pid());
  REQUIRE(fetch(app.url() + "/debug/pprof/block", dir + ".block.pb.gz") == "200");
  REQUIRE(fetch(app.url() + "/debug/pprof/mutex", dir + ".mutex.pb.gz") == "200");

  const lw::test::RawProfile block = pprof_raw(dir + ".block.pb.gz");
  CHECK(contains(block.sample_types, "contentions/count"));
  CHECK(contains(block.sample_types, "delay/nanoseconds"));
  // Ten receives, each waiting for a send 100 ms later.
  const Charged receive = charged_to(block, "receive_slowly");
  CHECK(receive.count == 10);
  check_near(static_cast<double>(receive.delay_ns), 1e9, 0.10, "blocked in receive_slowly (ns)");
  // Five waiters for a lock held 1 s, for tasks and for plain threads: ~5 s blocked in the waiters.
  check_near(static_cast<double>(charged_to(block, "wait_lw_mutex").delay_ns), 5e9, 0.10, "blocked in wait_lw_mutex (ns)");
  check_near(static_cast<double>(charged_to(block, "wait_std_mutex").delay_ns), 5e9, 0.10, "blocked in wait_std_mutex (ns)");
  CHECK(charged_to(block, "send_slowly").delay_ns < 50'000'000);  // its receiver was always there
  // Each event carries the labels where it happened: the receiving task's, the holder thread's.
  for (const auto& s : block.samples) {
    bool receiving = false;
    for (const auto& f : s.frames) receiving = receiving || contains(f, "receive_slowly");
    bool labelled = false;
    for (const auto& l : s.labels) labelled = labelled || contains(l, "scene:[receive]");
    CHECK(receiving == labelled);
  }
  const lw::test::RawProfile receive_only = pprof_raw(dir + ".block.pb.gz", "-tagfocus=scene=receive");
  CHECK(charged_to(receive_only, "receive_slowly").count == 10);
  CHECK(charged_to(receive_only, "wait_lw_mutex").count == 0);

  const lw::test::RawProfile mutex = pprof_raw(dir + ".mutex.pb.gz");
  CHECK(contains(mutex.sample_types, "contentions/count"));
  // Go's documented example: a lock held 1 s while five wait is ~5 s at the unlocking function.
  check_near(static_cast<double>(charged_to(mutex, "hold_lw_mutex").delay_ns), 5e9, 0.10, "lw::Mutex contention at hold_lw_mutex (ns)");
#ifndef LW_NO_PTHREAD_MUTEX_PROFILE
  check_near(static_cast<double>(charged_to(mutex, "hold_std_mutex").delay_ns), 5e9, 0.10, "std::mutex contention at hold_std_mutex (ns)");
  check_near(static_cast<double>(charged_to(pprof_raw(dir + ".mutex.pb.gz", "-tagfocus=scene=std"), "hold_std_mutex").delay_ns),
             5e9, 0.10, "the unlocker's labels (scene=std) on its contention (ns)");
#endif
  // The waiters unlocked with the others already charged: little is left for them.
  CHECK(charged_to(mutex, "wait_lw_mutex").delay_ns < 500'000'000);
  CHECK(charged_to(mutex, "wait_std_mutex").delay_ns < 500'000'000);
  std::printf("block: receive_slowly %lld ns in %lld; mutex: hold_lw_mutex %lld ns, hold_std_mutex %lld ns\n",
              receive.delay_ns, receive.count, charged_to(mutex, "hold_lw_mutex").delay_ns,
              charged_to(mutex, "hold_std_mutex").delay_ns);

  // debug=1: Go's contention text.
  auto text = run_command("curl -s '" + app.url() + "/debug/pprof/block?debug=1'");
  CHECK(text.output.rfind("--- contention:\ncycles/second=1000000000\n", 0) == 0);
  CHECK(contains(text.output, "receive_slowly"));
  text = run_command("curl -s '" + app.url() + "/debug/pprof/mutex?debug=1'");
  CHECK(text.output.rfind("--- mutex:\ncycles/second=1000000000\nsampling period=1\n", 0) == 0);
  CHECK(contains(text.output, "hold_lw_mutex"));
  // go tool pprof reads the text form too (fetched by itself, so it symbolizes through
  // /debug/pprof/symbol, as it does Go's).
  const lw::test::RawProfile legacy = pprof_raw(app.url() + "/debug/pprof/mutex?debug=1");
  check_near(static_cast<double>(charged_to(legacy, "hold_lw_mutex").delay_ns), 5e9, 0.10, "legacy text at hold_lw_mutex (ns)");

  // The index lists both; a delta over a quiet second holds none of the scenes' delay.
  auto index = run_command("curl -s '" + app.url() + "/debug/pprof/'");
  CHECK(contains(index.output, "<a href='block?debug=1'>block</a>"));
  CHECK(contains(index.output, "<a href='mutex?debug=1'>mutex</a>"));
  REQUIRE(fetch(app.url() + "/debug/pprof/block?seconds=1", dir + ".delta.pb.gz") == "200");
  CHECK(charged_to(pprof_raw(dir + ".delta.pb.gz"), "receive_slowly").delay_ns == 0);
  auto bad = run_command("curl -s -w ' %{http_code}' '" + app.url() + "/debug/pprof/block?seconds=1&debug=1'");
  CHECK(contains(bad.output, "400"));

#ifdef LW_CLI
  // The snapshot carries both profiles: stored by `leakwatch snapshot`, written back by export.
  const std::string cli = std::string("'") + LW_CLI + "'";
  auto stored = run_command(cli + " snapshot " + app.url() + " --db " + dir + ".db 2>&1");
  REQUIRE_MESSAGE(stored.exit_code == 0, stored.output);
  auto exported = run_command(cli + " export --db " + dir + ".db --snapshot 1 --profile mutex -o " + dir + ".export.pb.gz 2>&1");
  REQUIRE_MESSAGE(exported.exit_code == 0, exported.output);
  check_near(static_cast<double>(charged_to(pprof_raw(dir + ".export.pb.gz"), "hold_lw_mutex").delay_ns), 5e9, 0.10,
             "exported mutex profile at hold_lw_mutex (ns)");
#endif
  run_command("rm -f " + dir + ".*");
}

#ifdef LW_CONTENTION_PLAIN
TEST_CASE("the mutex and block profiles of an unmodified program under leakwatch run") {
  lw::test::FixtureProcess app(LW_CLI, {"run", "--http", "127.0.0.1:0", "--", LW_CONTENTION_PLAIN},
                               {"LEAKWATCH_BLOCK_RATE=1", "LEAKWATCH_MUTEX_FRACTION=1"}, "contention: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string file = "/tmp/lw_contention_run_" + std::to_string(app.pid());
  REQUIRE(fetch(app.url() + "/debug/pprof/mutex", file + ".mutex.pb.gz") == "200");
  REQUIRE(fetch(app.url() + "/debug/pprof/block", file + ".block.pb.gz") == "200");
  const lw::test::RawProfile mutex = pprof_raw(file + ".mutex.pb.gz");
  check_near(static_cast<double>(charged_to(mutex, "hold_std_mutex").delay_ns), 5e9, 0.10, "preloaded: at hold_std_mutex (ns)");
  const lw::test::RawProfile block = pprof_raw(file + ".block.pb.gz");
  check_near(static_cast<double>(charged_to(block, "wait_std_mutex").delay_ns), 5e9, 0.10, "preloaded: blocked in wait_std_mutex (ns)");
  // leakwatch's own threads (the debug server's workers wait on a condition variable all along)
  // are not the program's: no sample without one of the program's frames... but main's join.
  for (const auto& s : block.samples) {
    bool program = false;
    for (const auto& f : s.frames) program = program || contains(f, "std_mutex") || contains(f, "main");
    std::string stack;
    for (const auto& f : s.frames) stack += f + " <- ";
    CHECK_MESSAGE(program, "a blocking sample outside the program: ", stack);
  }
  run_command("rm -f " + file + ".*");
}
#endif
