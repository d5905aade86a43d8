// The differ's verdicts on synthetic snapshot series: each finding kind, and the healthy shapes
// (caches that plateau, churn, restarts, slowly moving tasks) that must not be findings.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "src/diff/detect.hpp"
#include "tests/diff/synthetic_snapshot.hpp"

using lw::diff::detect;
using lw::diff::DetectOptions;
using lw::diff::Finding;
using lw::diff::FindingKind;
using lw::diff::Series;
using lw::diff::StackNames;
using lw::test::SnapshotBuilder;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000LL;
constexpr std::int64_t kMinute = SnapshotBuilder::kMinute;

const std::vector<std::string> kLeakSite = {"std::vector<char>::_M_realloc_insert", "Handler::remember",
                                            "Handler::serve"};
const std::vector<std::string> kCacheSite = {"operator new", "Cache::put", "Handler::serve"};
const std::vector<std::string> kChurnSite = {"operator new", "Request::parse", "Handler::serve"};

struct Harness {
  StackNames names;
  std::vector<Series> series;
  std::int64_t next_id = 1;
  void add(const SnapshotBuilder& b) {
    const auto& s = b.get();
    lw::diff::add_point(series, "http://svc:6060", s.process.instance_id,
                        lw::diff::point_from_snapshot(s, next_id++, names));
  }
  std::vector<Finding> run(DetectOptions o = {}) { return detect(series, names, o); }
};

std::vector<Finding> of_kind(const std::vector<Finding>& all, FindingKind k) {
  std::vector<Finding> out;
  for (const Finding& f : all)
    if (f.kind == k) out.push_back(f);
  return out;
}

// sampled() is what a heap sampler at `rate` reports for `bytes` live: a Poisson number of samples
// each standing for `rate` bytes.
std::int64_t sampled(std::mt19937_64& rng, double bytes, double rate) {
  std::poisson_distribution<std::int64_t> samples(bytes / rate);
  return samples(rng) * static_cast<std::int64_t>(rate);
}

}  // namespace

