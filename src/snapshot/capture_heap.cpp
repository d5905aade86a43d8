// capture_heap reads the site table without stopping allocating threads: each site's figures are
// relaxed atomics read frees-first, so a site is never shown with more freed than allocated, but
// sites are not read at one instant (documented in capture.hpp: parts are each consistent in
// themselves). The whole capture runs under an UntrackedScope so that building the Snapshot
// (vectors, the interner's map) never appears in the profile it reports.
#include "src/snapshot/capture_heap.hpp"

#include <vector>

#include "leakwatch/heap.hpp"
#include "src/base/label_sets.hpp"
#include "src/heap/hook_guard.hpp"
#include "src/heap/tracker.hpp"

namespace lw::snapshot {
namespace {

std::int64_t objects_of(std::uint64_t units) {
  return static_cast<std::int64_t>((units + heap::kObjectUnit / 2) / heap::kObjectUnit);
}

}  // namespace

void capture_heap(Snapshot* out, StackInterner* stacks) {
  heap::UntrackedScope untracked;
  lw::MemStats m = lw::read_mem_stats();
  out->mem.alloc = m.alloc;
  out->mem.total_alloc = m.total_alloc;
  out->mem.sys = m.sys;
  out->mem.mallocs = m.mallocs;
  out->mem.frees = m.frees;
  out->mem.heap_alloc = m.heap_alloc;
  out->mem.heap_sys = m.heap_sys;
  out->mem.heap_idle = m.heap_idle;
  out->mem.heap_inuse = m.heap_inuse;
  out->mem.heap_released = m.heap_released;
  out->mem.heap_objects = m.heap_objects;
  out->mem.self_bytes = m.self_bytes;

  out->heap.sample_rate = heap::sample_rate();
  heap::TrackerStats t = heap::tracker_stats();
  out->heap.dropped_samples = t.dropped_samples + t.dropped_stacks;
  std::vector<std::uint64_t> pcs;
  heap::site_table().for_each([&](const unwind::StackTrace& trace, std::uint32_t label_set,
                                  const heap::SiteFigures& f) {
    pcs.assign(trace.pc, trace.pc + trace.depth);
    HeapSite site;
    site.stack_id = stacks->intern(pcs);
    site.alloc_objects = objects_of(f.alloc_units);
    site.alloc_bytes = static_cast<std::int64_t>(f.alloc_bytes);
    std::uint64_t live_units = f.alloc_units > f.free_units ? f.alloc_units - f.free_units : 0;
    std::uint64_t live_bytes = f.alloc_bytes > f.free_bytes ? f.alloc_bytes - f.free_bytes : 0;
    site.inuse_objects = objects_of(live_units);
    site.inuse_bytes = static_cast<std::int64_t>(live_bytes);
    site.labels = base::label_set(base::LabelSetId{label_set});
    out->heap.sites.push_back(site);
  });
}

}  // namespace lw::snapshot
