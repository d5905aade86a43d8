// detect_noise: how often the heap_growth verdict is right under sampling noise.
//
//   detect_noise [--seeds N] [--snapshots N]
//
// Simulates Go's default heap sampler (one sample per 512 KiB on average: the sample count is
// Poisson, each sample stands for 512 KiB) over 12 snapshots a minute apart, for a leaking site
// (4 MB + L per minute, for several L), 20 flat sites at 8 MB, and three caches that fill at
// different speeds and then stay full. Prints, per leak rate, how many runs missed the leak and
// how many flat or cache sites were reported (each should be 0). One JSON line per rate.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "src/diff/detect.hpp"
#include "src/snapshot/model.hpp"

using namespace lw;

namespace {

constexpr double kRate = 512 * 1024;
int g_points = 12;  // --snapshots
constexpr int kFlatSites = 20;

struct Counts {
  int missed = 0;
  int flat_reported = 0;
  int cache_reported = 0;
};

Counts run(double leak_per_minute, int seeds) {
  Counts c;
  for (int seed = 1; seed <= seeds; ++seed) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
    auto sampled = [&](double bytes) {
      std::poisson_distribution<long> n(bytes / kRate);
      return static_cast<std::int64_t>(n(rng)) * static_cast<std::int64_t>(kRate);
    };
    diff::StackNames names;
    diff::StackKey leak = names.intern({"leak"});
    std::vector<diff::StackKey> flat, cache;
    for (int k = 0; k < kFlatSites; ++k) flat.push_back(names.intern({"flat" + std::to_string(k)}));
    for (int k = 0; k < 3; ++k) cache.push_back(names.intern({"cache" + std::to_string(k)}));
    diff::Series s{"t", "run", {}};
    for (int i = 0; i < g_points; ++i) {
      diff::Point p;
      p.snapshot_id = i + 1;
      p.time_unix_ns = static_cast<std::int64_t>(i) * 60'000'000'000LL;
      p.sample_rate = static_cast<std::int64_t>(kRate);
      p.sites.push_back({leak, sampled(4e6 + i * leak_per_minute), 1});
      for (auto k : flat) p.sites.push_back({k, sampled(8e6), 1});
      p.sites.push_back({cache[0], sampled(std::min(i, 3) * 8e6 + 1e6), 1});  // full after 3 min
      p.sites.push_back({cache[1], sampled(std::min(i, 5) * 4e6 + 1e6), 1});  // after 5 min
      p.sites.push_back({cache[2], sampled(std::min(i, 7) * 2e6 + 1e6), 1});  // after 7 of 11 min
      s.points.push_back(std::move(p));
    }
    bool found = false;
    for (const auto& f : diff::detect({s}, names)) {
      if (f.kind != diff::FindingKind::kHeapGrowth) continue;
      const std::string& site = f.frames.front();
      if (site == "leak") found = true;
      else if (site.rfind("flat", 0) == 0) ++c.flat_reported;
      else ++c.cache_reported;
    }
    if (!found) ++c.missed;
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  int seeds = 200;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--seeds") == 0) seeds = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--snapshots") == 0) g_points = std::atoi(argv[i + 1]);
  }
  for (double leak : {0.75e6, 1.5e6, 3e6, 6e6}) {
    Counts c = run(leak, seeds);
    std::printf(
        "{\"bench\":\"detect.heap_growth_noise\",\"sample_rate\":%.0f,\"snapshots\":%d,\"leak_bytes_per_min\":%.0f,"
        "\"runs\":%d,\"missed\":%d,\"flat_sites_judged\":%d,\"flat_reported\":%d,\"cache_sites_judged\":%d,"
        "\"cache_reported\":%d}\n",
        kRate, g_points, leak, seeds, c.missed, seeds * kFlatSites, c.flat_reported, seeds * 3, c.cache_reported);
  }
  return 0;
}
