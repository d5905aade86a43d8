// End to end: a real program (tests/fixtures/server_basic) started with LEAKWATCH_HTTP=127.0.0.1:0,
// read by real clients: curl, promtool, python3's json, our snapshot decoder, go tool pprof.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "src/snapshot/codec.hpp"
#include "tests/integration/fixture_process.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/profile/pprof_raw.hpp"
#include "tests/profile/synthetic_snapshot.hpp"  // lw::test::pprof()

using lw::test::run_command;

namespace {

// FixtureProcess runs server_basic (by default) with extra environment; marker() is the address
// of a function the fixture prints, for the symbol endpoint.
class FixtureProcess : public lw::test::FixtureProcess {
 public:
  explicit FixtureProcess(std::vector<std::string> env, std::vector<std::string> args = {},
                          std::string program = LW_SERVER_BASIC, std::string ready_text = "server_basic: ready")
      : lw::test::FixtureProcess(std::move(program), std::move(args), std::move(env), std::move(ready_text)) {}

  std::string marker() {
    std::string text = output();
    auto at = text.find("marker=");
    return at == std::string::npos ? "" : text.substr(at + 7, text.find(' ', at + 7) - at - 7);
  }
};

struct Fetched {
  std::string status;
  std::string headers;
  std::string body;
};

// fetch() runs curl and returns status, response headers and body.
Fetched fetch(const std::string& url, const std::string& extra = {}) {
  static int n = 0;
  static const std::string dir = lw::test::make_temp_dir("server_it");
  std::string base = dir + "/r" + std::to_string(n++);
  auto r = run_command("curl -s -o '" + base + ".body' -D '" + base + ".head' -w '%{http_code}' " + extra + " '" +
                       url + "'");
  Fetched f;
  f.status = r.output;
  std::ifstream h(base + ".head", std::ios::binary), b(base + ".body", std::ios::binary);
  f.headers.assign(std::istreambuf_iterator<char>(h), {});
  f.body.assign(std::istreambuf_iterator<char>(b), {});
  return f;
}

std::string save(const std::string& name, const std::string& body) {
  static const std::string dir = lw::test::make_temp_dir("server_it_files");
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << body;
  return path;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("LEAKWATCH_HTTP=127.0.0.1:0 starts a server that curl, promtool and python read") {
  FixtureProcess app({"LEAKWATCH_HTTP=127.0.0.1:0"}, {"64"});
  REQUIRE_MESSAGE(app.ok(), app.output());
  INFO(app.output());
  REQUIRE(app.url().rfind("http://127.0.0.1:", 0) == 0);
  const std::string url = app.url();

  Fetched index = fetch(url + "/debug/pprof/");
  CHECK(index.status == "200");
  CHECK(contains(index.headers, "Content-Type: text/html; charset=utf-8"));
  CHECK(contains(index.body, "goroutine?debug=2"));

  Fetched metrics = fetch(url + "/metrics");
  CHECK(metrics.status == "200");
  CHECK(contains(metrics.headers, "Content-Type: text/plain; version=0.0.4"));
  auto prom = run_command("promtool check metrics < '" + save("metrics.txt", metrics.body) + "'");
  INFO(metrics.body);
  CHECK(prom.exit_code == 0);
  CHECK(prom.output.empty());
  // The server's own threads are counted; the fixture has a main thread and at least 5 of ours.
  CHECK(contains(metrics.body, "go_threads "));
  CHECK_FALSE(contains(metrics.body, "go_threads 0\n"));
  CHECK_FALSE(contains(metrics.body, "process_resident_memory_bytes 0\n"));

  Fetched vars = fetch(url + "/debug/vars");
  CHECK(vars.status == "200");
  auto json = run_command("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                          "print(d[\"cmdline\"][1], sorted(k for k in (\"Alloc\",\"HeapAlloc\",\"Mallocs\") if k in d[\"memstats\"]))' '" +
                          save("vars.json", vars.body) + "'");
  INFO(vars.body);
  CHECK(json.exit_code == 0);
  CHECK(json.output == "64 ['Alloc', 'HeapAlloc', 'Mallocs']\n");

  Fetched cmdline = fetch(url + "/debug/pprof/cmdline");
  CHECK(cmdline.status == "200");
  CHECK(cmdline.body == std::string(LW_SERVER_BASIC) + '\0' + "64");

  Fetched symbol = fetch(url + "/debug/pprof/symbol", "--data-binary '" + app.marker() + "+0x1'");
  CHECK(symbol.status == "200");
  CHECK(symbol.body == "num_symbols: 1\n" + app.marker() + " server_basic_marker\n");
  Fetched symbol_get = fetch(url + "/debug/pprof/symbol?" + app.marker());
  CHECK(symbol_get.body == symbol.body);

  Fetched snap = fetch(url + "/debug/leakwatch/snapshot");
  CHECK(snap.status == "200");
  CHECK(contains(snap.headers, "Content-Type: application/x-protobuf"));
  auto decoded = lw::snapshot::decode(snap.body);
  REQUIRE(decoded.ok());
  CHECK(decoded->process.pid == app.pid());
  CHECK(decoded->process.executable == LW_SERVER_BASIC);
  REQUIRE(decoded->process.cmdline.size() == 2);
  CHECK(decoded->process.cmdline[1] == "64");
  bool saw_http_thread = false;
  for (const auto& t : decoded->threads) saw_http_thread |= t.name == "lw-http";
  CHECK(saw_http_thread);
  // The binary's mapping carries its GNU build id, as readelf reads it from the file.
  auto readelf = run_command("readelf -n '" LW_SERVER_BASIC "' | sed -n 's/.*Build ID: *//p'");
  std::string build_id = readelf.output.substr(0, readelf.output.find('\n'));
  CHECK(build_id.size() == 40);
  bool saw_binary = false;
  for (const auto& m : decoded->mappings) {
    if (m.file != LW_SERVER_BASIC) continue;
    saw_binary = true;
    CHECK(m.build_id == build_id);
  }
  CHECK(saw_binary);
  Fetched snap_gz = fetch(url + "/debug/leakwatch/snapshot", "--compressed");
  CHECK(contains(snap_gz.headers, "Content-Encoding: gzip"));
  CHECK(lw::snapshot::decode(snap_gz.body).ok());  // curl --compressed already unzipped it

  CHECK(app.terminate() == 0);  // SIGTERM ends it cleanly, server stopped at exit
}

TEST_CASE("go tool pprof reads every profile of a real program") {
  FixtureProcess app({"LEAKWATCH_HTTP=127.0.0.1:0"});
  REQUIRE_MESSAGE(app.ok(), app.output());
  INFO(app.output());
  const std::string url = app.url();
  auto heap = lw::test::pprof("-raw '" + url + "/debug/pprof/heap'");
  INFO(heap.output);
  REQUIRE(heap.exit_code == 0);
  auto h = lw::test::parse_raw(heap.output);
  CHECK(h.sample_types == "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt]");
  CHECK(contains(h.header, "PeriodType: space bytes"));
  // pprof's mappings come from the program's /proc/self/maps: the fixture binary is among them.
  CHECK(contains(h.mappings, LW_SERVER_BASIC));

  auto goroutine = lw::test::pprof("-raw '" + url + "/debug/pprof/goroutine'");
  REQUIRE(goroutine.exit_code == 0);
  CHECK(lw::test::parse_raw(goroutine.output).sample_types == "goroutine/count");
  auto leak = lw::test::pprof("-raw '" + url + "/debug/pprof/goroutineleak'");
  CHECK(leak.exit_code == 0);
  auto allocs = lw::test::pprof("-raw '" + url + "/debug/pprof/allocs'");
  CHECK(allocs.exit_code == 0);

  // threadcreate counts every thread made through pthread_create, at its creation stack: the
  // listener and the 4 workers at least. The debug=1 records add up to the total.
  auto threads = lw::test::pprof("-raw '" + url + "/debug/pprof/threadcreate'");
  REQUIRE(threads.exit_code == 0);
  CHECK(lw::test::parse_raw(threads.output).sample_types == "threadcreate/count");
  Fetched text = fetch(url + "/debug/pprof/threadcreate?debug=1");
  INFO(text.body);
  REQUIRE(contains(text.body, "threadcreate profile: total "));
  const long long total = std::stoll(text.body.substr(text.body.find("total ") + 6));
  long long listed = 0;
  std::istringstream records(text.body);
  for (std::string line; std::getline(records, line);)
    if (line.find(" @ ") != std::string::npos) listed += std::stoll(line);
  CHECK(listed == total);
#if !defined(__SANITIZE_THREAD__)
  // Under ThreadSanitizer, a program linking libleakwatch.so reaches our pthread_create through
  // TSan's interceptor, which is passed through: no creation sites there (docs/threads.md).
  CHECK(total >= 5);
  CHECK(contains(text.body, "lw::server::"));  // the server's own threads, created by its start
#endif
  Fetched dump = fetch(url + "/debug/pprof/goroutine?debug=2");
  CHECK(dump.status == "200");
  CHECK(contains(dump.headers, "Content-Type: text/plain; charset=utf-8"));
  Fetched heap_text = fetch(url + "/debug/pprof/heap?debug=1");
  CHECK(heap_text.body.rfind("heap profile: ", 0) == 0);
  Fetched gz = fetch(url + "/debug/pprof/heap");
  CHECK(contains(gz.headers, "Content-Disposition: attachment; filename=\"heap\""));
  CHECK(gz.body.substr(0, 2) == "\x1f\x8b");  // gzip magic
  CHECK(app.terminate() == 0);
}

TEST_CASE("go tool pprof reads the program's own heap and tasks") {
  // Every allocation sampled (rate 1): 64 blocks of 4096 bytes from server_basic_retain(), and 3
  // tasks stuck forever in server_basic_stuck().
  FixtureProcess app({"LEAKWATCH_HTTP=127.0.0.1:0", "LEAKWATCH_HEAP_RATE=1"}, {"64", "3"});
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string url = app.url();

  auto heap = lw::test::pprof("-raw '" + url + "/debug/pprof/heap'");
  INFO(heap.output);
  REQUIRE(heap.exit_code == 0);
  bool found_blocks = false;
  for (const auto& s : lw::test::parse_raw(heap.output).samples)
    if (!s.frames.empty() && s.frames[0] == "server_basic_retain(int, unsigned long)" &&
        s.values == std::vector<long long>{64, 64 * 4096, 64, 64 * 4096})
      found_blocks = true;
#if LW_HEAP_INTERPOSED
  CHECK(found_blocks);
#else
  CHECK_FALSE(found_blocks);  // sanitizer builds leave the malloc interposer out: no heap samples
#endif

  auto goroutine = lw::test::pprof("-raw '" + url + "/debug/pprof/goroutine'");
  INFO(goroutine.output);
  REQUIRE(goroutine.exit_code == 0);
  long long total = 0;
  const lw::test::RawSample* stuck = nullptr;
  auto g = lw::test::parse_raw(goroutine.output);
  for (const auto& s : g.samples) {
    total += s.values.at(0);
    // The runtime's own frames (fiber_switch, wait, recv_raw) are innermost, as Go's gopark is.
    for (const auto& f : s.frames)
      if (f == "server_basic_stuck(lw::Chan<int>)") stuck = &s;
  }
  CHECK(total == 4);  // the main task and the 3 stuck ones
  REQUIRE(stuck != nullptr);
  CHECK(stuck->values == std::vector<long long>{3});
  CHECK(stuck->labels == std::vector<std::string>{"role:[stuck]"});

  auto leak = lw::test::pprof("-raw '" + url + "/debug/pprof/goroutineleak'");
  REQUIRE(leak.exit_code == 0);
  long long leaked = 0;
  for (const auto& s : lw::test::parse_raw(leak.output).samples) leaked += s.values.at(0);
  CHECK(leaked == 3);

  Fetched dump = fetch(url + "/debug/pprof/goroutineleak?debug=2");
  CHECK(contains(dump.body, "[chan receive (leaked)"));
  CHECK(contains(dump.body, "server_basic_stuck(lw::Chan<int>)"));
  Fetched metrics = fetch(url + "/metrics");
  CHECK(contains(metrics.body, "\ngo_goroutines 4\n"));
  CHECK(contains(metrics.body, "\nleakwatch_leaked_tasks 3\n"));
  CHECK(contains(metrics.body, "\nleakwatch_tasks{state=\"waiting\"} 4\n"));
  auto prom = run_command("promtool check metrics < '" + save("metrics_tasks.txt", metrics.body) + "'");
  CHECK(prom.exit_code == 0);
  CHECK(app.terminate() == 0);
}

namespace {

// gauge() is the value of an unlabelled /metrics line ("name value").
long long gauge(const std::string& metrics, const std::string& name) {
  const std::size_t at = metrics.find("\n" + name + " ");
  REQUIRE_MESSAGE(at != std::string::npos, name);
  return std::stoll(metrics.substr(at + name.size() + 2));
}

}  // namespace

TEST_CASE("the program's heap is the program's: profile requests grow only leakwatch's own bytes") {
  // Rate 1: every allocation is seen. The program allocates nothing after start, so whatever the
  // requests make (the symbolizer's debug info, profiles, responses) must land in self_bytes.
  FixtureProcess app({"LEAKWATCH_HTTP=127.0.0.1:0", "LEAKWATCH_HEAP_RATE=1"}, {"64", "3"});
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string url = app.url();
  const std::string first = fetch(url + "/metrics").body;
  const long long heap_before = gauge(first, "go_memstats_heap_alloc_bytes");
  for (int i = 0; i < 10; ++i) {
    for (const char* path : {"/debug/pprof/heap", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=2",
                             "/debug/pprof/threads?debug=2", "/debug/leakwatch/snapshot"})
      REQUIRE(fetch(url + path).status == "200");
  }
  const std::string last = fetch(url + "/metrics").body;
  const long long heap_after = gauge(last, "go_memstats_heap_alloc_bytes");
  const long long self = gauge(last, "leakwatch_self_bytes");
  std::printf("heap after 50 profile requests: HeapAlloc %lld -> %lld bytes (%+lld); leakwatch's own %lld bytes\n",
              heap_before, heap_after, heap_after - heap_before, self);
#if LW_HEAP_INTERPOSED
  CHECK(std::llabs(heap_after - heap_before) <= 64 * 1024);
  CHECK(self > 0);
  // And the heap profile shows none of it: no frame of the symbolizer or the server.
  auto heap = lw::test::pprof("-raw '" + url + "/debug/pprof/heap'");
  REQUIRE(heap.exit_code == 0);
  for (const auto& sample : lw::test::parse_raw(heap.output).samples)
    for (const auto& f : sample.frames) {
      INFO(f);
      CHECK_FALSE(contains(f, "dwfl_"));
      // (The fixture itself asks for the server's url() to print it: that string is its own.)
      if (!contains(f, "HttpService::url")) CHECK_FALSE(contains(f, "lw::server::"));
      CHECK_FALSE(contains(f, "Symbolizer::"));
    }
#endif
  CHECK(app.terminate() == 0);
}

TEST_CASE("bad input from a real client gets its status, and the program keeps serving") {
  FixtureProcess app({"LEAKWATCH_HTTP=127.0.0.1:0"});
  REQUIRE_MESSAGE(app.ok(), app.output());
  INFO(app.output());
  const std::string url = app.url();
  struct Case {
    std::string path;
    std::string extra;
    std::string status;
  };
  const Case cases[] = {
      {"/debug/pprof/nosuch", "", "404"},
      {"/nothing/here", "", "404"},
      {"/debug/pprof/heap?debug=x", "", "400"},
      {"/debug/pprof/heap?debug=7", "", "400"},
      {"/debug/pprof/goroutine?seconds=0", "", "400"},
      {"/debug/pprof/goroutine?seconds=301", "", "400"},
      {"/debug/pprof/allocs?seconds=-1", "", "400"},
      {"/debug/pprof/heap?gc=maybe", "", "400"},
      {"/debug/pprof/goroutineleak?seconds=5", "", "400"},
      {"/metrics", "-X POST", "405"},
      {"/debug/pprof/heap", "-X PUT", "405"},
      {"/debug/pprof/symbol", "-X DELETE", "405"},
      {"/debug/pprof/symbol?" + std::string(9000, '1'), "", "414"},
      {"/debug/pprof/symbol", "--data-binary @" + save("big", std::string(70000, '1')), "413"},
  };
  for (const Case& c : cases) {
    Fetched f = fetch(url + c.path, c.extra);
    CAPTURE(c.path.substr(0, 60));
    CAPTURE(c.extra);
    CHECK(f.status == c.status);
    if (c.status == "400") CHECK(contains(f.body, "invalid value for") != contains(f.body, "not supported"));
  }
  CHECK(fetch(url + "/debug/pprof/nosuch").body == "Unknown profile\n");
  CHECK(fetch(url + "/debug/pprof/heap?seconds=abc").body ==
        "invalid value for \"seconds\" - must be a positive integer\n");
  CHECK(fetch(url + "/metrics").status == "200");
  CHECK(app.terminate() == 0);
}

TEST_CASE("LEAKWATCH_TOKEN requires the bearer token on every path") {
  FixtureProcess app({"LEAKWATCH_HTTP=127.0.0.1:0", "LEAKWATCH_TOKEN=t0k3n"});
  REQUIRE_MESSAGE(app.ok(), app.output());
  INFO(app.output());
  CHECK(contains(app.output(), "(bearer token required)"));
  const std::string url = app.url();
  for (const char* path : {"/metrics", "/debug/vars", "/debug/pprof/", "/debug/pprof/heap", "/nope"}) {
    CAPTURE(path);
    CHECK(fetch(url + path).status == "401");
    CHECK(fetch(url + path, "-H 'Authorization: Bearer wrong'").status == "401");
  }
  CHECK(fetch(url + "/metrics", "-H 'Authorization: Bearer t0k3n'").status == "200");
  CHECK(fetch(url + "/debug/vars", "-H 'Authorization: Bearer t0k3n'").status == "200");
  CHECK(fetch(url + "/nope", "-H 'Authorization: Bearer t0k3n'").status == "404");
}

TEST_CASE("a port in use or a bad LEAKWATCH_HTTP is reported and the program runs on") {
  FixtureProcess first({"LEAKWATCH_HTTP=127.0.0.1:0"});
  REQUIRE_MESSAGE(first.ok(), first.output());
  const std::string port = first.url().substr(first.url().rfind(':') + 1);
  FixtureProcess second({"LEAKWATCH_HTTP=127.0.0.1:" + port});
  REQUIRE_MESSAGE(second.ok(), second.output());
  INFO(second.output());
  CHECK(contains(second.output(), "leakwatch: debug server not started: LEAKWATCH_HTTP=127.0.0.1:" + port));
  CHECK(contains(second.output(), "server=none"));
  FixtureProcess bad({"LEAKWATCH_HTTP=localhost:http"});
  REQUIRE_MESSAGE(bad.ok(), bad.output());
  CHECK(contains(bad.output(), "port must be a number"));
  CHECK(bad.terminate() == 0);
  CHECK(fetch(first.url() + "/metrics").status == "200");
}

#if !LW_SANITIZED
TEST_CASE("LD_PRELOAD=libleakwatch_preload.so serves an unmodified program") {
  FixtureProcess app({"LEAKWATCH_HTTP=127.0.0.1:0", "LD_PRELOAD=" LW_PRELOAD_LIB}, {"30"}, "sleep",
                     "debug server listening on");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string url = app.url();
  Fetched cmdline = fetch(url + "/debug/pprof/cmdline");
  CHECK(cmdline.status == "200");
  CHECK(cmdline.body == std::string("sleep") + '\0' + "30");
  Fetched metrics = fetch(url + "/metrics");
  CHECK(metrics.status == "200");
  auto prom = run_command("promtool check metrics < '" + save("metrics_preload.txt", metrics.body) + "'");
  CHECK(prom.exit_code == 0);
  auto heap = lw::test::pprof("-raw '" + url + "/debug/pprof/heap'");
  CHECK(heap.exit_code == 0);
}
#endif
