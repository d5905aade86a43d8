// LEAKWATCH_CPUPROFILE (the whole-run CPU profile) and LEAKWATCH_CPU_HZ end to end: linked
// programs (cpu_burn, cpu_stress_linked), a plain program under `leakwatch run` and under
// LD_PRELOAD alone, each profile read by go tool pprof.
#include <doctest/doctest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <future>
#include <string>
#include <vector>

#include "tests/integration/cpu_profile_file.hpp"
#include "tests/integration/fixture_process.hpp"
#include "tests/integration/run_command.hpp"

using lw::test::run_command;

namespace {

// Start every program from a clean slate: none of the test's own LEAKWATCH_* reach it.
const std::string kClean = "unset LEAKWATCH_PRELOAD LEAKWATCH_HTTP LEAKWATCH_SERVE_PID LEAKWATCH_CHILD_HTTP "
                           "LEAKWATCH_CPUPROFILE LEAKWATCH_CPU_HZ; ";

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    closedir(d);
  }
  return names;
}

long long file_size(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
}

}  // namespace

TEST_CASE("LEAKWATCH_CPUPROFILE: a linked program's whole run, written at exit; the endpoint is refused meanwhile") {
  const std::string dir = lw::test::make_temp_dir("cpu_env");
  const std::string file = dir + "/whole.pb.gz";
  lw::test::FixtureProcess app(LW_CPU_BURN, {}, {"LEAKWATCH_HTTP=127.0.0.1:0", "LEAKWATCH_CPUPROFILE=" + file},
                               "cpu_burn: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  usleep(1'500'000);
  auto refused = run_command("curl -s -w ' %{http_code}' '" + app.url() + "/debug/pprof/profile?seconds=1'");
  CHECK(contains(refused.output, "cpu profiling already in use"));
  CHECK(contains(refused.output, " 500"));
  CHECK(app.terminate() == 0);  // SIGTERM makes cpu_burn return from main: exit handlers run
  INFO(app.output());
  CHECK(count_of(app.output(), "leakwatch: CPU profile written to " + file + ": ") == 1);

  const auto p = lw::test::read_cpu_profile(file);
  REQUIRE_MESSAGE(p.read, p.pprof_output);
  std::printf("whole-run profile of cpu_burn (~1.5 s): %lld samples, period %lld ns, %lld in calculation, %lld in spin_forever\n",
              p.samples, p.period_ns, lw::test::samples_in(p, "calculation"), lw::test::samples_in(p, "spin_forever"));
  CHECK(p.period_ns == 10'000'000);  // the default 100 Hz
  CHECK(p.samples >= 30);            // two busy threads for ~1.5 s: ~300, fewer on a loaded machine
  CHECK(lw::test::samples_in(p, "calculation") > 0);
  CHECK(lw::test::samples_in(p, "spin_forever") > 0);
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("LEAKWATCH_CPU_HZ sets the whole-run profile's rate and the endpoint's default") {
  const std::string dir = lw::test::make_temp_dir("cpu_hz");
  auto r = run_command(kClean + "LEAKWATCH_CPU_HZ=250 LEAKWATCH_CPUPROFILE='" + dir + "/p.pb.gz' '" + LW_CPU_STRESS_LINKED + "' 1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(contains(r.output, "samples at 250 Hz"));
  const auto whole = lw::test::read_cpu_profile(dir + "/p.pb.gz");
  REQUIRE_MESSAGE(whole.read, whole.pprof_output);
  CHECK(whole.period_ns == 4'000'000);

  lw::test::FixtureProcess app(LW_CPU_BURN, {}, {"LEAKWATCH_HTTP=127.0.0.1:0", "LEAKWATCH_CPU_HZ=50"}, "cpu_burn: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string served = dir + "/served.pb.gz";
  auto fetched = run_command("curl -s -o '" + served + "' -w '%{http_code}' '" + app.url() + "/debug/pprof/profile?seconds=1'");
  REQUIRE(fetched.output == "200");
  const auto endpoint = lw::test::read_cpu_profile(served);
  REQUIRE_MESSAGE(endpoint.read, endpoint.pprof_output);
  CHECK(endpoint.period_ns == 20'000'000);
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("a bad LEAKWATCH_CPU_HZ is a warning on stderr and the default rate") {
  const std::string dir = lw::test::make_temp_dir("cpu_bad_hz");
  for (const char* bad : {"abc", "0", "1001", "-5", "100x"}) {
    CAPTURE(bad);
    const std::string file = dir + "/p.pb.gz";
    auto r = run_command(kClean + "LEAKWATCH_CPU_HZ='" + bad + "' LEAKWATCH_CPUPROFILE='" + file + "' '" +
                         LW_CPU_STRESS_LINKED + "' 0");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(count_of(r.output, std::string("leakwatch: LEAKWATCH_CPU_HZ=") + bad +
                                 ": must be a number from 1 to 1000; using 100") == 1);
    CHECK(contains(r.output, "samples at 100 Hz"));
  }
  const auto p = lw::test::read_cpu_profile(dir + "/p.pb.gz");
  CHECK_MESSAGE(p.read, p.pprof_output);
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("an unwritable LEAKWATCH_CPUPROFILE is said on stderr and leaves the exit status alone") {
  // cpu_stress with no arguments prints its usage and exits 2.
  auto bad = run_command(kClean + "LEAKWATCH_CPUPROFILE=/nonexistent/dir/p.pb.gz '" + LW_CPU_STRESS_LINKED + "'");
  INFO(bad.output);
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.output, "leakwatch: LEAKWATCH_CPUPROFILE=/nonexistent/dir/p.pb.gz: cannot write "
                             "/nonexistent/dir/p.pb.gz: No such file or directory; no CPU profile"));

  // Writable at start, gone by exit: said at exit, the status still the program's.
  const std::string dir = lw::test::make_temp_dir("cpu_gone");
  const std::string log = dir + "/log";
  auto gone = run_command(kClean + "mkdir '" + dir + "/sub' && { LEAKWATCH_CPUPROFILE='" + dir + "/sub/p.pb.gz' '" +
                          LW_CPU_STRESS_LINKED + "' 2 >'" + log + "' 2>&1 & pid=$!; for i in $(seq 300); do grep -q ready '" +
                          log + "' && break; sleep 0.1; done; rm -rf '" + dir + "/sub'; wait $pid; echo status=$?; cat '" +
                          log + "'; }");
  INFO(gone.output);
  CHECK(contains(gone.output, "status=0"));
  CHECK(contains(gone.output, "leakwatch: LEAKWATCH_CPUPROFILE: no CPU profile written: cannot write " + dir +
                                  "/sub/p.pb.gz: No such file or directory"));

  // A relative name is taken in the directory the program started in.
  const std::string relative_dir = dir + "/rel";
  auto ok = run_command(kClean + "mkdir -p '" + relative_dir + "' && cd '" + relative_dir +
                        "' && LEAKWATCH_CPUPROFILE=p.pb.gz '" + LW_CPU_STRESS_LINKED + "'");
  INFO(ok.output);
  CHECK(ok.exit_code == 2);
  CHECK(file_size(relative_dir + "/p.pb.gz") > 0);
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("forked children write nothing: one file, the parent's; %p in the name is the pid") {
  const std::string dir = lw::test::make_temp_dir("cpu_fork");
  // 20 children, each leaving by exit(): they run the exit handlers they inherited. The shell
  // prints its pid, which exec gives to cpu_stress.
  auto r = run_command(kClean + "LEAKWATCH_CPUPROFILE='" + dir + "/cpu.%p.pb.gz' sh -c 'echo pid=$$; exec \"$0\" --fork-exit 20' '" +
                       LW_CPU_STRESS_LINKED + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto at = r.output.find("pid=") + 4;
  const std::string pid = r.output.substr(at, r.output.find('\n', at) - at);
  CHECK(count_of(r.output, "CPU profile written to") == 1);
  const auto names = files_in(dir);
  REQUIRE(names.size() == 1);
  CHECK(names[0] == "cpu." + pid + ".pb.gz");
  const auto p = lw::test::read_cpu_profile(dir + "/" + names[0]);
  CHECK_MESSAGE(p.read, p.pprof_output);
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("leakwatch run and LD_PRELOAD alone: LEAKWATCH_CPUPROFILE profiles an unmodified program") {
  const std::string dir = lw::test::make_temp_dir("cpu_run");
  auto run = run_command(kClean + "LEAKWATCH_CPUPROFILE='" + dir + "/run.pb.gz' '" + LW_CLI + "' run --http 127.0.0.1:0 -- '" +
                         LW_CPU_STRESS_PLAIN + "' 1");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(count_of(run.output, "CPU profile written to") == 1);
  const auto p = lw::test::read_cpu_profile(dir + "/run.pb.gz");
  REQUIRE_MESSAGE(p.read, p.pprof_output);
  CHECK(lw::test::samples_in(p, "stress_") > 0);

  // No server wanted: the preload library loads its companion for the profile alone.
  auto preload = run_command(kClean + "LD_PRELOAD='" + LW_PRELOAD_LIB + "' LEAKWATCH_CPUPROFILE='" + dir +
                             "/preload.pb.gz' '" + LW_CPU_STRESS_PLAIN + "' 1");
  INFO(preload.output);
  CHECK(preload.exit_code == 0);
  CHECK(!contains(preload.output, "debug server listening"));
  const auto q = lw::test::read_cpu_profile(dir + "/preload.pb.gz");
  REQUIRE_MESSAGE(q.read, q.pprof_output);
  CHECK(lw::test::samples_in(q, "stress_") > 0);
  run_command("rm -rf '" + dir + "'");
}
