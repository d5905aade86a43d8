// /debug/pprof/threads, threadleak and threadcreate, the index counts and the thread families of
// /metrics, from an injected snapshot with a tracked thread table: over a real socket, read by
// go tool pprof, curl and promtool.
#include <doctest/doctest.h>

#include <fstream>

#include "src/server/debug_service.hpp"
#include "src/server/router.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/profile/pprof_raw.hpp"
#include "tests/profile/synthetic_threads.hpp"

using lw::test::parse_raw;
using lw::test::pprof;
using lw::test::run_command;

namespace {

lw::server::SnapshotSource thread_source() {
  return [](lw::server::CaptureDepth) { return lw::test::synthetic_thread_snapshot(); };
}

std::unique_ptr<lw::http::HttpService> start_threads_service() {
  lw::server::ServiceOptions o;
  o.router.source = thread_source();
  auto s = lw::server::start_debug_service(std::move(o));
  REQUIRE(s.ok());
  return std::move(*s);
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

long long total(const lw::test::RawProfile& p) {
  long long n = 0;
  for (const auto& s : p.samples) n += s.values.at(0);
  return n;
}

std::string curl(const std::string& url) { return run_command("curl -s '" + url + "'").output; }

}  // namespace

TEST_CASE("/debug/pprof/threads in all three forms, and internal=1") {
  auto service = start_threads_service();
  const std::string base = service->url() + "/debug/pprof/threads";
  auto proto = pprof("-raw '" + base + "'");
  INFO(proto.output);
  REQUIRE(proto.exit_code == 0);
  auto p = parse_raw(proto.output);
  CHECK(p.sample_types == "threads/count");
  CHECK(p.samples.size() == 8);
  CHECK(total(p) == 8);
  CHECK_FALSE(contains(proto.output, "thread:[lw-http]"));

  auto with_internal = pprof("-raw '" + base + "?internal=1'");
  REQUIRE(with_internal.exit_code == 0);
  CHECK(parse_raw(with_internal.output).samples.size() == 10);
  CHECK(contains(with_internal.output, "thread:[lw-http]"));

  auto head = run_command("curl -s -D - -o /dev/null '" + base + "'");
  CHECK(contains(head.output, "Content-Type: application/octet-stream"));
  CHECK(contains(head.output, "filename=\"threads\""));

  std::string agg = curl(base + "?debug=1");
  CHECK(agg.rfind("threads profile: total 8\n2 @ ", 0) == 0);
  CHECK(curl(base + "?debug=1&internal=1").rfind("threads profile: total 10\n", 0) == 0);
  std::string dump = curl(base + "?debug=2");
  CHECK(dump.rfind("thread 100 \"svc\" [running]:\nspin_forever()(...)\n", 0) == 0);
  CHECK(contains(dump, "\nthread 101 \"pool-0\" [condition wait, 3 minutes]:\n"));
  CHECK(contains(dump, "\nthread 103 \"pipe reader\" [syscall read, pipe:[99]]:\n"));
  CHECK(contains(dump, "\ncreated by WorkerPool::start(int) in thread 100\n\t/src/worker_pool.cpp:9\n"));
  CHECK_FALSE(contains(dump, "lw-worker-0"));
  CHECK(contains(curl(base + "?debug=2&internal=1"), "\nthread 4243 \"lw-worker-0\" [running]:\n"));

  auto bad = run_command("curl -s -w '%{http_code}' '" + base + "?internal=yes'");
  CHECK(bad.output == "invalid value for \"internal\" - must be 0 or 1\n400");
}

TEST_CASE("/debug/pprof/threadleak lists only the proven threads") {
  auto service = start_threads_service();
  const std::string base = service->url() + "/debug/pprof/threadleak";
  auto proto = pprof("-raw '" + base + "'");
  INFO(proto.output);
  REQUIRE(proto.exit_code == 0);
  auto p = parse_raw(proto.output);
  CHECK(p.sample_types == "threadleak/count");
  CHECK(p.samples.size() == 2);
  CHECK(contains(proto.output, "Journal::flush()"));
  CHECK(curl(base + "?debug=1").rfind("threadleak profile: total 2\n", 0) == 0);
  std::string dump = curl(base + "?debug=2");
  CHECK(dump.rfind("thread 104 \"journal\" [mutex lock (leaked), 45 seconds, held by thread 105]:\n", 0) == 0);
  CHECK(contains(dump, "\nthread 105 \"helper\" [mutex lock (leaked), 45 seconds, held by thread 104]:\n"
                       "\t(stack unavailable: thread blocks signal 61)\n"));
  CHECK(contains(dump, "# leaked: deadlock: thread 104 waits for thread 105"));
  CHECK_FALSE(contains(dump, "pool-0"));
  auto delta = run_command("curl -s -w '%{http_code}' '" + base + "?seconds=5'");
  CHECK(contains(delta.output, "not supported"));
  CHECK(contains(delta.output, "400"));
}

TEST_CASE("/debug/pprof/threadcreate serves the creation stacks") {
  auto service = start_threads_service();
  const std::string base = service->url() + "/debug/pprof/threadcreate";
  auto proto = pprof("-raw '" + base + "'");
  INFO(proto.output);
  REQUIRE(proto.exit_code == 0);
  auto p = parse_raw(proto.output);
  CHECK(p.sample_types == "threadcreate/count");
  CHECK(total(p) == 10);
  const auto* pool = lw::test::find_sample(
      p, {"pthread_create",
          "std::thread::_M_start_thread(std::unique_ptr<std::thread::_State, "
          "std::default_delete<std::thread::_State> >, void (*)())",
          "WorkerPool::start(int)", "main"});
  REQUIRE(pool != nullptr);
  CHECK(pool->values == std::vector<long long>{7});
  std::string text = curl(base + "?debug=1");
  CHECK(text.rfind("threadcreate profile: total 10\n7 @ 0x403080 0x7f0000003010 0x403090 0x401510\n", 0) == 0);
  CHECK(contains(text, "#\t0x40308f\tWorkerPool::start(int)\t/src/worker_pool.cpp:9\n"));
}

TEST_CASE("the index counts user threads, leaked threads and threads created") {
  lw::server::RouterOptions o;
  o.source = thread_source();
  lw::server::Router router(o);
  lw::server::Request req;
  req.method = "GET";
  req.path = "/debug/pprof/";
  lw::server::Response index = router.handle(req);
  REQUIRE(index.status == 200);
  CHECK(contains(index.body, "<td>8</td><td><a href='threads?debug=1'>threads</a>"));
  CHECK(contains(index.body, "<td>2</td><td><a href='threadleak?debug=1'>threadleak</a>"));
  CHECK(contains(index.body, "<td>10</td><td><a href='threadcreate?debug=1'>threadcreate</a>"));
  CHECK(contains(index.body, "<a href=\"threads?debug=2\">full thread stack dump</a>"));
}

TEST_CASE("/metrics publishes the thread families, every state listed, and passes promtool") {
  auto service = start_threads_service();
  std::string m = curl(service->url() + "/metrics");
  CHECK(contains(m, "# TYPE leakwatch_threads gauge\n"
                    "leakwatch_threads{state=\"running\"} 1\n"
                    "leakwatch_threads{state=\"waiting\"} 4\n"
                    "leakwatch_threads{state=\"syscall\"} 1\n"
                    "leakwatch_threads{state=\"stopped\"} 1\n"
                    "leakwatch_threads{state=\"exited\"} 1\n"));
  CHECK(contains(m, "# TYPE leakwatch_threads_created_total counter\nleakwatch_threads_created_total 10\n"));
  CHECK(contains(m, "# TYPE leakwatch_threads_unjoined gauge\nleakwatch_threads_unjoined 1\n"));
  CHECK(contains(m, "# TYPE leakwatch_leaked_threads gauge\nleakwatch_leaked_threads 2\n"));
  std::string path = lw::test::make_temp_dir("threads_metrics") + "/metrics.txt";
  std::ofstream(path) << m;
  auto check = run_command("promtool check metrics < '" + path + "'");
  INFO(check.output);
  CHECK(check.exit_code == 0);
  CHECK(check.output.empty());
}
