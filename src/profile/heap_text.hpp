// heap_text.hpp: Go's legacy heap profile text (heap?debug=1), from a Snapshot. Pure; allocates.
//
// "heap profile: I: B [A: AB] @ heap/R" header, one "i: b [a: ab] @ 0x.. 0x.." line per site with
// "#\t0x..\tfunc+0x..\tfile:line" frames, then the "# runtime.MemStats" block with Go's field names.
#pragma once

#include <ostream>

#include "src/snapshot/model.hpp"

namespace lw::profile {

// write_heap_text() writes the heap sites and MemStats of `s`.
void write_heap_text(std::ostream& os, const snapshot::Snapshot& s);

}  // namespace lw::profile
