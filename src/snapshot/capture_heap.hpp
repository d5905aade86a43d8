// capture_heap.hpp: the heap tracker's site table and counters -> the heap and MemStats of a
// Snapshot. Thread-safe; allocates (with the tracker's own hooks guarded, so capturing never
// shows up in the profile); call from the HTTP/analysis path only.
#pragma once

#include "src/snapshot/model.hpp"
#include "src/snapshot/stack_interner.hpp"

namespace lw::snapshot {

// capture_heap() fills out->heap (one HeapSite per sampled call stack, interned through
// `stacks`) and the allocator fields of out->mem.
void capture_heap(Snapshot* out, StackInterner* stacks);

}  // namespace lw::snapshot
