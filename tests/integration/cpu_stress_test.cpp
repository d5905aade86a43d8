// The CPU profiler under stress, a short form of tools/bench/cpu/run_cpu_stress.sh: cpu_stress's
// threads malloc/free, dlopen/dlclose, throw and catch, fork and create/join threads while a
// profile samples them (the whole-run profile, linked and under `leakwatch run`, and the HTTP
// endpoint). Each run must finish in time with status 0, and its profile must be read by go tool
// pprof with samples in the stress functions. A hang is killed by `timeout` and fails the check.
#include <doctest/doctest.h>

#include <cstdio>
#include <future>
#include <string>

#include "tests/integration/cpu_profile_file.hpp"
#include "tests/integration/fixture_process.hpp"
#include "tests/integration/run_command.hpp"

using lw::test::run_command;

namespace {

const std::string kClean = "unset LEAKWATCH_PRELOAD LEAKWATCH_HTTP LEAKWATCH_SERVE_PID LEAKWATCH_CHILD_HTTP "
                           "LEAKWATCH_CPUPROFILE LEAKWATCH_CPU_HZ; ";
constexpr const char* kSeconds = "2";
constexpr const char* kDeadline = "timeout -s KILL 30 ";  // 2 s of work; a hang ends as status 137

// The kinds of work that keep a thread busy, each of which must be sampled. The fork and thread
// kinds are printed, not required: their CPU comes in bursts shorter than a tick or on threads
// that live less than one (docs/cpu.md, "Short bursts"), so a 2-s run may sample them 0 times.
const char* const kSteadyWork[] = {"stress_malloc_free", "stress_dlopen_dlclose", "stress_throw_catch"};
const char* const kBurstyWork[] = {"stress_fork", "stress_threads"};

// check_profile() reads `file` and checks that the stress work was sampled.
void check_profile(const std::string& file, const char* how) {
  const auto p = lw::test::read_cpu_profile(file);
  REQUIRE_MESSAGE(p.read, p.pprof_output);
  std::printf("cpu_stress %s: %lld samples;", how, p.samples);
  for (const char* f : kSteadyWork) std::printf(" %s %lld", f, lw::test::samples_in(p, f));
  for (const char* f : kBurstyWork) std::printf(" %s %lld", f, lw::test::samples_in(p, f));
  std::printf("\n");
  CHECK(lw::test::samples_in(p, "stress_") >= 20);
  for (const std::string f : kSteadyWork) {
    CAPTURE(f);
    CHECK(lw::test::samples_in(p, f) > 0);
  }
}

}  // namespace

TEST_CASE("cpu_stress under the whole-run profile, linked: two runs finish, exit 0, every kind of work sampled") {
  const std::string dir = lw::test::make_temp_dir("cpu_stress");
  for (int run = 0; run < 2; ++run) {
    CAPTURE(run);
    const std::string file = dir + "/linked" + std::to_string(run) + ".pb.gz";
    auto r = run_command(kClean + "LEAKWATCH_CPUPROFILE='" + file + "' " + kDeadline + "'" + LW_CPU_STRESS_LINKED + "' " + kSeconds);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("cpu_stress: done") != std::string::npos);
    check_profile(file, "linked, LEAKWATCH_CPUPROFILE");
  }
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("cpu_stress preloaded by leakwatch run, whole-run profile: finishes, exit 0, every kind of work sampled") {
  const std::string dir = lw::test::make_temp_dir("cpu_stress_run");
  const std::string file = dir + "/run.pb.gz";
  auto r = run_command(kClean + "LEAKWATCH_CPUPROFILE='" + file + "' " + kDeadline + "'" + LW_CLI + "' run --http 127.0.0.1:0 -- '" +
                       LW_CPU_STRESS_PLAIN + "' " + kSeconds);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  check_profile(file, "under leakwatch run, LEAKWATCH_CPUPROFILE");
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("cpu_stress profiled over HTTP: the endpoint's profile is whole, the program finishes and exits 0") {
  const std::string dir = lw::test::make_temp_dir("cpu_stress_http");
  const std::string file = dir + "/served.pb.gz";
  lw::test::FixtureProcess app(LW_CPU_STRESS_LINKED, {"3"}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "cpu_stress: ready pid=");
  REQUIRE_MESSAGE(app.ok(), app.output());
  auto fetched = run_command("curl -s -m 20 -o '" + file + "' -w '%{http_code}' '" + app.url() + "/debug/pprof/profile?seconds=2'");
  CHECK(fetched.output == "200");
  check_profile(file, "over HTTP");
  for (int i = 0; i < 100 && app.output().find("cpu_stress: done") == std::string::npos; ++i) usleep(100'000);
  INFO(app.output());
  CHECK(app.output().find("cpu_stress: done") != std::string::npos);
  CHECK(app.terminate() == 0);
  run_command("rm -rf '" + dir + "'");
}
