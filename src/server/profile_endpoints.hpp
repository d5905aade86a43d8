// profile_endpoints.hpp: the profiles served under /debug/pprof/ (heap, allocs, goroutine,
// goroutineleak, threads, threadleak, threadcreate, block, mutex), each rendered from one Snapshot by the
// writers in src/profile. Pure; thread-safe; allocates.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "leakwatch/result.hpp"
#include "src/server/profile_query.hpp"
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

// profile_count() is the number the index page shows beside the profile: heap sites, live tasks,
// leaked tasks, user threads (leakwatch's own and runtime workers left out), leaked user threads,
// threads created since start. `os_threads` (the process's thread count from /proc) stands in for
// the thread counts of a snapshot taken without the thread registry.
std::size_t profile_count(const ProfileInfo& p, const snapshot::Snapshot& s, std::size_t os_threads);

// ListedProfile is one line of the index: a profile's name and count.
struct ListedProfile {
  std::string name;
  std::size_t count = 0;
};
// listed_profiles() is what the index lists with counts: every profile above, then the custom
// profiles (lw::Profile) the snapshot holds.
std::vector<ListedProfile> listed_profiles(const snapshot::Snapshot& s, std::size_t os_threads);

// profile_proto() serializes the profile as perftools.profiles.Profile (not gzipped). `q` picks
// what the thread views include (q.include_internal).
std::string profile_proto(const ProfileInfo& p, const snapshot::Snapshot& s, const ProfileQuery& q);

// profile_text() renders the q.debug = 1 / 2 text form.
std::string profile_text(const ProfileInfo& p, const snapshot::Snapshot& s, const ProfileQuery& q);

// profile_delta() is `current` minus `base`, both made by profile_proto() (Go's ?seconds=N).
Result<std::string> profile_delta(std::string_view base, std::string_view current);

}  // namespace lw::server
