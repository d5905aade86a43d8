// capture_tasks.hpp: the runtime's registry -> the tasks of a Snapshot. Thread-safe (takes the
// registry's own locks); allocates; call from the HTTP/analysis path only.
#pragma once

#include "src/snapshot/model.hpp"
#include "src/snapshot/stack_interner.hpp"

namespace lw::snapshot {

// capture_tasks() appends a TaskRecord for every live task (current stack and creation stack
// interned through `stacks`), and sets out->leaked_tasks, out->mem.num_tasks, stack_inuse and
// stack_sys, and raises out->capture_pause_ns to the registry's longest hold. Does nothing useful
// when no runtime is running (no tasks).
void capture_tasks(Snapshot* out, StackInterner* stacks);

}  // namespace lw::snapshot
