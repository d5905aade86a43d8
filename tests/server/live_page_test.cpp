// The live page's pieces without a socket: the history ring (order, wrap, since=), live.json
// from an injected snapshot read back by jq, and the compiled-in assets.
#include <doctest/doctest.h>

#include <fstream>

#include "src/server/live_assets.hpp"
#include "src/server/live_history.hpp"
#include "src/server/router.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/server/test_snapshot.hpp"

using lw::server::LiveHistory;
using lw::server::LivePoint;

namespace {

std::string jq(const std::string& json, const std::string& filter) {
  const std::string path = lw::test::make_temp_dir("live_json") + "/doc.json";
  std::ofstream(path, std::ios::binary) << json;
  auto r = lw::test::run_command("jq -r '" + filter + "' '" + path + "'");
  REQUIRE_MESSAGE(r.exit_code == 0, filter, "\n", json);
  std::string out = r.output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

lw::server::Request get(std::string path, std::vector<std::pair<std::string, std::string>> params = {}) {
  lw::server::Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.params = std::move(params);
  return r;
}

}  // namespace

TEST_CASE("the history ring keeps the newest kLivePoints points, oldest first") {
  LiveHistory h;
  CHECK(h.since(0).empty());
  for (std::int64_t i = 1; i <= static_cast<std::int64_t>(lw::server::kLivePoints) + 10; ++i) {
    LivePoint p;
    p.unix_ms = i * 1000;
    p.heap_alloc = static_cast<std::uint64_t>(i);
    h.add(p);
  }
  auto all = h.since(0);
  REQUIRE(all.size() == lw::server::kLivePoints);
  CHECK(all.front().unix_ms == 11 * 1000);
  CHECK(all.back().heap_alloc == lw::server::kLivePoints + 10);
  auto tail = h.since(all.back().unix_ms - 2000);
  REQUIRE(tail.size() == 2);
  CHECK(tail[0].unix_ms == all.back().unix_ms - 1000);
}

TEST_CASE("live.json from a known snapshot") {
  lw::server::RouterOptions o;
  o.source = [](lw::server::CaptureDepth) { return lw::server::test::sample_snapshot(); };
  lw::server::Router router(o);
  router.sample_live_history();
  auto r = router.handle(get("/debug/leakwatch/live.json"));
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "application/json; charset=utf-8");
  const std::string& doc = r.body;
  CHECK(jq(doc, ".now.heap_alloc") == "123456");
  CHECK(jq(doc, ".history.unix_ms | length") == "1");
  CHECK(jq(doc, ".history.heap_alloc[0]") == "123456");
  CHECK(jq(doc, ".now.tasks") == "3");
  CHECK(jq(doc, ".now.leaked_tasks") == "1");
  CHECK(jq(doc, ".tasks | map(.count) | add") == "3");
  CHECK(jq(doc, ".tasks[] | select(.wait_reason == \"chan receive\") | .leaked") == "1");
  CHECK(jq(doc, ".heap_sites_total") == "2");
  CHECK(jq(doc, ".top_sites[0].inuse_bytes") == "400");  // the larger first
  CHECK(jq(doc, "[.leaks[] | select(.kind == \"task\")] | length") == "1");
  CHECK(jq(doc, "[.profiles[].name] | index(\"goroutine\") != null") == "true");
  // since= after the only point: none.
  const std::string last = jq(doc, ".history.unix_ms[0]");
  r = router.handle(get("/debug/leakwatch/live.json", {{"since", last}}));
  CHECK(jq(r.body, ".history.unix_ms | length") == "0");
  CHECK(router.handle(get("/debug/leakwatch/live.json", {{"since", "-1"}})).status == 400);
  CHECK(router.handle(get("/debug/leakwatch/live.json", {{"since", "99999999999999999999"}})).status == 400);
  CHECK(router.handle(get("/debug/leakwatch/live.json", {{"what", "1"}})).status == 400);
}

TEST_CASE("the page's assets are compiled in, and nothing else is served under /debug/leakwatch/") {
  for (const char* name : {"index.html", "live.js", "live.css"}) {
    const lw::http::EmbeddedAsset* a = lw::server::find_live_asset(name);
    REQUIRE_MESSAGE(a != nullptr, name);
    CHECK(a->body.size() > 100);
  }
  CHECK(lw::server::find_live_asset("../index.html") == nullptr);
  lw::server::RouterOptions o;
  o.source = [](lw::server::CaptureDepth) { return lw::server::test::sample_snapshot(); };
  lw::server::Router router(o);
  auto page = router.handle(get("/debug/leakwatch/"));
  CHECK(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.body.find("live.js") != std::string::npos);
  CHECK(router.handle(get("/debug/leakwatch/live.js")).content_type == "text/javascript; charset=utf-8");
  CHECK(router.handle(get("/debug/leakwatch/etc/passwd")).status == 404);
  CHECK(router.handle(get("/debug/leakwatch")).status == 301);
  auto post = get("/debug/leakwatch/live.json");
  post.method = "POST";
  CHECK(router.handle(post).status == 405);
}
