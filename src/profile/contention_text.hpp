// contention_text.hpp: the debug=1 text of Go's block and mutex profiles (runtime/pprof's
// "contention" records; the pprof message is contention_pprof() in pprof_builder.hpp). Pure;
// thread-safe; allocates.
#pragma once

#include <cstdint>
#include <ostream>

#include "src/base/contention_event.hpp"
#include "src/snapshot/model.hpp"

namespace lw::profile {

// write_contention_text() writes Go's debug=1 form: "--- contention:" (block) or "--- mutex:",
// "cycles/second=1000000000" (our cycles are nanoseconds), for the mutex profile "sampling
// period=N" (its fraction), then per stack, by delay descending, "delay count @ 0x.. 0x.." and
// its frames.
void write_contention_text(std::ostream& os, const snapshot::Snapshot& s, base::ContentionProfile which);

}  // namespace lw::profile
