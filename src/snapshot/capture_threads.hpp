// capture_threads.hpp: the thread registry, /proc and the stack signal -> the threads of a
// Snapshot. Thread-safe; allocates; takes each thread's stack in turn (microseconds each): call from
// the HTTP/analysis path only.
#pragma once

#include "src/snapshot/model.hpp"
#include "src/snapshot/stack_interner.hpp"

namespace lw::snapshot {

struct ThreadCaptureOptions {
  bool stacks = true;                // current stacks (a signal per thread)
  bool leaked_stacks = false;        // without `stacks`: the stacks of leaked threads only
  bool describe_descriptors = true;  // what a blocking syscall's descriptor is
};

// capture_threads() fills out->threads (exited-but-unjoined ones included), out->thread_creates,
// threads_created, leaked_threads, threads_tracked and mem.num_threads.
void capture_threads(Snapshot* out, StackInterner* stacks, const ThreadCaptureOptions& options = {});

}  // namespace lw::snapshot
