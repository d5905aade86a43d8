// Go's legacy heap profile text (heap?debug=1) from a Snapshot.
//
// Go's text carries raw sample counts, and its readers unbias them: `go tool pprof` reads
// "@ heap/R" as "sampled at R/2 bytes" and scales each record by 1/(1-e^(-avg/rate)) (its
// scaleHeapSample). The snapshot holds the unbiased estimates, so this writer applies the
// inverse, count·(1-e^(-avg/rate)), rounded, per inuse and alloc pair: a reader that unbiases
// gets our estimates back (to rounding), and a site with samples never rounds to nothing (at
// least one object). At rate 1 the figures are the exact totals. The alternatives were to print
// the estimates under Go's header (pprof would scale them a second time) or under the "heapprofile"
// header that pprof does not scale (not Go's words, and the rate would be lost).
//
// Records are sorted by in-use bytes, largest first, as Go sorts them; leading allocator frames
// (malloc, operator new, our hooks) are left out of the '#' lines as Go leaves out runtime.malloc.
//
// The "# runtime.MemStats" block keeps Go's names for the fields that mean the same thing and
// leaves out those with no counterpart here (GC and Go-allocator internals: MSpan, MCache,
// BuckHashSys, GCSys, OtherSys, NextGC, LastGC, PauseNs, PauseEnd, NumGC, NumForcedGC,
// GCCPUFraction, DebugGC, Lookups), adds NumTasks, NumThreads, RSS and DroppedSamples, and ends
// with "# MaxRSS = " as Go does.
#include "src/profile/heap_text.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "src/profile/profile_symbols.hpp"

namespace lw::profile {
namespace {

// raw_counts() turns an unbiased (count, bytes) estimate back into sample counts for `rate`.
std::pair<std::int64_t, std::int64_t> raw_counts(std::int64_t count, std::int64_t bytes,
                                                 std::int64_t rate) {
  if (count <= 0 || bytes <= 0) return {0, 0};
  if (rate <= 1) return {count, bytes};
  double avg = static_cast<double>(bytes) / static_cast<double>(count);
  double p = 1 - std::exp(-avg / static_cast<double>(rate));
  auto c = static_cast<std::int64_t>(std::llround(static_cast<double>(count) * p));
  auto b = static_cast<std::int64_t>(std::llround(static_cast<double>(bytes) * p));
  if (c == 0) {
    c = 1;
    b = static_cast<std::int64_t>(std::llround(avg));
  }
  return {c, std::max<std::int64_t>(b, 1)};
}

bool is_hidden_allocation_frame(std::string_view f) {
  return is_allocator_frame(f) || is_runtime_frame(f);
}

}  // namespace

void write_heap_text(std::ostream& os, const snapshot::Snapshot& s) {
  struct Record {
    const snapshot::HeapSite* site;
    std::int64_t inuse_objects, inuse_bytes, alloc_objects, alloc_bytes;
  };
  const std::int64_t rate = s.heap.sample_rate;
  std::vector<Record> records;
  Record total{nullptr, 0, 0, 0, 0};
  for (const auto& site : s.heap.sites) {
    auto [io, ib] = raw_counts(site.inuse_objects, site.inuse_bytes, rate);
    auto [ao, ab] = raw_counts(site.alloc_objects, site.alloc_bytes, rate);
    if (io == 0 && ib == 0 && ao == 0 && ab == 0) continue;
    records.push_back({&site, io, ib, ao, ab});
    total.inuse_objects += io;
    total.inuse_bytes += ib;
    total.alloc_objects += ao;
    total.alloc_bytes += ab;
  }
  std::stable_sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return a.site->inuse_bytes > b.site->inuse_bytes;
  });

  // Go writes 2*rate: early C++ heap profilers did, and pprof expects it.
  os << "heap profile: " << total.inuse_objects << ": " << total.inuse_bytes << " ["
     << total.alloc_objects << ": " << total.alloc_bytes << "] @ heap/"
     << 2 * std::max<std::int64_t>(rate, 1) << '\n';
  SnapshotSymbols sym(s);
  for (const Record& r : records) {
    os << r.inuse_objects << ": " << r.inuse_bytes << " [" << r.alloc_objects << ": "
       << r.alloc_bytes << "] @";
    const auto& pcs = sym.pcs(r.site->stack_id);
    for (std::uint64_t pc : pcs) os << ' ' << hex(pc);
    os << '\n';
    write_stack_record(os, sym, pcs, is_hidden_allocation_frame);
  }

  const snapshot::MemStats& m = s.mem;
  os << "\n# runtime.MemStats\n"
     << "# Alloc = " << m.alloc << '\n'
     << "# TotalAlloc = " << m.total_alloc << '\n'
     << "# Sys = " << m.sys << '\n'
     << "# Mallocs = " << m.mallocs << '\n'
     << "# Frees = " << m.frees << '\n'
     << "# HeapAlloc = " << m.heap_alloc << '\n'
     << "# HeapSys = " << m.heap_sys << '\n'
     << "# HeapIdle = " << m.heap_idle << '\n'
     << "# HeapInuse = " << m.heap_inuse << '\n'
     << "# HeapReleased = " << m.heap_released << '\n'
     << "# HeapObjects = " << m.heap_objects << '\n'
     << "# Stack = " << m.stack_inuse << " / " << m.stack_sys << '\n'
     << "# NumTasks = " << m.num_tasks << '\n'
     << "# NumThreads = " << m.num_threads << '\n'
     << "# RSS = " << m.rss << '\n'
     << "# DroppedSamples = " << s.heap.dropped_samples << '\n'
     << "# MaxRSS = " << m.max_rss << '\n'
     << "# SelfBytes = " << m.self_bytes << '\n';
}

}  // namespace lw::profile
