// capture_bench: what taking a snapshot costs the watched process and the watcher, measured on a
// process shaped like a big service: N parked tasks (default 100k, 512 distinct stacks 16 frames
// deep) and M heap sites (default 10k, each its own stack, recorded at rate 1).
//
//   capture_bench [--tasks N] [--sites M] [--reps R]
//
// Each result is one JSON line:
// - tasks_read: lw::tasks(), every task's record and stack (the registry is held in batches of
//   256 tasks: spawns and exits wait for one batch at most; running tasks never wait);
// - registry_longest_hold: the snapshot's capture_pause_ns, the longest single hold;
// - spawn_stall_during_capture: the longest lw::go round trip seen by a probe task spawning in a
//   loop while a capture runs on a plain thread (as the debug server's are): the pause as the
//   program feels it; and the same probe beside a thread that only spins for as long
//   (spawn_stall_busy_thread): what sharing the cores costs without any capture;
// - capture: the whole in-process capture (tasks, heap sites, symbolization, /proc);
// - transfer: GET /debug/leakwatch/snapshot from the debug server on loopback, decoded, as the
//   watcher does (capture + encode + HTTP + decode), with the body's size.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "leakwatch/leakwatch.hpp"
#include "src/snapshot/capture.hpp"
#include "src/snapshot/codec.hpp"
#include "tools/leakwatch/target.hpp"

using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Stats {
  double min = 0, median = 0, max = 0;
};

Stats stats_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2], v.back()};
}

void print(const char* name, const Stats& s, const std::string& extra = "") {
  std::printf("{\"bench\":\"%s\",\"min_ms\":%.2f,\"median_ms\":%.2f,\"max_ms\":%.2f%s}\n", name, s.min,
              s.median, s.max, extra.c_str());
  std::fflush(stdout);
}

// Two frame shapes per level: bit k of `shape` picks which one a task passes through at level k,
// so 9 levels give 512 distinct stacks.
using Gate = lw::Chan<int>;
[[gnu::noinline]] void park_a(int level, unsigned shape, const Gate& gate);
[[gnu::noinline]] void park_b(int level, unsigned shape, const Gate& gate);

void park_next(int level, unsigned shape, const Gate& gate) {
  if (level == 0) {
    gate.recv();
    return;
  }
  if ((shape >> (level % 9)) & 1u) park_a(level - 1, shape, gate);
  else park_b(level - 1, shape, gate);
}
void park_a(int level, unsigned shape, const Gate& gate) {
  park_next(level, shape, gate);
  asm volatile("" ::: "memory");  // keeps the frame (no tail call)
}
void park_b(int level, unsigned shape, const Gate& gate) {
  park_next(level, shape, gate);
  asm volatile("" ::: "memory");
}

// Heap sites: 14 levels of two shapes each, one retained block at the bottom of each path.
[[gnu::noinline]] void* site_a(int level, unsigned shape);
[[gnu::noinline]] void* site_b(int level, unsigned shape);
void* site_next(int level, unsigned shape) {
  if (level == 0) return std::malloc(64);
  return ((shape >> (level - 1)) & 1u) ? site_a(level - 1, shape) : site_b(level - 1, shape);
}
void* site_a(int level, unsigned shape) {
  void* p = site_next(level, shape);
  asm volatile("" ::: "memory");
  return p;
}
void* site_b(int level, unsigned shape) {
  void* p = site_next(level, shape);
  asm volatile("" ::: "memory");
  return p;
}

