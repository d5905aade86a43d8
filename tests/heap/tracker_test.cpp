// The tracker's recording core, called directly (as the hooks do), so these run in every build,
// including the sanitizer builds that leave the interposer out.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "src/heap/block_map.hpp"
#include "src/heap/stack_table.hpp"
#include "src/heap/tracker.hpp"
#include "src/unwind/fast_capture.hpp"
#include "tests/heap/heap_test_util.hpp"

namespace lw_test {

// Fake block addresses: the tracker never dereferences them.
std::uintptr_t fake_block(std::uint64_t i) { return 0x7f0000000000ull + i * 64; }

[[gnu::noinline]] void tracker_alloc_site_a(std::uint64_t first, int n, std::size_t size) {
  for (int i = 0; i < n; ++i) {
    lw::heap::HookGuard g;
    lw::heap::record_alloc(g, reinterpret_cast<void*>(fake_block(first + i)), size, 0);
  }
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void tracker_free_range(std::uint64_t first, int n, std::size_t size) {
  for (int i = 0; i < n; ++i) {
    lw::heap::HookGuard g;
    void* p = reinterpret_cast<void*>(fake_block(first + i));
    if (lw::heap::maybe_sampled(p)) lw::heap::record_free(g, p, size);
  }
}

[[gnu::noinline]] void tracker_untracked_site() {
  lw::heap::UntrackedScope u;
  lw::heap::HookGuard g;
  lw::heap::record_alloc(g, reinterpret_cast<void*>(fake_block(900000)), 64, 0);
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void tracker_thread_site(std::uint64_t first, int n) {
  for (int i = 0; i < n; ++i) {
    lw::heap::HookGuard g;
    lw::heap::record_alloc(g, reinterpret_cast<void*>(fake_block(first + i)), 128, 0);
  }
  asm volatile("" ::: "memory");
}

// Simulates what the hooks do for `bytes` worth of `size`-byte allocations: the countdown
// decides, record_alloc records. Returns the site's estimated bytes.
[[gnu::noinline]] void tracker_sampled_leak(std::uint64_t first, std::uint64_t bytes, std::size_t size) {
  for (std::uint64_t i = 0; i * size < bytes; ++i) {
    if (!lw::heap::countdown_hit(size)) continue;
    lw::heap::HookGuard g;
    lw::heap::record_alloc(g, reinterpret_cast<void*>(fake_block(first + i)), size, 0);
  }
  asm volatile("" ::: "memory");
}

}  // namespace lw_test

using namespace lw_test;

TEST_CASE("recorded blocks land at the recording function's site, exactly at rate 1") {
  lw::heap::set_sample_rate(1);
  tracker_alloc_site_a(1000, 10, 4096);
  SiteSum s = sum_sites_through("tracker_alloc_site_a");
  CHECK(s.sites == 1);
  CHECK(s.innermost_match == 1);
  CHECK(s.alloc_objects == 10);
  CHECK(s.alloc_bytes == 10 * 4096);
  CHECK(s.inuse_objects == 10);
  tracker_free_range(1000, 4, 4096);
  s = sum_sites_through("tracker_alloc_site_a");
  CHECK(s.inuse_objects == 6);
  CHECK(s.inuse_bytes == 6 * 4096);
  CHECK(s.alloc_objects == 10);
  tracker_free_range(1004, 6, 4096);
  CHECK(sum_sites_through("tracker_alloc_site_a").inuse_bytes == 0);
  lw::heap::set_sample_rate(lw::heap::kDefaultSampleRate);
}

TEST_CASE("an UntrackedScope keeps allocations out of the profile") {
  lw::heap::set_sample_rate(1);
  tracker_untracked_site();
  CHECK(sum_sites_through("tracker_untracked_site").sites == 0);
  lw::heap::set_sample_rate(lw::heap::kDefaultSampleRate);
}

TEST_CASE("a re-entered guard does not record") {
  lw::heap::set_sample_rate(1);
  lw::heap::HookGuard outer;
  lw::heap::HookGuard inner;
  CHECK(outer.entered());
  CHECK_FALSE(inner.entered());
  lw::heap::set_sample_rate(lw::heap::kDefaultSampleRate);
}

TEST_CASE("threads record and free concurrently; figures add up") {
  lw::heap::set_sample_rate(1);
  constexpr int kThreads = 4, kPer = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t] {
      lw::heap::set_sample_rate(1);
      std::uint64_t first = 2000000 + static_cast<std::uint64_t>(t) * 100000;
      tracker_thread_site(first, kPer);
      tracker_free_range(first, kPer / 2, 128);
    });
  for (auto& th : threads) th.join();
  SiteSum s = sum_sites_through("tracker_thread_site");
  CHECK(s.alloc_objects == kThreads * kPer);
  CHECK(s.inuse_objects == kThreads * kPer / 2);
  CHECK(s.inuse_bytes == kThreads * kPer / 2 * 128);
  for (int t = 0; t < kThreads; ++t) tracker_free_range(2000000 + static_cast<std::uint64_t>(t) * 100000, kPer, 128);
  CHECK(sum_sites_through("tracker_thread_site").inuse_objects == 0);
  lw::heap::set_sample_rate(lw::heap::kDefaultSampleRate);
}

