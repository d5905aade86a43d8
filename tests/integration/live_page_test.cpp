// The live page (/debug/leakwatch/) as a person sees it: the demo service with its debug server
// on, the page opened in headless Chromium (tests/browser/live_page.mjs, playwright-core), and what
// the page shows checked against the live.json it drew it from and against /metrics. Screenshots
// go to the build tree (test artifacts, never committed).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "tests/integration/fixture_process.hpp"
#include "tests/integration/run_command.hpp"

using lw::test::run_command;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// jq() runs a jq filter over `json` and returns its raw output, trimmed.
std::string jq(const std::string& json, const std::string& filter) {
  const std::string file = lw::test::make_temp_dir("live_jq") + "/doc.json";
  FILE* f = std::fopen(file.c_str(), "w");
  REQUIRE(f != nullptr);
  std::fwrite(json.data(), 1, json.size(), f);
  std::fclose(f);
  auto r = run_command("jq -r '" + filter + "' '" + file + "'");
  REQUIRE_MESSAGE(r.exit_code == 0, filter, "\n", r.output);
  std::string out = r.output;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

double metric(const std::string& metrics, const std::string& name) {
  std::size_t at = 0;
  while ((at = metrics.find(name + " ", at)) != std::string::npos) {
    if (at == 0 || metrics[at - 1] == '\n') return std::atof(metrics.c_str() + at + name.size() + 1);
    at += name.size();
  }
  FAIL("no metric " << name);
  return 0;
}

}  // namespace

