// /debug/pprof/* profiles on a real socket, read by go tool pprof, from an injected snapshot with
// known contents (the profile writers' synthetic snapshot), and delta profiles.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "src/profile/gzip.hpp"
#include "src/server/debug_service.hpp"
#include "src/server/router.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/profile/pprof_raw.hpp"
#include "tests/profile/synthetic_snapshot.hpp"

using lw::test::find_sample;
using lw::test::parse_raw;
using lw::test::pprof;
using lw::test::run_command;

namespace {

const std::vector<std::string> kPutStack = {"cache::Store::put(std::string const&)",
                                            "handle_request(Request const&)", "main"};

// A source whose heap grows by one allocation of 64 bytes at the put() site on every capture
// (but the live page's history samples, which the service takes by itself once a second).
lw::server::SnapshotSource growing_source(std::shared_ptr<std::atomic<int>> calls) {
  return [calls](lw::server::CaptureDepth depth) {
    auto s = lw::test::synthetic_snapshot(1);
    int n = depth == lw::server::CaptureDepth::kLive ? calls->load() : calls->fetch_add(1);
    s.heap.sites[0].alloc_objects += n;
    s.heap.sites[0].alloc_bytes += 64 * n;
    s.heap.sites[0].inuse_objects += n;
    s.heap.sites[0].inuse_bytes += 64 * n;
    s.time_unix_ns += n * 1'000'000'000LL;
    return s;
  };
}

std::unique_ptr<lw::http::HttpService> start_synthetic() {
  lw::server::ServiceOptions o;
  o.router.source = growing_source(std::make_shared<std::atomic<int>>(0));
  auto s = lw::server::start_debug_service(std::move(o));
  REQUIRE(s.ok());
  return std::move(*s);
}

}  // namespace

TEST_CASE("go tool pprof reads /debug/pprof/heap and /allocs with the snapshot's figures") {
  auto service = start_synthetic();
  auto heap = pprof("-raw '" + service->url() + "/debug/pprof/heap'");
  INFO(heap.output);
  REQUIRE(heap.exit_code == 0);
  auto p = parse_raw(heap.output);
  CHECK(p.sample_types == "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt]");
  REQUIRE(p.samples.size() == 3);
  const auto* put = find_sample(p, kPutStack);
  REQUIRE(put != nullptr);
  CHECK(put->values == std::vector<long long>{10, 640, 4, 256});  // first capture: not grown yet

  auto allocs = pprof("-raw '" + service->url() + "/debug/pprof/allocs'");
  REQUIRE(allocs.exit_code == 0);
  CHECK(parse_raw(allocs.output).sample_types ==
        "alloc_objects/count alloc_space/bytes[dflt] inuse_objects/count inuse_space/bytes");

  auto head = run_command("curl -s -D - -o /dev/null '" + service->url() + "/debug/pprof/heap'");
  CHECK(head.output.find("Content-Type: application/octet-stream") != std::string::npos);
  CHECK(head.output.find("Content-Disposition: attachment; filename=\"heap\"") != std::string::npos);
  auto text = run_command("curl -s '" + service->url() + "/debug/pprof/heap?debug=1'");
  CHECK(text.output.rfind("heap profile: ", 0) == 0);
  CHECK(text.output.find("# runtime.MemStats") != std::string::npos);
}

TEST_CASE("go tool pprof reads /debug/pprof/goroutine, goroutineleak and threadcreate") {
  auto service = start_synthetic();
  auto all = pprof("-raw '" + service->url() + "/debug/pprof/goroutine'");
  INFO(all.output);
  REQUIRE(all.exit_code == 0);
  auto g = parse_raw(all.output);
  CHECK(g.sample_types == "goroutine/count");
  long long total = 0;
  for (const auto& s : g.samples) total += s.values.at(0);
  CHECK(total == 7);  // the dead task is not a goroutine any more
  auto leak = pprof("-raw '" + service->url() + "/debug/pprof/goroutineleak'");
  REQUIRE(leak.exit_code == 0);
  long long leaked = 0;
  for (const auto& s : parse_raw(leak.output).samples) leaked += s.values.at(0);
  CHECK(leaked == 3);
  // This snapshot predates the thread registry (no creation stacks): threadcreate falls back to
  // one pseudo-frame per thread; the creation-stack form is tested in thread_endpoints_test.
  auto threads = pprof("-raw '" + service->url() + "/debug/pprof/threadcreate'");
  REQUIRE(threads.exit_code == 0);
  CHECK(parse_raw(threads.output).sample_types == "threadcreate/count");
  auto dump = run_command("curl -s '" + service->url() + "/debug/pprof/goroutine?debug=2'");
  CHECK(dump.output.find("goroutine 2 [chan receive, 5 minutes]:") != std::string::npos);
  auto agg = run_command("curl -s '" + service->url() + "/debug/pprof/goroutine?debug=1'");
  CHECK(agg.output.rfind("goroutine profile: total 7\n", 0) == 0);
  auto tc = run_command("curl -s '" + service->url() + "/debug/pprof/threadcreate?debug=1'");
  CHECK(tc.output.rfind("threadcreate profile: total 3\n", 0) == 0);
}

TEST_CASE("?seconds=N serves the delta, as go tool pprof -seconds asks for it") {
  auto service = start_synthetic();
  // pprof adds ?seconds=1; the server captures, waits one second, captures again.
  auto delta = pprof("-seconds 1 -raw '" + service->url() + "/debug/pprof/heap'");
  INFO(delta.output);
  REQUIRE(delta.exit_code == 0);
  auto p = parse_raw(delta.output);
  const auto* put = find_sample(p, kPutStack);
  REQUIRE(put != nullptr);
  CHECK(put->values == std::vector<long long>{1, 64, 1, 64});  // one capture apart: one allocation
  auto head = run_command("curl -s -D - -o /dev/null '" + service->url() + "/debug/pprof/goroutine?seconds=1'");
  CHECK(head.output.find("filename=\"goroutine-delta\"") != std::string::npos);
}

TEST_CASE("delta profiles beyond the concurrency bound get 503, and stop() ends a waiting one") {
  std::mutex mu;
  std::condition_variable cv;
  int waiting = 0;
  bool release = false;
  lw::server::RouterOptions o;
  o.source = growing_source(std::make_shared<std::atomic<int>>(0));
  o.max_concurrent_deltas = 2;
  o.wait = [&](std::int64_t) {
    std::unique_lock<std::mutex> lock(mu);
    ++waiting;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return true;
  };
  lw::server::Router router(o);
  lw::server::Request req;
  req.method = "GET";
  req.path = "/debug/pprof/heap";
  req.params = {{"seconds", "30"}};
  std::vector<int> statuses(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([&, i] { statuses[i] = router.handle(req).status; });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return waiting == 2; });
  }
  lw::server::Response third = router.handle(req);
  CHECK(third.status == 503);
  CHECK(third.header("Retry-After") == "30");
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  CHECK(statuses == std::vector<int>{200, 200});
  CHECK(router.handle(req).status == 200);  // the slots are free again

  // On a real service, stop() interrupts the wait instead of holding shutdown for 300 s.
  auto service = start_synthetic();
  std::thread client([&] {
    run_command("curl -s -m 20 '" + service->url() + "/debug/pprof/heap?seconds=300' -o /dev/null");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the request reach the wait
  auto t0 = std::chrono::steady_clock::now();
  service->stop();
  auto took = std::chrono::steady_clock::now() - t0;
  client.join();
  CHECK(took < std::chrono::seconds(60));  // liveness, not speed: without the interrupt it is 300 s
}