long arg(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atol(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const long tasks = arg(argc, argv, "--tasks", 100000);
  const long sites = arg(argc, argv, "--sites", 10000);
  const int reps = static_cast<int>(arg(argc, argv, "--reps", 5));

  lw::set_heap_sample_rate(1);
  std::vector<void*> retained;
  retained.reserve(static_cast<std::size_t>(sites));
  for (long k = 0; k < sites; ++k) retained.push_back(site_next(14, static_cast<unsigned>(k)));
  lw::set_heap_sample_rate(524288);

  auto server = lw::DebugServer::start();
  if (!server) {
    std::fprintf(stderr, "capture_bench: %s\n", server.error().message.c_str());
    return 2;
  }
  const std::string url = (*server)->url();

  lw::run([&] {
    Gate gate(0);
    lw::WaitGroup parked;
    parked.add(static_cast<int>(tasks));
    for (long i = 0; i < tasks; ++i)
      lw::go([gate, &parked, i] {
        parked.done();
        park_next(15, static_cast<unsigned>(i), gate);
      });
    parked.wait();
    while (lw::tasks().size() < static_cast<std::size_t>(tasks)) lw::sleep_for(std::chrono::milliseconds(1));

    std::vector<double> hold, pause, stall, idle_stall, capture, transfer;
    std::size_t live = 0, body_bytes = 0, snapshot_sites = 0;
    for (int r = 0; r < reps; ++r) {
      auto t0 = Clock::now();
      live = lw::tasks().size();
      hold.push_back(ms_since(t0));

      // The probe spawns tasks back to back and keeps the longest round trip: once alone for as
      // long as a capture takes (the machine's own jitter), once while a capture runs.
      auto probe_while = [&](auto&& work) {
        std::atomic<bool> done{false};
        double longest = 0;
        lw::WaitGroup probe;
        probe.add(1);
        lw::go([&] {
          while (!done.load(std::memory_order_acquire)) {
            auto s0 = Clock::now();
            lw::WaitGroup one;
            one.add(1);
            lw::go([&one] { one.done(); });
            one.wait();
            longest = std::max(longest, ms_since(s0));
          }
          probe.done();
        });
        lw::sleep_for(std::chrono::milliseconds(5));
        work();
        done.store(true, std::memory_order_release);
        probe.wait();
        return longest;
      };
      // The capture runs on a plain thread, as the debug server's request threads do.
      double took = 0;
      stall.push_back(probe_while([&] {
        std::atomic<bool> captured{false};
        std::thread capturer([&] {
          auto c0 = Clock::now();
          lw::snapshot::Snapshot s = lw::snapshot::capture_snapshot();
          took = ms_since(c0);
          snapshot_sites = s.heap.sites.size();
          pause.push_back(static_cast<double>(s.capture_pause_ns) / 1e6);
          captured.store(true, std::memory_order_release);
        });
        while (!captured.load(std::memory_order_acquire)) lw::sleep_for(std::chrono::milliseconds(1));
        capturer.join();
      }));
      capture.push_back(took);
      idle_stall.push_back(probe_while([&] {
        std::atomic<bool> spun{false};
        std::thread spinner([&] {  // as busy as the capturer, without touching the registry
          auto c0 = Clock::now();
          while (ms_since(c0) < took) asm volatile("" ::: "memory");
          spun.store(true, std::memory_order_release);
        });
        while (!spun.load(std::memory_order_acquire)) lw::sleep_for(std::chrono::milliseconds(1));
        spinner.join();
      }));

      t0 = Clock::now();
      auto fetched = lw::cli::fetch_snapshot(url, 60'000'000'000);
      if (!fetched) {
        std::fprintf(stderr, "capture_bench: %s\n", fetched.error().message.c_str());
        std::exit(2);
      }
      transfer.push_back(ms_since(t0));
      body_bytes = fetched->bytes.size();
    }
    char extra[160];
    std::snprintf(extra, sizeof extra, ",\"tasks\":%zu", live);
    print("tasks_read", stats_of(hold), extra);
    print("registry_longest_hold", stats_of(pause), extra);
    print("spawn_stall_during_capture", stats_of(stall), extra);
    print("spawn_stall_busy_thread", stats_of(idle_stall), extra);
    std::snprintf(extra, sizeof extra, ",\"tasks\":%zu,\"heap_sites\":%zu", live, snapshot_sites);
    print("capture", stats_of(capture), extra);
    std::snprintf(extra, sizeof extra, ",\"bytes\":%zu", body_bytes);
    print("transfer", stats_of(transfer), extra);
    gate.close();
  });
  for (void* p : retained) std::free(p);
  return 0;
}
