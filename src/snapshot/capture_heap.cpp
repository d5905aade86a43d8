#include "src/snapshot/capture_heap.hpp"

namespace lw::snapshot {

void capture_heap(Snapshot* /*out*/, StackInterner* /*stacks*/) {
  // Filled in with the heap tracker's site table.
}

}  // namespace lw::snapshot
