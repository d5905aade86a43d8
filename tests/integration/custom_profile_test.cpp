// Custom profiles (lw::Profile) end to end: the custom_profile fixture served over HTTP and read by
// curl and go tool pprof, shown by `leakwatch top`, stored and exported by the CLI, and judged by
// `leakwatch watch` / `diff` (profile_growth for a set that keeps growing, nothing for a flat one).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/fixture_process.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/profile/pprof_raw.hpp"

namespace {

using lw::test::run_command;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string curl(const std::string& url) {
  auto r = run_command("curl -s '" + url + "'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  return r.output;
}

std::string pprof(const std::string& args) {
  auto r = run_command("cd /tmp && HOME=/tmp GOCACHE=/tmp/lw_gocache go tool pprof " + args + " 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  return r.output;
}

// live_at() sums the values of the -raw samples whose innermost frame names `function`.
long long live_at(const lw::test::RawProfile& raw, const std::string& function) {
  long long n = 0;
  for (const auto& s : raw.samples)
    if (!s.frames.empty() && contains(s.frames.front(), function)) n += s.values.at(0);
  return n;
}

// The findings of `leakwatch diff --format json` as "kind profile first-frame" lines.
constexpr const char* kSummarize =
    "python3 -c 'import json,sys\n"
    "for f in json.load(sys.stdin)[\"findings\"]:\n"
    "  print(f[\"kind\"], f[\"profile\"], (f[\"frames\"][0].split(\"(\")[0] if f[\"frames\"] else \"-\"), f[\"count\"] > 0)'";

struct Watched {
  int diff_exit = -1;
  std::string summary;
  std::string report;
};

// watch_files() watches the fixture in `mode` for eight rounds 200 ms apart into a fresh store.
Watched watch_files(const char* mode) {
  lw::test::FixtureProcess app(LW_CUSTOM_PROFILE, {mode}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "custom_profile: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string dir = lw::test::make_temp_dir("custom_profile");
  const std::string db = dir + "/leakwatch.db";
  auto watch = run_command(std::string("'" LW_CLI "' watch ") + app.url() + " --every 500ms --count 8 --db '" + db + "'");
  INFO(watch.output);
  Watched w;
  w.report = run_command(std::string("'" LW_CLI "' diff --db '") + db + "'").output;
  auto json = run_command(std::string("'" LW_CLI "' diff --db '") + db + "' --format json");
  w.diff_exit = json.exit_code;
  auto summary = run_command(std::string("'" LW_CLI "' diff --db '") + db + "' --format json | " + kSummarize);
  REQUIRE_MESSAGE(summary.exit_code == 0, summary.output);
  w.summary = summary.output;
  run_command("rm -rf '" + dir + "'");
  return w;
}

}  // namespace

TEST_CASE("a custom profile is served as Go's text and proto, listed on the index, and unknown names stay 404") {
  lw::test::FixtureProcess app(LW_CUSTOM_PROFILE, {"--steady"}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "custom_profile: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());

  // debug=1: "open_connections profile: total 4", one record of 4 whose innermost frame is
  // open_connection().
  const std::string text = curl(app.url() + "/debug/pprof/open_connections?debug=1");
  INFO(text);
  CHECK(text.rfind("open_connections profile: total 4\n", 0) == 0);
  std::istringstream lines(text);
  std::string line, record, first_frame;
  std::getline(lines, line);
  std::getline(lines, record);
  std::getline(lines, first_frame);
  CHECK(record.rfind("4 @ 0x", 0) == 0);
  CHECK(first_frame.rfind("#\t0x", 0) == 0);
  CHECK(contains(first_frame, "\tservice::open_connection("));
  CHECK(contains(first_frame, "custom_profile.cpp:"));

  // debug=0: gzipped pprof that go tool pprof reads: open_connections/count, 4 at open_connection.
  const std::string file = "/tmp/lw_custom_" + std::to_string(app.pid()) + ".pb.gz";
  auto fetched = run_command("curl -s -o '" + file + "' -w '%{http_code}' '" + app.url() + "/debug/pprof/open_connections'");
  REQUIRE(fetched.output == "200");
  const lw::test::RawProfile raw = lw::test::parse_raw(pprof("-raw '" + file + "'"));
  CHECK(contains(raw.sample_types, "open_connections/count"));
  CHECK(contains(raw.header, "PeriodType: open_connections count"));
  long long total = 0;
  for (const auto& s : raw.samples) total += s.values.at(0);
  CHECK(total == 4);
  CHECK(live_at(raw, "open_connection") == 4);
  CHECK_FALSE(raw.mappings.empty());
  std::remove(file.c_str());

  // The index lists it with its count; unknown names are still 404; no delta form.
  const std::string index = curl(app.url() + "/debug/pprof/");
  CHECK(contains(index, "<td>4</td><td><a href='open_connections?debug=1'>open_connections</a></td>"));
  CHECK(contains(index, "open_connections: </div>"));
  CHECK(run_command("curl -s -o /dev/null -w '%{http_code}' '" + app.url() + "/debug/pprof/open_sockets'").output == "404");
  CHECK(run_command("curl -s -o /dev/null -w '%{http_code}' '" + app.url() + "/debug/pprof/open_connections?seconds=1'")
            .output == "400");
  CHECK(run_command("curl -s -o /dev/null -w '%{http_code}' '" + app.url() + "/debug/pprof/open_connections?debug=7'")
            .output == "400");

  // `leakwatch top` shows it; a stored snapshot exports it for go tool pprof.
  auto top = run_command(std::string("'" LW_CLI "' top ") + app.url());
  INFO(top.output);
  CHECK(top.exit_code == 0);
  CHECK(contains(top.output, "Profile open_connections: 4 live keys at 1 stacks"));
  CHECK(contains(top.output, "100.00%  service::open_connection("));
  const std::string dir = lw::test::make_temp_dir("custom_profile_export");
  const std::string db = dir + "/leakwatch.db";
  REQUIRE(run_command(std::string("'" LW_CLI "' snapshot ") + app.url() + " --db '" + db + "'").exit_code == 0);
  const std::string exported = dir + "/open_connections.pb.gz";
  auto e = run_command(std::string("'" LW_CLI "' export --db '") + db + "' --snapshot 1 --profile open_connections -o '" +
                       exported + "'");
  REQUIRE_MESSAGE(e.exit_code == 0, e.output);
  CHECK(live_at(lw::test::parse_raw(pprof("-raw '" + exported + "'")), "open_connection") == 4);
  auto missing = run_command(std::string("'" LW_CLI "' export --db '") + db + "' --snapshot 1 --profile open_sockets -o '" +
                             dir + "/x'");
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.output, "it has open_connections"));
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("a custom profile that keeps growing at one stack is profile_growth; a flat one is nothing") {
  Watched growing = watch_files("--growing");
  INFO(growing.report);
  CHECK(growing.diff_exit == 1);
  CHECK(growing.summary == "profile_growth open_files service::leak_file True\n");
  CHECK(contains(growing.report, "profile_growth  "));
  CHECK(contains(growing.report, "profile open_files: +"));
  CHECK(contains(growing.report, "\n    service::leak_file("));

  Watched flat = watch_files("--flat");
  INFO(flat.report);
  CHECK(flat.diff_exit == 0);
  CHECK(flat.summary.empty());
}
