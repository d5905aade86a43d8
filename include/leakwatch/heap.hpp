// leakwatch/heap.hpp: the heap tracker's public surface: exact allocator statistics (Go's
// runtime.MemStats names where they mean the same), the sampling rate of the heap profile, and
// writing a heap profile to a file. Thread-safe. read_mem_stats() does not allocate;
// write_heap_profile() does (outside the profile: the tracker keeps its own work untracked).
#pragma once

#include <cstdint>
#include <string>

#include "leakwatch/result.hpp"

namespace lw {

// MemStats: figures in bytes unless named otherwise. "Exact" means counted on every allocation
// (not estimated from samples). See docs/heap.md for how each is computed.
struct MemStats {
  std::uint64_t alloc = 0;          // = heap_alloc
  std::uint64_t total_alloc = 0;    // exact: usable bytes of every allocation since start
  std::uint64_t sys = 0;            // heap_sys + stack_sys + the tracker's own tables
  std::uint64_t mallocs = 0;        // exact: allocations since start (malloc, new, ... each 1)
  std::uint64_t frees = 0;          // exact: frees since start (free(nullptr) not counted)
  std::uint64_t heap_alloc = 0;     // exact: usable bytes of live blocks (total_alloc - freed)
  std::uint64_t heap_sys = 0;       // memory mimalloc holds committed from the OS (>= heap_inuse)
  std::uint64_t heap_idle = 0;      // heap_sys - heap_inuse
  std::uint64_t heap_inuse = 0;     // = heap_alloc (mimalloc 2.0.9 reports no page occupancy)
  std::uint64_t heap_released = 0;  // 0: mimalloc 2.0.9 does not report purged (reset) memory
  std::uint64_t heap_objects = 0;   // exact: mallocs - frees
  std::uint64_t stack_inuse = 0;    // task stacks committed and in use (0 when no lw::run is active)
  std::uint64_t stack_sys = 0;      // address space reserved for task stacks (idem)
  std::uint64_t num_tasks = 0;      // live tasks (idem)
  std::uint64_t num_threads = 0;    // threads of the process (/proc/self/stat)
  std::uint64_t rss = 0;            // resident set size now (/proc/self/statm)
  std::uint64_t max_rss = 0;        // peak resident set size (getrusage)
  std::uint64_t self_bytes = 0;     // heap bytes leakwatch itself holds (its server, symbolizer,
                                    // captures), never part of heap_alloc or the heap profile
  // The tracker's own health.
  std::int64_t heap_sample_rate = 0;      // current sampling rate (see set_heap_sample_rate)
  std::uint64_t dropped_samples = 0;      // samples not recorded: the block table was full
  std::uint64_t dropped_stacks = 0;       // samples filed under an empty stack: site table full
  bool interposed = false;                // false when built without LEAKWATCH_INTERPOSE_MALLOC
};

// read_mem_stats() merges the per-thread counters and asks mimalloc and /proc. Cheap
// (microseconds), never allocates.
MemStats read_mem_stats() noexcept;

// set_heap_sample_rate() sets the mean number of bytes allocated between two heap profile
// samples (Go's MemProfileRate): 1 records every allocation, 0 turns sampling off. The default is
// 524288, or LEAKWATCH_HEAP_RATE. The calling thread switches at once; other threads at their
// next sample.
void set_heap_sample_rate(std::int64_t bytes) noexcept;
std::int64_t heap_sample_rate() noexcept;

// write_heap_profile() writes the heap profile to `path`: with debug 0 a gzipped
// perftools.profiles.Profile (Go's /debug/pprof/heap, readable by `go tool pprof`), with debug 1
// Go's legacy text (heap?debug=1: "heap profile: ..." records and the "# runtime.MemStats" block).
Result<void> write_heap_profile(const std::string& path, int debug = 0);

}  // namespace lw
