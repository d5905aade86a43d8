// The CPU profile end to end: the cpu_burn fixture (ten labelled tasks in calculation(), a thread
// in spin_forever() under with_labels) profiled over HTTP and read by go tool pprof.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>
#include <string>

#include "tests/integration/fixture_process.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/profile/pprof_raw.hpp"

namespace {

using lw::test::run_command;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// cpu_seconds() is the process's user + system CPU time (/proc/PID/stat, clock ticks).
double cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int field = 3; fields >> f; ++field) {
    if (field == 14) utime = std::stoull(f);
    if (field == 15) {
      stime = std::stoull(f);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string pprof(const std::string& args) {
  auto r = run_command("cd /tmp && HOME=/tmp GOCACHE=/tmp/lw_gocache go tool pprof " + args + " 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  return r.output;
}

}  // namespace

TEST_CASE("go tool pprof reads the CPU profile: the busy functions on top, counts true to the CPU used, labels") {
  lw::test::FixtureProcess app(LW_CPU_BURN, {}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "cpu_burn: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string url = app.url() + "/debug/pprof/profile?seconds=3";
  const std::string file = "/tmp/lw_cpu_" + std::to_string(app.pid()) + ".pb.gz";
  // The CPU used while the profile samples: from the request to 3 s later (building the profile
  // afterwards costs CPU too, which no sample can see).
  const double cpu_before = cpu_seconds(app.pid());
  auto fetched = std::async(std::launch::async, [&] {
    return run_command("curl -s -o '" + file + "' -w '%{http_code}' '" + url + "'");
  });
  usleep(3'000'000);
  const double cpu_used = cpu_seconds(app.pid()) - cpu_before;
  REQUIRE(fetched.get().output == "200");

  const lw::test::RawProfile raw = lw::test::parse_raw(pprof("-raw '" + file + "'"));
  CHECK(contains(raw.sample_types, "samples/count"));
  CHECK(contains(raw.sample_types, "cpu/nanoseconds"));
  long long total = 0, busy = 0, tenant_a = 0, tenant_b = 0;
  for (const auto& s : raw.samples) {
    total += s.values.at(0);
    CHECK(s.values.at(1) == s.values.at(0) * 10'000'000);  // 100 Hz: 10 ms a sample
    bool in_busy = false;
    for (const auto& f : s.frames) in_busy = in_busy || contains(f, "calculation") || contains(f, "spin_forever");
    if (in_busy) busy += s.values.at(0);
    for (const auto& l : s.labels) {
      if (contains(l, "tenant:[a]")) tenant_a += s.values.at(0);
      if (contains(l, "tenant:[b]")) tenant_b += s.values.at(0);
    }
  }
  const double expected = cpu_used * 100;
  std::printf("CPU profile of 3 s: %lld samples for %.2f CPU seconds (%.0f expected at 100 Hz, ratio %.3f); "
              "%.1f%% in calculation/spin_forever; tenant=a %lld, tenant=b %lld\n",
              total, cpu_used, expected, static_cast<double>(total) / expected, 100.0 * static_cast<double>(busy) / static_cast<double>(total),
              tenant_a, tenant_b);
  CHECK(static_cast<double>(total) >= expected * 0.85);
  CHECK(static_cast<double>(total) <= expected * 1.15);
  CHECK(static_cast<double>(busy) >= 0.8 * static_cast<double>(total));
  CHECK(tenant_a > 0);
  CHECK(tenant_b > 0);

  // -top names both busy functions; -tagfocus keeps one tenant's tasks only.
  const std::string top = pprof("-top '" + file + "'");
  CHECK(contains(top, "calculation"));
  CHECK(contains(top, "spin_forever"));
  // -list shows calculation()'s own source lines with their samples (the loop's line among them).
  const std::string list = pprof("-list 'calculation' '" + file + "'");
  CHECK(contains(list, "ROUTINE"));
  CHECK(contains(list, "cpu_burn.cpp"));
  CHECK(contains(list, "for (int i = 0; i < 100'000; ++i) sum +="));
  const lw::test::RawProfile a = lw::test::parse_raw(pprof("-raw -tagfocus=tenant=a '" + file + "'"));
  REQUIRE(!a.samples.empty());
  for (const auto& s : a.samples) {
    bool labelled_a = false;
    for (const auto& l : s.labels) labelled_a = labelled_a || contains(l, "tenant:[a]");
    CHECK(labelled_a);
  }
  // The plain thread's with_labels: -tagfocus=phase=x keeps that thread's spin_forever() only
  // (a stack cut short in a leaf may miss the function; the label is on every sample).
  const lw::test::RawProfile x = lw::test::parse_raw(pprof("-raw -tagfocus=phase=x '" + file + "'"));
  REQUIRE(!x.samples.empty());
  long long x_total = 0, x_spin = 0;
  for (const auto& s : x.samples) {
    bool spin = false, calc = false, labelled_x = false, tenant = false;
    for (const auto& f : s.frames) {
      spin = spin || contains(f, "spin_forever");
      calc = calc || contains(f, "calculation");
    }
    for (const auto& l : s.labels) {
      labelled_x = labelled_x || contains(l, "phase:[x]");
      tenant = tenant || contains(l, "tenant:");
    }
    x_total += s.values.at(0);
    if (spin) x_spin += s.values.at(0);
    CHECK(!calc);
    CHECK(!tenant);
    CHECK(labelled_x);
  }
  CHECK(static_cast<double>(x_spin) >= 0.9 * static_cast<double>(x_total));
  std::remove(file.c_str());
}

TEST_CASE("one CPU profile at a time: a second request is refused while the first runs") {
  lw::test::FixtureProcess app(LW_CPU_BURN, {}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "cpu_burn: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string url = app.url() + "/debug/pprof/profile?seconds=2";
  auto first = std::async(std::launch::async, [&] { return run_command("curl -s -o /dev/null -w '%{http_code}' '" + url + "'"); });
  usleep(500'000);
  auto second = run_command("curl -s -w ' %{http_code}' '" + url + "'");
  CHECK(contains(second.output, "cpu profiling already in use"));
  CHECK(contains(second.output, " 500"));
  CHECK(first.get().output == "200");
  auto bad = run_command("curl -s -w ' %{http_code}' '" + app.url() + "/debug/pprof/profile?seconds=abc'");
  CHECK(contains(bad.output, " 400"));
}

TEST_CASE("lw::start_cpu_profile and stop_cpu_profile write a profile go tool pprof reads") {
  const std::string file = "/tmp/lw_cpu_api_" + std::to_string(getpid()) + ".pb.gz";
  auto r = run_command(std::string("'") + LW_CPU_BURN + "' --profile-to '" + file + "' 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const std::string top = pprof("-top '" + file + "'");
  CHECK(contains(top, "spin_forever"));
  CHECK(contains(top, "calculation"));
  long long total = 0;
  for (const auto& s : lw::test::parse_raw(pprof("-raw '" + file + "'")).samples) total += s.values.at(0);
  // Two busy threads for a second at 100 Hz: ~200 on an idle machine; on a loaded one, as many as
  // the CPU the process got allows (the sampler counts CPU time, not wall time).
  const auto at = r.output.find("cpu_seconds=");
  REQUIRE(at != std::string::npos);
  const double cpu = std::stod(r.output.substr(at + 12));
  INFO("samples " << total << " for " << cpu << " CPU seconds");
  CHECK(cpu > 0.2);
  CHECK(static_cast<double>(total) >= 0.7 * cpu * 100);
  std::remove(file.c_str());
}

TEST_CASE("a child forked while a profile runs is not profiled: its new threads arm no timer") {
  auto r = run_command(std::string("'") + LW_CPU_BURN + "' --fork-check 2>&1");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.output, "child holds 0 timers"));
}
