// profile_endpoints.hpp: the profiles served under /debug/pprof/ (heap, allocs, goroutine,
// goroutineleak, threadcreate), each rendered from one Snapshot by the writers in src/profile.
// Pure; thread-safe; allocates.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "leakwatch/result.hpp"
#include "src/snapshot/model.hpp"

namespace lw::server {

struct ProfileInfo {
  const char* name;
  const char* description;
  bool supports_delta;  // ?seconds=N allowed (Go's profileSupportsDelta)
};

// profiles() lists every profile we serve, in the index page's order (by name, as Go sorts them).
std::span<const ProfileInfo> profiles();

// find_profile() returns the profile called `name`, or nullptr.
const ProfileInfo* find_profile(std::string_view name);

// profile_count() is the number the index page shows beside the profile.
std::size_t profile_count(const ProfileInfo& p, const snapshot::Snapshot& s, std::size_t threads);

// profile_proto() serializes the profile as perftools.profiles.Profile (not gzipped).
std::string profile_proto(const ProfileInfo& p, const snapshot::Snapshot& s);

// profile_text() renders the debug=1 / debug=2 text form.
std::string profile_text(const ProfileInfo& p, const snapshot::Snapshot& s, int debug);

// profile_delta() is `current` minus `base`, both made by profile_proto() (Go's ?seconds=N).
Result<std::string> profile_delta(std::string_view base, std::string_view current);

}  // namespace lw::server