TEST_CASE("at the default rate an 8 MiB leak is estimated within 10% (50 fixed seeds)") {
  // Each run leaks 8 MiB in 4 KiB blocks (about 16 samples at 512 KiB, so one run alone is
  // +-25%); the mean of 50 seeded runs must be within 10%, and each run within a factor 2.5.
  lw::heap::set_sample_rate(lw::heap::kDefaultSampleRate);
  constexpr std::uint64_t kLeak = 8u << 20;
  double before = sum_sites_through("tracker_sampled_leak").inuse_bytes;
  double total = 0;
  int wild = 0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    lw::heap::seed_thread_sampler(seed);
    tracker_sampled_leak(10000000 + seed * 10000, kLeak, 4096);
    double now = sum_sites_through("tracker_sampled_leak").inuse_bytes;
    double est = now - before;
    before = now;
    total += est;
    if (est < kLeak / 2.5 || est > kLeak * 2.5) ++wild;
  }
  double mean = total / 50;
  CHECK(mean == doctest::Approx(static_cast<double>(kLeak)).epsilon(0.10));
  CHECK(wild <= 1);
}

TEST_CASE("mixed sizes at one site are unbiased too") {
  // Half the objects are 64 B (sampled with p = 0.8%), half 8 KiB (p = 63%); ~500 small samples.
  lw::heap::set_sample_rate(8192);
  lw::heap::seed_thread_sampler(7);
  std::mt19937_64 rng(7);
  double truth = 0, objects = 0;
  std::uint64_t i = 0;
  auto before = sum_sites_through("tracker_mixed_site");
  struct Local {
    [[gnu::noinline]] static void tracker_mixed_site(std::uint64_t addr, std::size_t size) {
      if (!lw::heap::countdown_hit(size)) return;
      lw::heap::HookGuard g;
      lw::heap::record_alloc(g, reinterpret_cast<void*>(addr), size, 0);
      asm volatile("" ::: "memory");
    }
  };
  while (truth < 512.0 * (1 << 20)) {
    std::size_t size = (rng() & 1) ? 64 : 8192;
    Local::tracker_mixed_site(fake_block(50000000 + i++), size);
    truth += static_cast<double>(size);
    objects += 1;
  }
  auto after = sum_sites_through("tracker_mixed_site");
  CHECK(after.alloc_bytes - before.alloc_bytes == doctest::Approx(truth).epsilon(0.10));
  CHECK(after.alloc_objects - before.alloc_objects == doctest::Approx(objects).epsilon(0.10));
  lw::heap::set_sample_rate(lw::heap::kDefaultSampleRate);
}

