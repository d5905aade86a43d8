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
  CHECK(found[0].task_ids == std::vector<std::uint64_t>{10, 11, 12});

  DetectOptions o;
  o.stuck_after_ns = 3 * kMinute;  // task 30 has sat still for exactly 3 minutes
  CHECK(of_kind(h.run(o), FindingKind::kStuckTasks).size() == 2);
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
  CHECK(found[0].task_ids == std::vector<std::uint64_t>{40});
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
