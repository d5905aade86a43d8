// capture_custom_profiles.hpp: the process's custom profiles (lw::Profile) -> a Snapshot.
// Thread-safe; allocates (call from the HTTP/analysis path, never from a hot path).
#pragma once

#include "src/snapshot/model.hpp"

namespace lw::cpu {

// capture_custom_profiles() fills s->custom_profiles and s->dropped_custom_profiles from the
// process's table, adding the profiles' stacks to s->stacks after the ids already there. The new
// stacks are not symbolized: call snapshot::symbolize_stacks() after, where symbols are wanted.
void capture_custom_profiles(snapshot::Snapshot* s);

}  // namespace lw::cpu