TEST_CASE("rate 0 samples nothing") {
  lw::heap::set_sample_rate(0);
  int hits = 0;
  for (int i = 0; i < 100000; ++i) hits += lw::heap::countdown_hit(1 << 20);
  CHECK(hits == 0);
  lw::heap::set_sample_rate(lw::heap::kDefaultSampleRate);
}

TEST_CASE("block map: random inserts and removes agree with std::map") {
  static lw::heap::BlockMap map{1024};
  std::map<std::uintptr_t, std::uint32_t> ref;
  std::mt19937 rng(3);
  for (int step = 0; step < 200000; ++step) {
    std::uintptr_t addr = 0x1000 + (rng() % 3000) * 16;
    if (rng() % 2) {
      bool had = false;
      lw::heap::BlockRecord old;
      bool ok = map.insert(addr, {static_cast<std::uint32_t>(step), 1.0f}, &had, &old);
      if (ok) {
        CHECK(had == (ref.count(addr) == 1));
        ref[addr] = static_cast<std::uint32_t>(step);
      } else {
        REQUIRE(ref.count(addr) == 0);
        CHECK(ref.size() >= 1024 / 4 * 3 / 64);  // a full shard (at its cap), never an empty table
      }
    } else {
      lw::heap::BlockRecord rec;
      bool found = map.remove(addr, &rec);
      REQUIRE(found == (ref.count(addr) == 1));
      if (found) {
        CHECK(rec.site == ref[addr]);
        ref.erase(addr);
      }
    }
    if (step % 1000 == 0) CHECK(map.live() == ref.size());
  }
  for (auto& [addr, site] : ref) CHECK(map.maybe_contains(addr));
}

TEST_CASE("site table: distinct stacks until full, then the overflow site") {
  static lw::heap::StackTable table{8};
  lw::unwind::StackTrace t;
  t.depth = 2;
  std::vector<std::uint32_t> ids;
  for (int i = 0; i < 12; ++i) {
    t.pc[0] = 0x400000 + static_cast<std::uintptr_t>(i);
    t.pc[1] = 0x500000;
    ids.push_back(table.intern(t));
  }
  // 7 usable slots besides the overflow site.
  int overflow = 0;
  for (auto id : ids) overflow += id == lw::heap::StackTable::kOverflowSite;
  CHECK(overflow == 5);
  CHECK(table.dropped_stacks() == 5);
  t.pc[0] = 0x400000;
  CHECK(table.intern(t) == ids[0]);
  table.add_alloc(ids[0], lw::heap::kObjectUnit, 100);
  table.add_free(ids[0], lw::heap::kObjectUnit, 100);
  CHECK(table.figures(ids[0]).alloc_bytes == 100);
  int seen = 0;
  table.for_each([&](const lw::unwind::StackTrace&, std::uint32_t, const lw::heap::SiteFigures&) { ++seen; });
  CHECK(seen == 7);
}

// A frameless function (libc's iconv code, seen in a sampled allocation) may leave rbp = -16:
// the frame-pointer walk must not let fp + 16 wrap around its upper bound and read at -8.
TEST_CASE("the stack walk stops at a frame pointer near the top of the address space") {
  alignas(16) std::uintptr_t stack[4] = {static_cast<std::uintptr_t>(-16), 0x1234, 0, 0};
  const auto lo = reinterpret_cast<std::uintptr_t>(&stack[0]);
  const auto hi = reinterpret_cast<std::uintptr_t>(&stack[4]);
  lw::unwind::StackTrace t;
  CHECK(lw::unwind::fp_walk(&t, lo, lo, hi, 0) == lw::unwind::FpWalkEnd::kBadFrame);
  CHECK(t.depth == 1);
  CHECK(t.pc[0] == 0x1234);
  stack[0] = static_cast<std::uintptr_t>(-8);
  CHECK(lw::unwind::fp_walk(&t, lo, lo, hi, 0) == lw::unwind::FpWalkEnd::kBadFrame);
}
