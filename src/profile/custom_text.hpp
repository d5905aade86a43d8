// custom_text.hpp: a custom profile (lw::Profile) in Go's debug=1 text, as runtime/pprof's
// printCountProfile writes one: "<name> profile: total N", then per stack "N @ 0x.. 0x.." and
// its "#\t0x..\tfunc\tfile:line" lines. Thread-safe (pure); allocates.
#pragma once

#include <ostream>

#include "src/snapshot/model.hpp"

namespace lw::profile {

// write_custom_text() writes `profile`, whose stacks are in `s`.
void write_custom_text(std::ostream& os, const snapshot::Snapshot& s, const snapshot::CustomProfile& profile);

}  // namespace lw::profile
