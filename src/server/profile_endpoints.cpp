// The threadcreate profile has no creation stacks (threads are not tracked at creation), so its
// text form follows Go's count-profile layout with every thread under one empty stack and a
// comment line per thread naming it; the proto form comes from profile::threadcreate_pprof().
#include "src/server/profile_endpoints.hpp"

#include <sstream>

#include "src/profile/goroutine_text.hpp"
#include "src/profile/heap_text.hpp"
#include "src/profile/pprof_builder.hpp"

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

std::string profile_proto(const ProfileInfo& p, const snapshot::Snapshot& s) {
  std::string_view n = p.name;
  if (n == "heap") return profile::heap_pprof(s, profile::HeapView::kInuse);
  if (n == "allocs") return profile::heap_pprof(s, profile::HeapView::kAlloc);
  if (n == "goroutine") return profile::goroutine_pprof(s, profile::TaskSelection::kAll);
  if (n == "goroutineleak") return profile::goroutine_pprof(s, profile::TaskSelection::kLeaked);
  return profile::threadcreate_pprof(s);
}

std::string profile_text(const ProfileInfo& p, const snapshot::Snapshot& s, int debug) {
  std::ostringstream os;
  std::string_view n = p.name;
  if (n == "heap" || n == "allocs") {
    profile::write_heap_text(os, s);
  } else if (n == "goroutine") {
    profile::write_goroutine_text(os, s, debug, profile::TaskSelection::kAll);
  } else if (n == "goroutineleak") {
    profile::write_goroutine_text(os, s, debug, profile::TaskSelection::kLeaked);
  } else {
    os << "threadcreate profile: total " << s.threads.size() << "\n";
    if (!s.threads.empty()) os << s.threads.size() << " @\n";
    for (const auto& t : s.threads) os << "# thread " << t.tid << " " << t.name << "\n";
  }
  return os.str();
}

Result<std::string> profile_delta(std::string_view base, std::string_view current) {
  return profile::delta_pprof(base, current);
}

}  // namespace lw::server