TEST_CASE("the live page: live.json, the assets, and the page in Chromium") {
  lw::test::FixtureProcess app(LW_DEMO, {"--rate", "500"}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "debug server listening on");
  REQUIRE(app.ok());
  // A few seconds: the demo's planted leaks are proven.
  std::this_thread::sleep_for(std::chrono::seconds(4));

  SUBCASE("live.json and the assets over HTTP") {
    auto doc = run_command("curl -s -f '" + app.url() + "/debug/leakwatch/live.json'");
    REQUIRE_MESSAGE(doc.exit_code == 0, doc.output);
    CHECK(std::stoll(jq(doc.output, ".history.unix_ms | length")) >= 1);  // the server's own sample, at least
    CHECK(jq(doc.output, "[.history[] | length] | unique | length") == "1");  // columns of one length
    CHECK(std::stoll(jq(doc.output, ".now.tasks")) > 0);
    CHECK(std::stoll(jq(doc.output, ".now.heap_alloc")) > 0);
    CHECK(std::stoll(jq(doc.output, ".top_sites | length")) > 0);
    CHECK(jq(doc.output, ".top_sites[0].stack | length > 0") == "true");
    CHECK(jq(doc.output, "[.leaks[] | select(.kind == \"task\")] | length > 0") == "true");
    CHECK(jq(doc.output, "[.leaks[].stack[].function] | any(contains(\"demo::\"))") == "true");
    CHECK(jq(doc.output, "[.profiles[].name] | index(\"heap\") != null") == "true");
    CHECK(std::stoll(jq(doc.output, ".tasks | map(.count) | add")) == std::stoll(jq(doc.output, ".now.tasks")));
    // since= returns only newer points: a page polling adds one every 2 s (its captures).
    const std::string last = jq(doc.output, ".history.unix_ms[-1]");
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));
    auto newer = run_command("curl -s -f '" + app.url() + "/debug/leakwatch/live.json?since=" + last + "'");
    CHECK(jq(newer.output, ".history.unix_ms | length") == "1");
    CHECK(std::stoll(jq(newer.output, ".history.unix_ms[0]")) > std::stoll(last));
    // The gauges agree with /metrics read at about the same moment (the demo leaks steadily).
    auto metrics = run_command("curl -s '" + app.url() + "/metrics'");
    const double leaked = metric(metrics.output, "leakwatch_leaked_tasks");
    const double shown = std::stod(jq(doc.output, ".now.leaked_tasks"));
    CHECK(shown <= leaked);
    CHECK(shown >= leaked * 0.5 - 20);
    // Bad input: a clear 400; an unknown asset: 404; the bare path redirects.
    auto bad = run_command("curl -s -w ' %{http_code}' '" + app.url() + "/debug/leakwatch/live.json?since=yesterday'");
    CHECK(contains(bad.output, " 400"));
    bad = run_command("curl -s -w ' %{http_code}' '" + app.url() + "/debug/leakwatch/live.json?limit=5'");
    CHECK(contains(bad.output, " 400"));
    // Hostile queries: each a clear 400, and the server serves on.
    for (const char* q : {"since=", "since=1e9", "since=0x10", "since=%00", "since=9223372036854775808",
                          "since=1&since=x", "since=99999999999999999999999999999999", "a=b"}) {
      auto code = run_command("curl -s -o /dev/null -w '%{http_code}' '" + app.url() + "/debug/leakwatch/live.json?" + q + "'");
      CHECK_MESSAGE(code.output == "400", q);
    }
    auto far = run_command("curl -s '" + app.url() + "/debug/leakwatch/live.json?since=9223372036854775807'");
    CHECK(jq(far.output, ".history.unix_ms | length") == "0");
    auto missing = run_command("curl -s -o /dev/null -w '%{http_code}' '" + app.url() + "/debug/leakwatch/../../etc/passwd'");
    CHECK(missing.output == "404");
    auto bare = run_command("curl -s -o /dev/null -w '%{http_code} %{redirect_url}' '" + app.url() + "/debug/leakwatch'");
    CHECK(contains(bare.output, "301"));
    auto page = run_command("curl -s -i '" + app.url() + "/debug/leakwatch/'");
    CHECK(contains(page.output, "Content-Security-Policy: default-src 'none'"));
    CHECK(contains(page.output, "<script src=\"live.js\""));
    // The page's own assets, gzipped, within their budget (200 KB).
    auto weight = run_command("for a in '' live.js live.css; do curl -s '" + app.url() +
                              "/debug/leakwatch/'$a; done | gzip -9 | wc -c");
    const long long gzipped = std::stoll(weight.output);
    std::printf("live page: assets %lld bytes gzipped\n", gzipped);
    CHECK(gzipped < 200 * 1024);
    auto index = run_command("curl -s '" + app.url() + "/debug/pprof/'");
    CHECK(contains(index.output, "<a href='/debug/leakwatch/'>"));
  }

  SUBCASE("in headless Chromium") {
    if (run_command("test -x /usr/bin/chromium").exit_code != 0) {
      MESSAGE("skipped: /usr/bin/chromium is not installed (tools/deps.sh installs it)");
      return;
    }
    const std::string out = std::string(LW_ARTIFACTS);
    run_command("mkdir -p '" + out + "'");
    auto r = run_command("LEAKWATCH_WEB_MODULES='" LW_WEB_MODULES "' node '" LW_SOURCE_DIR
                         "/tests/browser/live_page.mjs' '" + app.url() + "' '" + out + "' demo::");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    const std::string& result = r.output;
    INFO(result);
    CHECK(jq(result, ".errors | length") == "0");
    CHECK(std::stoll(jq(result, ".points")) >= 3);
    CHECK(jq(result, ".canvases") == "4");
    // Every gauge shows the figure of the live.json it was drawn from.
    REQUIRE(jq(result, ".json_now != null") == "true");
    for (const char* g : {"heap_alloc", "heap_objects", "sys", "rss", "tasks", "threads", "leaked_tasks", "leaked_threads"})
      CHECK_MESSAGE(jq(result, std::string(".gauges.") + g + " == (.json_now." + g + " | tostring)") == "true", g);
    CHECK(std::stoll(jq(result, ".gauges.leaked_tasks")) > 0);
    // Clicking a proven leak opens its stacks, which name the demo's code.
    CHECK(jq(result, ".leak_open") == "true");
    CHECK(std::stoll(jq(result, ".leak_frames | length")) > 0);
    CHECK(jq(result, ".expected[\"demo::\"]") == "true");
    CHECK(run_command("test -s '" + out + "/live_page.png'").exit_code == 0);
    std::printf("live page: screenshots in %s\n", out.c_str());
  }
}
