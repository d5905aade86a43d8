// The router, endpoint by endpoint, against an injected snapshot: statuses, headers and bodies as
// real clients (promtool, a JSON parser, the snapshot decoder) read them.
#include <doctest/doctest.h>

#include <fstream>

#include "src/profile/gzip.hpp"
#include "src/server/expvar_json.hpp"
#include "src/http/content_coding.hpp"
#include "src/server/router.hpp"
#include "src/snapshot/codec.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/server/test_snapshot.hpp"

using lw::server::CaptureDepth;
using lw::server::Request;
using lw::server::Response;
using lw::server::Router;
using lw::server::RouterOptions;

namespace {

RouterOptions test_options() {
  RouterOptions o;
  o.source = [](CaptureDepth) { return lw::server::test::sample_snapshot(); };
  o.wait = [](std::int64_t) { return true; };
  return o;
}

Request get(std::string path, std::vector<std::pair<std::string, std::string>> params = {}) {
  Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.params = std::move(params);
  return r;
}

std::string write_temp(const std::string& name, const std::string& body) {
  std::string dir = lw::test::make_temp_dir("router");
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << body;
  return path;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

// A function with a known name for /symbol to resolve.
extern "C" __attribute__((noinline, used)) int lw_router_test_symbol_target(int x) { return x * 3 + 1; }

TEST_CASE("unknown paths and profiles are 404 with a plain message") {
  Router router(test_options());
  Response unknown = router.handle(get("/debug/pprof/nosuch"));
  CHECK(unknown.status == 404);
  CHECK(unknown.body == "Unknown profile\n");
  CHECK(unknown.header("X-Go-Pprof") == "1");
  CHECK(router.handle(get("/debug/pprof/profile", {{"debug", "1"}})).status == 400);  // the CPU profile has no text form
  CHECK(router.handle(get("/debug/pprof/profile", {{"seconds", "0"}})).status == 400);
  CHECK(router.handle(get("/")).status == 404);
  CHECK(router.handle(get("/etc/passwd")).status == 404);
  CHECK(router.handle(get("/debug/pprof/../../etc/passwd")).status == 404);
  Response redirect = router.handle(get("/debug/pprof"));
  CHECK(redirect.status == 301);
  CHECK(redirect.header("Location") == "/debug/pprof/");
}

TEST_CASE("only GET and HEAD are served, and POST on /symbol") {
  Router router(test_options());
  for (const char* m : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    Request r = get("/metrics");
    r.method = m;
    Response resp = router.handle(r);
    CHECK(resp.status == 405);
    CHECK(resp.header("Allow") == "GET, HEAD");
    r.path = "/debug/pprof/heap";
    CHECK(router.handle(r).status == 405);
  }
  Request put = get("/debug/pprof/symbol");
  put.method = "PUT";
  CHECK(router.handle(put).status == 405);
  CHECK(router.handle(put).header("Allow") == "GET, HEAD, POST");
  Request head = get("/metrics");
  head.method = "HEAD";
  CHECK(router.handle(head).status == 200);
}

TEST_CASE("malformed or out-of-range parameters are 400 naming the parameter") {
  Router router(test_options());
  struct Case {
    const char* profile;
    const char* name;
    const char* value;
  };
  for (Case c : {Case{"heap", "debug", "x"}, Case{"heap", "debug", "3"}, Case{"heap", "debug", "-1"},
                 Case{"goroutine", "debug", "1.5"}, Case{"heap", "gc", "yes"}, Case{"heap", "gc", "-2"},
                 Case{"heap", "seconds", "0"}, Case{"heap", "seconds", "-5"}, Case{"allocs", "seconds", "abc"},
                 Case{"goroutine", "seconds", "301"}, Case{"heap", "seconds", "99999999999999999999"}}) {
    CAPTURE(c.profile);
    CAPTURE(c.name);
    CAPTURE(c.value);
    Response r = router.handle(get(std::string("/debug/pprof/") + c.profile, {{c.name, c.value}}));
    CHECK(r.status == 400);
    CHECK(contains(r.body, std::string("\"") + c.name + "\""));
    CHECK(r.content_type == "text/plain; charset=utf-8");
  }
  Response leak = router.handle(get("/debug/pprof/goroutineleak", {{"seconds", "5"}}));
  CHECK(leak.status == 400);
  CHECK(contains(leak.body, "not supported"));
  Response both = router.handle(get("/debug/pprof/heap", {{"seconds", "5"}, {"debug", "1"}}));
  CHECK(both.status == 400);
  CHECK(contains(both.body, "incompatible"));
  // Validation happens before any capture: the 400 does not depend on the profile writers.
  auto q = lw::server::parse_profile_query(get("/x", {{"debug", "2"}, {"gc", "1"}, {"seconds", "30"}}));
  REQUIRE(q.ok());
  CHECK(q->debug == 2);
  CHECK(q->seconds == 30);
  auto empty = lw::server::parse_profile_query(get("/x", {{"debug", ""}, {"seconds", ""}}));
  REQUIRE(empty.ok());
  CHECK(empty->debug == 0);
  CHECK(empty->seconds == 0);
}

TEST_CASE("/metrics passes promtool and carries the snapshot's figures") {
  Router router(test_options());
  Response r = router.handle(get("/metrics"));
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  const std::string& m = r.body;
  CHECK(contains(m, "# HELP go_goroutines Number of goroutines that currently exist.\n# TYPE go_goroutines gauge\ngo_goroutines 3\n"));
  CHECK(contains(m, "# TYPE go_memstats_alloc_bytes gauge\ngo_memstats_alloc_bytes 123456\n"));
  CHECK(contains(m, "# TYPE go_memstats_alloc_bytes_total counter\ngo_memstats_alloc_bytes_total 987654\n"));
  CHECK(contains(m, "go_memstats_mallocs_total 5000\n"));
  CHECK(contains(m, "go_memstats_frees_total 4000\n"));
  CHECK(contains(m, "go_memstats_heap_objects 1000\n"));
  CHECK(contains(m, "leakwatch_tasks{state=\"waiting\"} 2\n"));
  CHECK(contains(m, "leakwatch_tasks{state=\"running\"} 1\n"));
  CHECK(contains(m, "leakwatch_tasks{state=\"runnable\"} 0\n"));
  CHECK(contains(m, "leakwatch_leaked_tasks 1\n"));
  CHECK(contains(m, "leakwatch_leaked_tasks_total 7\n"));
  CHECK(contains(m, "leakwatch_heap_sampled_sites 2\n"));
  CHECK(contains(m, "leakwatch_threads{state=\"running\"} 1\n"));  // svc; lw-http is leakwatch's own
  CHECK(contains(m, "leakwatch_threads{state=\"exited\"} 0\n"));
  CHECK(contains(m, "leakwatch_threads_created_total 0\n"));
  CHECK(contains(m, "leakwatch_heap_dropped_samples_total 3\n"));
  CHECK(contains(m, "leakwatch_dropped_label_sets_total 5\n"));
  CHECK(contains(m, "# TYPE process_cpu_seconds_total counter\n"));
  CHECK(contains(m, "process_resident_memory_bytes "));
  CHECK(contains(m, "process_start_time_seconds "));
  CHECK_FALSE(contains(m, "process_resident_memory_bytes 0\n"));
  CHECK_FALSE(contains(m, "go_threads 0\n"));

  std::string path = write_temp("metrics.txt", m);
  auto check = lw::test::run_command("promtool check metrics < '" + path + "'");
  INFO(check.output);
  CHECK(check.exit_code == 0);
  CHECK(check.output.empty());  // no lint warnings either
}

TEST_CASE("/debug/vars is expvar JSON with Go's MemStats names") {
  Router router(test_options());
  Response r = router.handle(get("/debug/vars"));
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "application/json; charset=utf-8");
  std::string path = write_temp("vars.json", r.body);
  auto check = lw::test::run_command(
      "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); m=d[\"memstats\"]; "
      "print(d[\"cmdline\"][1], m[\"Alloc\"], m[\"TotalAlloc\"], m[\"Mallocs\"], m[\"Frees\"], m[\"HeapObjects\"], "
      "m[\"NumGC\"], d[\"leakwatch\"][\"leaked_tasks_total\"])' '" + path + "'");
  INFO(r.body);
  CHECK(check.exit_code == 0);
  CHECK(check.output == "--name=a \"quoted\" value 123456 987654 5000 4000 1000 0 7\n");
}

TEST_CASE("/debug/leakwatch/snapshot decodes back to the snapshot, gzipped when asked") {
  Router router(test_options());
  Request req = get("/debug/leakwatch/snapshot");
  Response plain = router.handle(req);
  REQUIRE(plain.status == 200);
  CHECK(plain.content_type == "application/x-protobuf");
  CHECK(plain.header("Content-Encoding").empty());
  auto decoded = lw::snapshot::decode(plain.body);
  REQUIRE(decoded.ok());
  CHECK(decoded->tasks.size() == 3);
  CHECK(decoded->heap.sites.size() == 2);
  CHECK(decoded->process.cmdline == lw::server::test::sample_snapshot().process.cmdline);

  req.accept_encoding = "deflate, gzip;q=0.8";
  Response zipped = router.handle(req);
  CHECK(zipped.header("Content-Encoding") == "gzip");
  auto unzipped = lw::profile::gunzip(zipped.body);
  REQUIRE(unzipped.ok());
  CHECK(*unzipped == plain.body);

  req.accept_encoding = "gzip;q=0, br";
  CHECK(router.handle(req).header("Content-Encoding").empty());
  CHECK(lw::http::accepts_gzip("GZIP"));
  CHECK(lw::http::accepts_gzip("*"));
  CHECK_FALSE(lw::http::accepts_gzip("identity"));
  CHECK_FALSE(lw::http::accepts_gzip("gzip;q=0.0"));
  CHECK_FALSE(lw::http::accepts_gzip("gzip;q=0"));
  CHECK_FALSE(lw::http::accepts_gzip("gzip; q=0, *"));  // gzip named: its own q decides
  CHECK_FALSE(lw::http::accepts_gzip("*;q=0"));
  CHECK(lw::http::accepts_gzip("br, *"));
  CHECK(lw::http::accepts_gzip("gzip;q=0.5"));
}

TEST_CASE("cmdline, index and symbol answer as net/http/pprof does") {
  Router router(test_options());
  Response cmd = router.handle(get("/debug/pprof/cmdline"));
  CHECK(cmd.status == 200);
  CHECK(cmd.body == std::string("svc") + '\0' + "--name=a \"quoted\" value" + '\0' + "tab\there");

  Response index = router.handle(get("/debug/pprof/"));
  CHECK(index.status == 200);
  CHECK(index.content_type == "text/html; charset=utf-8");
  for (const char* name : {"allocs", "goroutine", "goroutineleak", "heap", "threadcreate", "threadleak", "threads",
                           "cmdline", "symbol"})
    CHECK(contains(index.body, std::string("<a href='") + name));
  CHECK(contains(index.body, "<td>3</td><td><a href='goroutine?debug=1'>goroutine</a>"));
  CHECK(contains(index.body, "<td>1</td><td><a href='goroutineleak?debug=1'>goroutineleak</a>"));
  CHECK(contains(index.body, "<td>2</td><td><a href='heap?debug=1'>heap</a>"));

  char addr[32];
  std::snprintf(addr, sizeof addr, "%#lx", reinterpret_cast<unsigned long>(&lw_router_test_symbol_target));
  Request sym = get("/debug/pprof/symbol");
  Response count = router.handle(sym);
  CHECK(count.body == "num_symbols: 1\n");
  sym.raw_query = std::string(addr) + "+0x1+junk";
  Response one = router.handle(sym);
  CHECK(one.body == "num_symbols: 1\n" + std::string(addr) + " lw_router_test_symbol_target\n");
  sym.method = "POST";
  sym.raw_query.clear();
  sym.body = std::string(addr) + "+" + addr;
  Response two = router.handle(sym);
  CHECK(two.body == "num_symbols: 1\n" + std::string(addr) + " lw_router_test_symbol_target\n" + addr +
                        " lw_router_test_symbol_target\n");
  sym.body.assign(lw::server::kMaxSymbolBody + 1, '1');
  CHECK(router.handle(sym).status == 413);
  CHECK(lw_router_test_symbol_target(1) == 4);
}
