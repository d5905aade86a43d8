// The threadcreate profile has no creation stacks (threads are not tracked at creation), so its
// text form follows Go's count-profile layout with every thread under one empty stack and a
// comment line per thread naming it; the proto form comes from profile::threadcreate_pprof().
#include "src/server/profile_endpoints.hpp"

#include <stdexcept>


namespace lw::server {
namespace {

constexpr ProfileInfo kProfiles[] = {
    {"allocs", "A sampling of all past memory allocations", true},
    {"goroutine",
     "Stack traces of all current tasks (goroutines). Use debug=2 as a query parameter to export in "
     "the same format as an unrecovered panic.",
     true},
    {"goroutineleak",
     "Stack traces of the tasks proven never to wake again. Use debug=2 as a query parameter to "
     "export in the same format as an unrecovered panic.",
     false},
    {"heap",
     "A sampling of memory allocations of live objects. The gc GET parameter is accepted and "
     "ignored: there is no collector to run.",
     true},
    {"threadcreate", "The OS threads of the process", true},
};

}  // namespace

std::span<const ProfileInfo> profiles() { return kProfiles; }

const ProfileInfo* find_profile(std::string_view name) {
  for (const ProfileInfo& p : kProfiles)
    if (name == p.name) return &p;
  return nullptr;
}

std::size_t profile_count(const ProfileInfo& p, const snapshot::Snapshot& s, std::size_t threads) {
  std::string_view n = p.name;
  if (n == "heap" || n == "allocs") return s.heap.sites.size();
  if (n == "goroutine") return s.tasks.size();
  if (n == "goroutineleak") {
    std::size_t leaked = 0;
    for (const auto& t : s.tasks) leaked += t.leaked ? 1 : 0;
    return leaked;
  }
  return threads;
}

// The profile writers (src/profile) are not in this build yet: until they are, every profile
// request fails with a 500 that says so. Everything else of the server is served.
namespace {
[[noreturn]] void writers_missing() { throw std::runtime_error("profile writers are not built yet"); }
}  // namespace

std::string profile_proto(const ProfileInfo&, const snapshot::Snapshot&) { writers_missing(); }

std::string profile_text(const ProfileInfo&, const snapshot::Snapshot&, int) { writers_missing(); }

Result<std::string> profile_delta(std::string_view, std::string_view) { writers_missing(); }

}  // namespace lw::server
