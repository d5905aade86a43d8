// capture.hpp: one consistent Snapshot of this process: tasks, heap, MemStats, threads, mappings,
// and every stack's addresses symbolized. Thread-safe (serialized internally); allocates; takes
// milliseconds: call from the HTTP path or a signal-dump thread, never from a hot path.
#pragma once

#include "src/snapshot/model.hpp"

namespace lw::snapshot {

struct CaptureOptions {
  bool tasks = true;
  bool heap = true;
  bool threads = true;    // every OS thread, with its stack (a signal per thread)
  bool symbolize = true;  // fill `locations` for every address in `stacks`
};

// capture_snapshot() builds the snapshot. Each part is consistent in itself (the registry and the
// site table are each read under their own lock); parts are taken one after the other, so a task
// may start between the heap and the task parts.
Snapshot capture_snapshot(const CaptureOptions& options = {});

// symbolize_stacks() adds a Location for every distinct address in s->stacks that has none yet.
void symbolize_stacks(Snapshot* s);

// read_process_info() and read_mappings() read /proc/self.
ProcessInfo read_process_info();
std::vector<Mapping> read_mappings();

}  // namespace lw::snapshot
