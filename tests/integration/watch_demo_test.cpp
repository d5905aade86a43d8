// End to end as a user runs it: the demo service (tools/demo) with its debug server on, watched by
// the real `leakwatch watch`, judged by `leakwatch diff`. The leaky service must give exactly its
// planted faults (three in tasks and heap, three in threads: the deadlocked pair is one finding per
// side); the fixed twin must give none.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "tests/integration/fixture_process.hpp"
#include "tests/integration/run_command.hpp"

using lw::test::run_command;

namespace {

// The findings of `leakwatch diff --format json` as "kind first-frame" lines, sorted: `frames`
// starts at the user's code (allocator and runtime frames trimmed), `all_frames` keeps them (never fewer;
// more for at least one finding: a thread whose stack was not taken in time has neither).
constexpr const char* kSummarize =
    "python3 -c 'import json,sys\n"
    "out=[]\n"
    "longer=0\n"
    "for f in json.load(sys.stdin)[\"findings\"]:\n"
    "  frames=f[\"frames\"]\n"
    "  assert len(f[\"all_frames\"])>=len(frames), f\n"
    "  longer+=len(f[\"all_frames\"])>len(frames)\n"
    "  out.append(f[\"kind\"]+\" \"+(frames[0].split(\"(\")[0] if frames else \"-\"))\n"
    "assert longer>0 or not out\n"
    "print(\"\\n\".join(sorted(out)))'";

struct Watched {
  int watch_exit = -1;
  int diff_exit = -1;
  std::string summary;
  std::string report;
};

// watch_demo() starts the demo, lets its bounded cache fill (at 1000 requests a second it is full
// within ~8 s; a cache still filling is growth), then watches it for 6 one-second rounds.
Watched watch_demo(std::vector<std::string> args) {
  args.insert(args.end(), {"--rate", "1000"});
  lw::test::FixtureProcess app(LW_DEMO, args, {"LEAKWATCH_HTTP=127.0.0.1:0", "LEAKWATCH_HEAP_RATE=65536"},
                               "debug server listening on");
  REQUIRE(app.ok());
  REQUIRE_FALSE(app.url().empty());
  std::this_thread::sleep_for(std::chrono::seconds(8));
  std::string dir = lw::test::make_temp_dir("watch_demo");
  std::string db = dir + "/leakwatch.db";
  Watched w;
  auto watch = run_command(std::string("'" LW_CLI "' watch ") + app.url() +
                           " --every 1s --count 6 --stuck-after 3s --db '" + db + "'");
  INFO(watch.output);
  w.watch_exit = watch.exit_code;
  auto diff = run_command(std::string("'" LW_CLI "' diff --db '") + db + "' --stuck-after 3s --format json");
  w.diff_exit = diff.exit_code;
  auto summary = run_command(std::string("'" LW_CLI "' diff --db '") + db +
                             "' --stuck-after 3s --format json | " + kSummarize);
  REQUIRE_MESSAGE(summary.exit_code == 0, summary.output);
  w.summary = summary.output;
  w.report = run_command(std::string("'" LW_CLI "' diff --db '") + db + "' --stuck-after 3s").output;
  run_command("rm -rf '" + dir + "'");
  return w;
}

}  // namespace

TEST_CASE("leakwatch watch names each planted fault of the demo service, and nothing else") {
  Watched w = watch_demo({});
  INFO(w.report);
  CHECK(w.watch_exit == 1);
  CHECK(w.diff_exit == 1);
  CHECK(w.summary ==
        "heap_growth demo::append_audit_record\n"
        "leaked_tasks demo::query_inventory\n"
        "leaked_threads demo::rebuild_search_index\n"
        "leaked_threads demo::reconcile_ledger\n"
        "stuck_tasks demo::session_keepalive\n"
        "stuck_threads demo::wait_for_shipment_event\n"
        "unjoined_threads demo::on_request\n");
}

TEST_CASE("the fixed demo service gives no finding") {
  Watched w = watch_demo({"--fixed"});
  INFO(w.report);
  CHECK(w.watch_exit == 0);
  CHECK(w.diff_exit == 0);
  CHECK(w.summary == "\n");
}

TEST_CASE("the README's first command, tools/demo.sh, exits 0 after a report that names the faults") {
  auto r = run_command("cd '" LW_SOURCE_DIR "' && LEAKWATCH_HEAP_RATE=65536 tools/demo.sh --every 1s --count 10 --stuck-after 4s 2>&1");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  for (const char* name : {"demo::append_audit_record", "demo::query_inventory", "demo::session_keepalive",
                           "demo::reconcile_ledger", "demo::wait_for_shipment_event", "demo::on_request"})
    CHECK_MESSAGE(r.output.find(name) != std::string::npos, name);
}
