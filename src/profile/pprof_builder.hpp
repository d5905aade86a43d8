// pprof_builder.hpp: perftools.profiles.Profile (google/pprof's profile.proto) from a Snapshot, and
// delta profiles. Pure; thread-safe; allocates. Results are serialized protobuf, not gzipped (the
// server and CLI gzip them with gzip.hpp).
#pragma once

#include <string>
#include <vector>
#include <string_view>

#include "leakwatch/result.hpp"
#include "src/base/contention_event.hpp"
#include "src/profile/goroutine_text.hpp"
#include "src/profile/thread_text.hpp"
#include "src/snapshot/model.hpp"

namespace lw::profile {

// HeapView picks the default sample type, as Go's /heap and /allocs differ only in that.
enum class HeapView {
  kInuse,  // default_sample_type inuse_space (/debug/pprof/heap)
  kAlloc,  // default_sample_type alloc_space (/debug/pprof/allocs)
};

// heap_pprof() builds Go's heap profile: sample types alloc_objects/count, alloc_space/bytes,
// inuse_objects/count, inuse_space/bytes; period_type space/bytes; period = sample rate; functions,
// locations and mappings from the snapshot.
std::string heap_pprof(const snapshot::Snapshot& s, HeapView view);

// goroutine_pprof() builds Go's goroutine profile: sample type goroutine/count, one sample per
// distinct (stack, labels), labels as pprof string labels.
std::string goroutine_pprof(const snapshot::Snapshot& s, TaskSelection which);

// custom_pprof() builds a custom profile (lw::Profile) as Go writes one: sample type and
// period_type <name>/count, period 1, one sample per stack with its live keys as the value.
std::string custom_pprof(const snapshot::Snapshot& s, const snapshot::CustomProfile& profile);

// threads_pprof() builds the threads profile (threads/count; threadleak/count for kLeaked): one
// sample per selected thread at its current stack, value 1, string labels thread (its name),
// state, wait_reason (when set) and the thread's own labels, number label tid. A thread without a
// stack gets one pseudo-frame naming its state ("[syscall read]"), since pprof drops samples
// that have no location. Leakwatch's own threads and runtime workers only with include_internal.
std::string threads_pprof(const snapshot::Snapshot& s, ThreadSelection which,
                          bool include_internal = false);

// threadcreate_pprof() builds the threadcreate profile (threadcreate/count). With the thread
// registry (s.threads_tracked), one sample per creation stack in s.thread_creates, its value the
// threads ever created there; without it, one sample per thread under a pseudo-frame naming the
// thread, labels tid and thread.
std::string threadcreate_pprof(const snapshot::Snapshot& s);

// CpuSampleRecord is one CPU profile sample: a stack of the snapshot, its labels and its ticks.
struct CpuSampleRecord {
  snapshot::StackId stack_id = 0;
  snapshot::Labels labels;
  std::int64_t count = 0;
};

// cpu_pprof() builds Go's CPU profile: sample types samples/count and cpu/nanoseconds, period_type
// cpu/nanoseconds, period `period_ns` (1e9 / hz), duration_nanos, stacks and mappings from `s`
// (its stacks and locations; tasks and heap are not read), labels as string labels.
std::string cpu_pprof(const snapshot::Snapshot& s, const std::vector<CpuSampleRecord>& samples, std::int64_t period_ns,
                      std::int64_t duration_ns);

// contention_pprof() builds s.block or s.mutex as Go's printCountCycleProfile does: period_type
// contentions/count, period 1, sample types contentions/count and delay/nanoseconds.
std::string contention_pprof(const snapshot::Snapshot& s, base::ContentionProfile which);

// delta_pprof() returns `current` minus `base` (base scaled by -1 and merged, as pprof -base and
// Go's ?seconds=N do). Inputs may be gzipped or plain; both must have the same sample types.
Result<std::string> delta_pprof(std::string_view base, std::string_view current);

}  // namespace lw::profile
