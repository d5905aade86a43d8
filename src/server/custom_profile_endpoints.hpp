// custom_profile_endpoints.hpp: the custom profiles (lw::Profile) served under /debug/pprof/<name>
// beside the built-in ones (profile_endpoints.hpp), each rendered from one Snapshot by the
// writers in src/profile. Pure; thread-safe; allocates.
#pragma once

#include <string>

#include "src/snapshot/model.hpp"

namespace lw::server {

// kCustomProfileDescription is the index page's line for every custom profile.
inline constexpr const char* kCustomProfileDescription =
    "A custom profile (lw::Profile): the live keys of the program's own set, by the stack that added each";

// custom_profile_proto() serializes `p`, a profile of `s`, as perftools.profiles.Profile (not gzipped).
std::string custom_profile_proto(const snapshot::Snapshot& s, const snapshot::CustomProfile& p);

// custom_profile_text() renders `p` as Go's debug=1 text (debug=2 is the same, as in Go).
std::string custom_profile_text(const snapshot::Snapshot& s, const snapshot::CustomProfile& p);

}  // namespace lw::server