TEST_CASE("heap_growth names a steadily growing site with its rate, innermost frame first") {
  Harness h;
  for (int i = 0; i < 8; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    b.site(kLeakSite, 100'000 + i * 50'000).site(kChurnSite, 40'000);
    h.add(b);
  }
  auto found = of_kind(h.run(), FindingKind::kHeapGrowth);
  REQUIRE(found.size() == 1);
  CHECK(found[0].frames == kLeakSite);
  CHECK(found[0].bytes_per_minute == doctest::Approx(50'000));
  CHECK(found[0].first_value == 100'000);
  CHECK(found[0].last_value == 450'000);
  CHECK(found[0].points == 8);
  CHECK(found[0].confidence > 0.9);
}

TEST_CASE("growth needs enough snapshots") {
  Harness h;
  for (int i = 0; i < 4; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    b.site(kLeakSite, 100'000 + i * 50'000);
    h.add(b);
  }
  CHECK(of_kind(h.run(), FindingKind::kHeapGrowth).empty());
  DetectOptions o;
  o.min_points = 4;
  CHECK(of_kind(h.run(o), FindingKind::kHeapGrowth).size() == 1);
}

TEST_CASE("a noisy sampled leak is found and equally noisy flat sites are not") {
  std::mt19937_64 rng(12345);
  const double rate = 512 * 1024;  // Go's default sampling rate
  Harness h;
  for (int i = 0; i < 12; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    b.sample_rate(static_cast<std::int64_t>(rate));
    b.site(kLeakSite, sampled(rng, 4e6 + i * 1.5e6, rate));
    for (int k = 0; k < 200; ++k)
      b.site({"operator new", "Steady::site" + std::to_string(k)}, sampled(rng, 8e6, rate));
    h.add(b);
  }
  auto found = of_kind(h.run(), FindingKind::kHeapGrowth);
  REQUIRE(found.size() == 1);
  CHECK(found[0].frames == kLeakSite);
  CHECK(found[0].bytes_per_minute > 1.0e6);
  CHECK(found[0].bytes_per_minute < 2.0e6);
}

TEST_CASE("a cache that fills then plateaus is not a finding") {
  Harness h;
  for (int i = 0; i < 10; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    b.site(kCacheSite, std::min(i, 4) * 250'000 + 10'000);  // full after 4 minutes
    b.site(kLeakSite, 10'000 + i * 30'000);
    h.add(b);
  }
  auto found = of_kind(h.run(), FindingKind::kHeapGrowth);
  REQUIRE(found.size() == 1);
  CHECK(found[0].frames == kLeakSite);
}

TEST_CASE("a noisy plateau (sampled) is not a finding") {
  std::mt19937_64 rng(777);
  const double rate = 512 * 1024;
  Harness h;
  for (int i = 0; i < 12; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    b.sample_rate(static_cast<std::int64_t>(rate));
    b.site(kCacheSite, sampled(rng, std::min(i, 5) * 4e6 + 1e6, rate));
    h.add(b);
  }
  CHECK(of_kind(h.run(), FindingKind::kHeapGrowth).empty());
}

TEST_CASE("churn up and down is not a finding") {
  Harness h;
  const std::int64_t values[] = {300'000, 90'000, 500'000, 120'000, 480'000, 60'000, 700'000, 200'000, 650'000};
  for (int i = 0; i < 9; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    b.site(kChurnSite, values[i]);
    h.add(b);
  }
  CHECK(h.run().empty());
}

TEST_CASE("a restart starts a new series: growth across two runs is not joined") {
  Harness joined, restarted;
  for (int i = 0; i < 8; ++i) {
    SnapshotBuilder one(kT0 + i * kMinute, "run-1");
    one.site(kLeakSite, 100'000 + i * 50'000);
    joined.add(one);
    // The same figures, but the process restarted after the 4th snapshot.
    SnapshotBuilder two(kT0 + i * kMinute, i < 4 ? "run-1" : "run-2", i < 4 ? 100 : 200);
    two.site(kLeakSite, 100'000 + i * 50'000);
    restarted.add(two);
  }
  CHECK(of_kind(joined.run(), FindingKind::kHeapGrowth).size() == 1);
  REQUIRE(restarted.series.size() == 2);
  CHECK(restarted.series[1].points.size() == 4);
  CHECK(restarted.run().empty());
}

TEST_CASE("a restart mid-series: each run is judged alone and findings name their run") {
  Harness h;
  for (int i = 0; i < 12; ++i) {
    std::string run = i < 6 ? "run-1" : "run-2";
    SnapshotBuilder b(kT0 + i * kMinute, run);
    int k = i < 6 ? i : i - 6;
    b.site(kLeakSite, 100'000 + k * 80'000);  // grows in each run, falls back at the restart
    h.add(b);
  }
  auto found = of_kind(h.run(), FindingKind::kHeapGrowth);
  REQUIRE(found.size() == 2);
  std::vector<std::string> runs = {found[0].instance_id, found[1].instance_id};
  std::sort(runs.begin(), runs.end());
  CHECK(runs == std::vector<std::string>{"run-1", "run-2"});
  for (const Finding& f : found) CHECK(f.bytes_per_minute == doctest::Approx(80'000));
}

TEST_CASE("stuck_tasks: unchanged for stuck_after, grouped by reason, site and creator") {
  const std::vector<std::string> send_at = {"lw::Chan<int>::send", "Handler::reply"};
  const std::vector<std::string> created = {"lw::go", "Handler::serve"};
  const std::vector<std::string> ticker_at = {"lw::sleep_for", "Ticker::loop"};
  Harness h;
  for (int i = 0; i < 7; ++i) {  // one snapshot per minute: 6 minutes span
    SnapshotBuilder b(kT0 + i * kMinute);
    b.task(10, "chan send", 3, send_at, created)
        .task(11, "chan send", 5, send_at, created)
        .task(12, "chan send", 1, send_at, created)
        // A task that moves slowly: switched in every two minutes.
        .task(20, "sleep", 100 + i / 2, ticker_at, {"lw::go", "main"})
        // A task stuck for a shorter time than stuck_after.
        .task(30, "chan receive", i < 3 ? i : 3, {"lw::Chan<int>::recv", "Worker::loop"}, created);
    h.add(b);
  }
  auto found = of_kind(h.run(), FindingKind::kStuckTasks);
  REQUIRE(found.size() == 1);
  CHECK(found[0].wait_reason == "chan send");
  CHECK(found[0].count == 3);
  CHECK(found[0].frames == send_at);
  CHECK(found[0].create_frames == created);
  CHECK(found[0].span_ns == 6 * kMinute);
  CHECK(found[0].points == 7);
  CHECK(found[0].from_snapshot == 1);
  CHECK(found[0].ids == std::vector<std::uint64_t>{10, 11, 12});

  DetectOptions o;
  o.stuck_after_ns = 3 * kMinute;  // task 30 has sat still for exactly 3 minutes
  auto both = of_kind(h.run(o), FindingKind::kStuckTasks);
  REQUIRE(both.size() == 2);
  const Finding& recv = both[0].wait_reason == "chan receive" ? both[0] : both[1];
  CHECK(recv.span_ns == 3 * kMinute);  // its own figures, not the window's
  CHECK(recv.from_snapshot == 4);
  CHECK(recv.points == 4);
  o.stuck_after_ns = 7 * kMinute;
  CHECK(of_kind(h.run(o), FindingKind::kStuckTasks).empty());
}

TEST_CASE("stuck_tasks: a task that never comes back from a blocking call; one that returns is not") {
  const std::vector<std::string> read_at = {"read", "Client::fetch"};
  Harness h;
  for (int i = 0; i < 7; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    b.syscall_task(40, kT0 - kMinute, 9, read_at, {"lw::go", "main"});
    // Another task blocks in the same call over and over, returning in between: new stamps.
    b.syscall_task(41, kT0 + i * kMinute - 1000, 20 + i, read_at, {"lw::go", "main"});
    h.add(b);
  }
  auto found = of_kind(h.run(), FindingKind::kStuckTasks);
  REQUIRE(found.size() == 1);
  CHECK(found[0].wait_reason == "syscall");
  CHECK(found[0].frames == read_at);
  CHECK(found[0].ids == std::vector<std::uint64_t>{40});
}

TEST_CASE("task ids reused after a restart are not one stuck task") {
  Harness h;
  for (int i = 0; i < 8; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute, i < 4 ? "run-1" : "run-2");
    b.task(7, "chan receive", 2, {"lw::Chan<int>::recv", "Worker::loop"}, {"lw::go", "main"});
    h.add(b);
  }
  CHECK(of_kind(h.run(), FindingKind::kStuckTasks).empty());
}

TEST_CASE("leaked_tasks: the runtime's proof, grouped, with counts") {
  Harness h;
  for (int i = 0; i < 2; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    for (std::uint64_t id = 40; id < 45; ++id)
      b.task(id, "chan send", 1, {"lw::Chan<int>::send", "Handler::timeout_reply"}, {"lw::go", "Handler::serve"},
             /*leaked=*/true);
    b.task(50, "chan receive", 9, {"lw::Chan<int>::recv", "Worker::loop"}, {"lw::go", "main"});
    h.add(b);
  }
  auto all = h.run();
  auto found = of_kind(all, FindingKind::kLeakedTasks);
  REQUIRE(found.size() == 1);
  CHECK(found[0].count == 5);
  CHECK(found[0].wait_reason == "chan send");
  CHECK(found[0].frames[1] == "Handler::timeout_reply");
  CHECK(found[0].detail.find("leaked") != std::string::npos);
  CHECK(found[0].confidence == 1.0);
  CHECK(of_kind(all, FindingKind::kStuckTasks).empty());
}

TEST_CASE("task_growth: tasks created at one site keep rising; a steady pool does not") {
  Harness h;
  for (int i = 0; i < 8; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    std::uint64_t id = 100;
    for (int k = 0; k < 4; ++k)  // a fixed pool whose members keep running
      b.task(id++, "", 1000 + i * 10, {"Pool::work"}, {"lw::go", "Pool::start"});
    for (int k = 0; k < 3 * i; ++k)  // workers started and never stopped: they spin, never block
      b.task(id++, "", 50 + i, {"Poller::spin"}, {"lw::go", "Poller::start"});
    h.add(b);
  }
  auto all = h.run();
  auto found = of_kind(all, FindingKind::kTaskGrowth);
  REQUIRE(found.size() == 1);
  CHECK(found[0].frames == std::vector<std::string>{"lw::go", "Poller::start"});
  CHECK(found[0].count == 21);
  CHECK(found[0].tasks_per_minute == doctest::Approx(3));
  // The process's task count rises too, but the site explains it: one fault, one finding.
  CHECK(of_kind(all, FindingKind::kTaskCountGrowth).empty());
}

TEST_CASE("task_count_growth stays when no single site explains it") {
  Harness h;
  for (int i = 0; i < 8; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    std::uint64_t id = 100;
    // Ten sites each gain a task every other minute: each adds fewer than min_task_growth (5),
    // together they add 30.
    for (int site = 0; site < 10; ++site)
      for (int k = 0; k < (i + site % 2) / 2; ++k)
        b.task(id++, "", 50 + i, {"Spinner::spin"}, {"lw::go", "Site" + std::to_string(site) + "::start"});
    h.add(b);
  }
  auto all = h.run();
  CHECK(of_kind(all, FindingKind::kTaskGrowth).empty());
  auto total = of_kind(all, FindingKind::kTaskCountGrowth);
  REQUIRE(total.size() == 1);
  CHECK(total[0].tasks_per_minute == doctest::Approx(5).epsilon(0.2));
}

TEST_CASE("leaked tasks that pile up at one creation site are one finding, with their rate") {
  Harness h;
  for (int i = 0; i < 8; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    for (std::uint64_t id = 1000; id < 1000 + 4 * static_cast<std::uint64_t>(i); ++id)
      b.task(id, "chan send", 1, {"lw::Chan<int>::send", "Backend::query"}, {"lw::go", "Handler::fetch"},
             /*leaked=*/true);
    h.add(b);
  }
  auto all = h.run();
  auto leaked = of_kind(all, FindingKind::kLeakedTasks);
  REQUIRE(leaked.size() == 1);
  CHECK(leaked[0].count == 28);
  CHECK(leaked[0].tasks_per_minute == doctest::Approx(4));
  CHECK(of_kind(all, FindingKind::kTaskGrowth).empty());
  CHECK(of_kind(all, FindingKind::kTaskCountGrowth).empty());
}

TEST_CASE("heap_alloc_growth follows the process's HeapAlloc; a flat one is quiet") {
  Harness grows, flat;
  for (int i = 0; i < 6; ++i) {
    SnapshotBuilder g(kT0 + i * kMinute), f(kT0 + i * kMinute);
    g.heap_alloc(50'000'000 + i * 2'000'000 + (i % 2) * 100'000);
    f.heap_alloc(50'000'000 + (i % 2) * 3'000'000);
    grows.add(g);
    flat.add(f);
  }
  auto found = of_kind(grows.run(), FindingKind::kHeapAllocGrowth);
  REQUIRE(found.size() == 1);  // no heap site explains it, so the process-level trend stays
  CHECK(found[0].bytes_per_minute == doctest::Approx(2'000'000).epsilon(0.05));
  CHECK(flat.run().empty());
}

// ---- OS threads -------------------------------------------------------------------------------

namespace {

using lw::snapshot::JoinState;
using lw::snapshot::ThreadState;

const std::vector<std::string> kPoolWait = {"pthread_cond_wait", "std::condition_variable::wait", "Pool::take",
                                            "Pool::worker"};
const std::vector<std::string> kPoolCreate = {"pthread_create", "std::thread::_M_start_thread", "Pool::Pool"};
const std::vector<std::string> kLoopWait = {"epoll_wait", "EventLoop::run"};
const std::vector<std::string> kLoopCreate = {"pthread_create", "Server::start"};

// healthy_threads() adds the healthy thread shapes of a service at minute i: a pool of four
// workers on a condition variable, each woken every other minute (new wait start, a little CPU);
// a long-lived event loop in epoll_wait whose CPU time grows; per-request threads that come and
// go (created, run, exit and are joined by the next snapshot); a detached thread that exits; a
// timed poll in a syscall that uses no measurable CPU; main() joining the server thread; and
// leakwatch's own threads, which sit still forever.
void healthy_threads(SnapshotBuilder& b, int i) {
  for (int w = 0; w < 4; ++w) {
    int woken = (i + w) / 2;  // worker w wakes every two minutes, staggered
    b.waiting_thread(200 + w, "condition wait", kT0 + woken * 2 * kMinute - w, 0x5000,
                     static_cast<std::uint64_t>(woken) * 3'000'000, kPoolWait, kPoolCreate);
  }
  b.syscall_thread(210, "epoll_wait", 40'000'000 + static_cast<std::uint64_t>(i) * 20'000'000, kLoopWait,
                   kLoopCreate)
      .wait_object = 6;
  // Per-request threads: 0..2 alive; the one that exited at this snapshot is joined by the next.
  for (int r = 0; r < i % 3; ++r)
    b.thread(1000 + i * 10 + r, {"Handler::process"}, {"pthread_create", "Handler::spawn"}).cpu_ns = 1'000'000;
  auto& done = b.thread(1000 + i * 10 + 9, {}, {"pthread_create", "Handler::spawn"});
  done.state = ThreadState::kExited;
  done.exit_time_unix_ns = kT0 + i * kMinute - 1000;
  // A detached thread that exits (listed as it goes).
  auto& detached = b.thread(300, {}, {"pthread_create", "Logger::flush_async"});
  detached.state = ThreadState::kExited;
  detached.join = JoinState::kDetached;
  detached.exit_time_unix_ns = kT0 - kMinute;
  // A timed poll in a syscall: no exact start, no CPU tick gained between snapshots.
  auto& poll = b.syscall_thread(310, "nanosleep", 5'000'000, {"clock_nanosleep", "Watchdog::tick"},
                                {"pthread_create", "Watchdog::start"});
  poll.timed_wait = true;
  // main() joining the server thread for the life of the process.
  auto& main_thread = b.waiting_thread(100, "thread join", kT0 - 60 * kMinute, 0x210, 3'000'000,
                                       {"__futex_abstimed_wait_common", "pthread_join", "std::thread::join", "main"},
                                       {});
  main_thread.join = JoinState::kUnknown;
  main_thread.creator_tid = 0;
  // leakwatch's own threads: the debug server's accept loop and a runtime worker, never moving.
  b.syscall_thread(400, "accept", 1'000'000, {"accept", "lw::server::DebugServer::serve"},
                   {"pthread_create", "lw::server::DebugServer::start"})
      .internal = true;
  b.waiting_thread(401, "condition wait", kT0 - kMinute, 0x9000, 2'000'000, {"lw::rt::Worker::idle"},
                   {"pthread_create", "lw::rt::Runtime::start"})
      .runtime_worker = true;
}

std::vector<Finding> thread_findings(const std::vector<Finding>& all) {
  std::vector<Finding> out;
  for (const Finding& f : all)
    if (f.kind == FindingKind::kLeakedThreads || f.kind == FindingKind::kStuckThreads ||
        f.kind == FindingKind::kThreadGrowth || f.kind == FindingKind::kUnjoinedThreads)
      out.push_back(f);
  return out;
}

}  // namespace

TEST_CASE("healthy threads give no finding: pool, event loop, per-request, detached, timed, join, own") {
  Harness h;
  for (int i = 0; i < 10; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    healthy_threads(b, i);
    h.add(b);
  }
  auto all = h.run();
  for (const Finding& f : all) MESSAGE(to_string(f.kind) << " " << f.wait_reason << " " << f.count);
  CHECK(all.empty());
  // Even with a threshold below every healthy interval but the pool's two minutes.
  DetectOptions o;
  o.stuck_after_ns = 90 * 1'000'000'000LL;
  CHECK(thread_findings(h.run(o)).empty());
}

TEST_CASE("stuck_threads: a detached thread on a condition nobody signals, a read that never returns") {
  const std::vector<std::string> wait_at = {"pthread_cond_wait", "std::condition_variable::wait",
                                            "Notifier::wait_for_shutdown"};
  const std::vector<std::string> created = {"pthread_create", "std::thread::_M_start_thread", "Notifier::start"};
  const std::vector<std::string> read_at = {"read", "Client::read_reply"};
  Harness h;
  for (int i = 0; i < 7; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    healthy_threads(b, i);
    b.waiting_thread(500, "condition wait", kT0 - 30'000'000'000LL, 0x6000, 2'000'000, wait_at, created).join =
        JoinState::kDetached;
    auto& reader = b.syscall_thread(510, "read", 7'000'000, read_at, {"pthread_create", "Client::start"});
    reader.wait_object = 9 + 1;
    reader.wait_detail = "socket:[1234] 127.0.0.1:40000->127.0.0.1:80";
    // Same wait, same stack, but woken with CPU gained at minute 4: unmoved for 2 minutes only.
    b.waiting_thread(520, "condition wait", kT0, 0x6100, i < 4 ? 1'000'000 : 9'000'000, wait_at, created);
    h.add(b);
  }
  auto found = of_kind(h.run(), FindingKind::kStuckThreads);
  REQUIRE(found.size() == 2);
  const Finding& cond = found[0].wait_reason == "condition wait" ? found[0] : found[1];
  const Finding& read = found[0].wait_reason == "read" ? found[0] : found[1];
  CHECK(cond.wait_reason == "condition wait");
  CHECK(cond.frames == wait_at);
  CHECK(cond.create_frames == created);
  CHECK(cond.count == 1);
  CHECK(cond.ids == std::vector<std::uint64_t>{500});
  CHECK(cond.span_ns == 6 * kMinute);
  CHECK(cond.points == 7);
  CHECK(cond.confidence == doctest::Approx(0.6));
  CHECK(read.wait_reason == "read");
  CHECK(read.frames == read_at);
  CHECK(read.ids == std::vector<std::uint64_t>{510});
  CHECK(of_kind(h.run(), FindingKind::kLeakedThreads).empty());

  DetectOptions o;
  o.stuck_after_ns = 2 * kMinute;  // thread 520 has sat still for exactly 2 minutes since it ran
  auto shorter = of_kind(h.run(o), FindingKind::kStuckThreads);
  std::size_t with_520 = 0;
  for (const Finding& f : shorter)
    for (std::uint64_t id : f.ids) with_520 += id == 520;
  CHECK(with_520 == 1);
  // 520 shares 500's group; alone, a group's figures are its own member's.
  o.stuck_after_ns = 2 * kMinute;
  Harness alone;
  for (int i = 0; i < 7; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    b.waiting_thread(520, "condition wait", kT0, 0x6100, i < 4 ? 1'000'000 : 9'000'000, wait_at, created);
    alone.add(b);
  }
  auto late = of_kind(alone.run(o), FindingKind::kStuckThreads);
  REQUIRE(late.size() == 1);
  CHECK(late[0].span_ns == 2 * kMinute);
  CHECK(late[0].from_snapshot == 5);
  CHECK(late[0].points == 3);
  o.stuck_after_ns = 7 * kMinute;
  CHECK(of_kind(h.run(o), FindingKind::kStuckThreads).empty());
}

TEST_CASE("stuck_threads: a new wait start, more CPU time or another object restarts the clock") {
  Harness h;
  for (int i = 0; i < 8; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    // A timed condition wait re-entered every minute (new exact start, no measurable CPU).
    b.waiting_thread(600, "condition wait", kT0 + i * kMinute - 500, 0x7000, 1'000'000,
                     {"pthread_cond_timedwait", "Flusher::loop"}, {"pthread_create", "Flusher::start"})
        .timed_wait = true;
    // A syscall whose descriptor changes: another read each time.
    b.syscall_thread(610, "read", 1'000'000, {"read", "Tailer::next"}, {"pthread_create", "Tailer::start"})
        .wait_object = 3 + static_cast<std::uint64_t>(i % 2);
    // A spinning thread: running, never waiting.
    b.thread(620, {"Spinner::spin"}, {"pthread_create", "Spinner::start"}).cpu_ns =
        static_cast<std::uint64_t>(i) * 60'000'000'000ULL;
    h.add(b);
  }
  CHECK(thread_findings(h.run()).empty());
}

TEST_CASE("leaked_threads: two deadlocked threads, the target's proof as detail, not also stuck") {
  const std::string proof =
      "deadlock: thread 700 holds mutex 0x7100 and waits for 0x7200 held by thread 701, which waits for 0x7100";
  Harness h;
  for (int i = 0; i < 7; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    healthy_threads(b, i);
    for (std::int64_t tid : {700, 701}) {
      auto& t = b.waiting_thread(tid, "mutex lock", kT0 - kMinute, tid == 700 ? 0x7200 : 0x7100, 4'000'000,
                                 {"__lll_lock_wait", "pthread_mutex_lock", "Account::transfer"},
                                 {"pthread_create", "Bank::start_tellers"});
      t.leaked = true;
      t.leak_reason = proof;
      t.wait_detail = "held by thread " + std::to_string(tid == 700 ? 701 : 700);
    }
    h.add(b);
  }
  auto all = h.run();
  auto found = of_kind(all, FindingKind::kLeakedThreads);
  REQUIRE(found.size() == 1);
  CHECK(found[0].count == 2);
  CHECK(found[0].wait_reason == "mutex lock");
  CHECK(found[0].detail == proof);
  CHECK(found[0].frames.back() == "Account::transfer");
  CHECK(found[0].create_frames == std::vector<std::string>{"pthread_create", "Bank::start_tellers"});
  CHECK(found[0].ids == std::vector<std::uint64_t>{700, 701});
  CHECK(found[0].span_ns == 7 * kMinute);
  CHECK(found[0].confidence == 1.0);
  CHECK(of_kind(all, FindingKind::kStuckThreads).empty());
  // leakwatch's own threads are never findings, proven or not.
  Harness own;
  SnapshotBuilder b(kT0);
  auto& t = b.waiting_thread(800, "mutex lock", kT0 - kMinute, 0x8000, 0, {"lw::server::lock"}, {});
  t.internal = true;
  t.leaked = true;
  own.add(b);
  CHECK(own.run().empty());
}

TEST_CASE("unjoined_threads: joinable threads that exited and stay unjoined, per creation site") {
  const std::vector<std::string> created = {"pthread_create", "std::thread::_M_start_thread", "Batch::run_parallel"};
  Harness h;
  for (int i = 0; i < 6; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    healthy_threads(b, i);
    for (std::int64_t tid = 900; tid < 903; ++tid) {
      auto& t = b.thread(tid, i < 2 ? std::vector<std::string>{"Batch::work"} : std::vector<std::string>{}, created);
      if (i >= 2) {  // they finished at minute 2 and nobody joined them
        t.state = ThreadState::kExited;
        t.exit_time_unix_ns = kT0 + 2 * kMinute - 1000;
      }
    }
    if (i == 5) {  // one exited moments ago: not yet a finding
      auto& late = b.thread(910, {}, created);
      late.state = ThreadState::kExited;
      late.exit_time_unix_ns = kT0 + 5 * kMinute - 1000;
    }
    h.add(b);
  }
  auto found = of_kind(h.run(), FindingKind::kUnjoinedThreads);
  REQUIRE(found.size() == 1);
  CHECK(found[0].count == 3);
  CHECK(found[0].ids == std::vector<std::uint64_t>{900, 901, 902});
  CHECK(found[0].frames == created);
  CHECK(found[0].create_frames == created);
  CHECK(found[0].span_ns == 3 * kMinute + 1000);
  CHECK(found[0].from_snapshot == 3);
  CHECK(found[0].points == 4);
  CHECK(found[0].confidence == doctest::Approx(0.5));
  CHECK(thread_findings(h.run()).size() == 1);

  // Seen exited in the newest snapshot only: not a finding, however long ago it says it exited.
  Harness once;
  for (int i = 0; i < 2; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    auto& t = b.thread(920, i == 0 ? std::vector<std::string>{"Batch::work"} : std::vector<std::string>{}, created);
    if (i == 1) {
      t.state = ThreadState::kExited;
      t.exit_time_unix_ns = kT0 - 10 * kMinute;
    }
    once.add(b);
  }
  CHECK(once.run().empty());

  // A reused tid that exited again is a new thread: its clock starts afresh.
  Harness reused;
  for (int i = 0; i < 3; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    auto& t = b.thread(930, {}, created);
    t.state = ThreadState::kExited;
    t.exit_time_unix_ns = kT0 + i * kMinute - 1000;
    reused.add(b);
  }
  CHECK(reused.run().empty());
}

TEST_CASE("thread_growth: a site that keeps creating threads that never exit; a steady pool does not") {
  const std::vector<std::string> created = {"pthread_create", "std::thread::_M_start_thread", "Session::open"};
  Harness h;
  for (int i = 0; i < 8; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    healthy_threads(b, i);
    for (int k = 0; k < 2 * i; ++k)  // two more each minute, each busy (CPU grows): never stuck
      b.thread(2000 + k, {"Session::pump"}, created).cpu_ns = static_cast<std::uint64_t>(i - k / 2) * 50'000'000;
    h.add(b);
  }
  auto all = h.run();
  auto found = of_kind(all, FindingKind::kThreadGrowth);
  REQUIRE(found.size() == 1);
  CHECK(found[0].frames == created);
  CHECK(found[0].create_frames == created);
  CHECK(found[0].count == 14);
  CHECK(found[0].first_value == 0);
  CHECK(found[0].last_value == 14);
  CHECK(found[0].threads_per_minute == doctest::Approx(2));
  CHECK(found[0].tasks_per_minute == 0);
  CHECK(thread_findings(all).size() == 1);
}

TEST_CASE("stuck threads that pile up at one creation site are one finding, with their rate") {
  const std::vector<std::string> created = {"pthread_create", "Handler::spawn_waiter"};
  Harness h;
  for (int i = 0; i < 12; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    for (int k = 0; k < 3 * i; ++k)  // three a minute, each waiting forever from its first minute
      b.waiting_thread(3000 + k, "condition wait", kT0 + (k / 3 + 1) * kMinute - 1000,
                       0x4000 + static_cast<std::uint64_t>(k), 1'000'000,
                       {"pthread_cond_wait", "Handler::await_reply"}, created);
    h.add(b);
  }
  auto all = h.run();
  auto stuck = of_kind(all, FindingKind::kStuckThreads);
  REQUIRE(stuck.size() == 1);
  CHECK(stuck[0].count == 3 * 6);  // those waiting for 5 minutes or more: started at minutes 1..6
  CHECK(stuck[0].threads_per_minute == doctest::Approx(3));
  CHECK(stuck[0].ids.size() == 10);
  CHECK(of_kind(all, FindingKind::kThreadGrowth).empty());
}

TEST_CASE("profile_growth: a custom profile's keys rising at one stack; flat and plateaued ones are not") {
  const std::vector<std::string> leak = {"Pool::open", "Handler::serve"};
  const std::vector<std::string> steady = {"Pool::open_pooled", "Handler::serve"};
  const std::vector<std::string> filled = {"Cache::open", "Handler::serve"};
  Harness h;
  for (int i = 0; i < 10; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    b.custom("open_connections", leak, 3 + 4 * i)
        .custom("open_connections", steady, 8 + (i % 2))  // churn around a steady pool
        .custom("open_files", filled, std::min(i, 3) * 10);  // fills, then stays
    h.add(b);
  }
  auto found = h.run();
  REQUIRE(found.size() == 1);
  const Finding& f = found[0];
  CHECK(f.kind == FindingKind::kProfileGrowth);
  CHECK(lw::diff::to_string(f.kind) == "profile_growth");
  CHECK(f.profile == "open_connections");
  CHECK(f.frames == leak);
  CHECK(f.first_value == 3);
  CHECK(f.last_value == 39);
  CHECK(f.count == 39);
  CHECK(f.keys_per_minute == doctest::Approx(4.0));
  CHECK(f.points == 10);
  CHECK(f.confidence > 0.9);
}

TEST_CASE("profile_growth: the same stack in two profiles is judged per profile; small growth is ignored") {
  const std::vector<std::string> at = {"Store::open", "main"};
  Harness h;
  for (int i = 0; i < 8; ++i) {
    SnapshotBuilder b(kT0 + i * kMinute);
    b.custom("open_files", at, 10 + 5 * i).custom("open_sockets", at, 10 + (i > 4 ? 1 : 0));
    h.add(b);
  }
  auto found = h.run();
  REQUIRE(found.size() == 1);
  CHECK(found[0].profile == "open_files");
  DetectOptions strict;
  strict.min_profile_growth = 100;  // 35 keys added is below this floor
  CHECK(h.run(strict).empty());
}
