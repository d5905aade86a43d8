// Every profile is a pure function of one snapshot, rendered by src/profile; this file only maps
// names to writers and to the counts on the index page. The thread views leave leakwatch's own
// threads and the task runtime's workers out unless ?internal=1 asks for them, so that what a user
// sees is their program; the counts follow the default view.
#include "src/server/profile_endpoints.hpp"

#include <sstream>

#include "src/profile/contention_text.hpp"
#include "src/profile/goroutine_text.hpp"
#include "src/profile/heap_text.hpp"
#include "src/profile/pprof_builder.hpp"
#include "src/profile/thread_text.hpp"

namespace lw::server {
namespace {

constexpr ProfileInfo kProfiles[] = {
    {"allocs", "A sampling of all past memory allocations", true},
    {"block",
     "Stack traces that led to blocking on synchronization primitives (on with LEAKWATCH_BLOCK_RATE or "
     "lw::set_block_profile_rate)",
     true},
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
    {"mutex",
     "Stack traces of holders of contended mutexes (on with LEAKWATCH_MUTEX_FRACTION or "
     "lw::set_mutex_profile_fraction)",
     true},
    {"threadcreate", "Stack traces that led to the creation of new OS threads", true},
    {"threadleak",
     "Stack traces of the OS threads proven never to wake again (deadlocked, or waiting on a mutex "
     "whose owner has exited). Use debug=2 for every thread's record.",
     false},
    {"threads",
     "Stack traces of all current OS threads, with state, wait reason and wait time. Use debug=2 "
     "as a query parameter to export in the same format as a goroutine dump; internal=1 adds "
     "leakwatch's own threads.",
     true},
};

profile::ThreadSelection thread_selection(std::string_view name) {
  return name == "threadleak" ? profile::ThreadSelection::kLeaked : profile::ThreadSelection::kAll;
}

}  // namespace

std::span<const ProfileInfo> profiles() { return kProfiles; }

const ProfileInfo* find_profile(std::string_view name) {
  for (const ProfileInfo& p : kProfiles)
    if (name == p.name) return &p;
  return nullptr;
}

std::size_t profile_count(const ProfileInfo& p, const snapshot::Snapshot& s, std::size_t os_threads) {
  std::string_view n = p.name;
  if (n == "heap" || n == "allocs") return s.heap.sites.size();
  if (n == "goroutine") return s.tasks.size();
  if (n == "block") return s.block.sites.size();
  if (n == "mutex") return s.mutex.sites.size();
  if (n == "goroutineleak") {
    std::size_t leaked = 0;
    for (const auto& t : s.tasks) leaked += t.leaked ? 1 : 0;
    return leaked;
  }
  if (n == "threadcreate") return s.threads_tracked ? s.threads_created : os_threads;
  if (!s.threads_tracked && s.threads.empty()) return n == "threads" ? os_threads : 0;
  std::size_t count = 0;
  for (const auto& t : s.threads)
    count += profile::thread_selected(t, thread_selection(n), false) ? 1 : 0;
  return count;
}

std::vector<ListedProfile> listed_profiles(const snapshot::Snapshot& s, std::size_t os_threads) {
  std::vector<ListedProfile> out;
  for (const ProfileInfo& p : profiles()) out.push_back({p.name, profile_count(p, s, os_threads)});
  for (const auto& c : s.custom_profiles) out.push_back({c.name, static_cast<std::size_t>(c.count)});
  return out;
}

std::string profile_proto(const ProfileInfo& p, const snapshot::Snapshot& s, const ProfileQuery& q) {
  std::string_view n = p.name;
  if (n == "heap") return profile::heap_pprof(s, profile::HeapView::kInuse);
  if (n == "allocs") return profile::heap_pprof(s, profile::HeapView::kAlloc);
  if (n == "goroutine") return profile::goroutine_pprof(s, profile::TaskSelection::kAll);
  if (n == "goroutineleak") return profile::goroutine_pprof(s, profile::TaskSelection::kLeaked);
  if (n == "threadcreate") return profile::threadcreate_pprof(s);
  if (n == "block") return profile::contention_pprof(s, base::ContentionProfile::kBlock);
  if (n == "mutex") return profile::contention_pprof(s, base::ContentionProfile::kMutex);
  return profile::threads_pprof(s, thread_selection(n), q.include_internal);
}

std::string profile_text(const ProfileInfo& p, const snapshot::Snapshot& s, const ProfileQuery& q) {
  std::ostringstream os;
  std::string_view n = p.name;
  if (n == "heap" || n == "allocs")
    profile::write_heap_text(os, s);
  else if (n == "goroutine")
    profile::write_goroutine_text(os, s, q.debug, profile::TaskSelection::kAll);
  else if (n == "goroutineleak")
    profile::write_goroutine_text(os, s, q.debug, profile::TaskSelection::kLeaked);
  else if (n == "threadcreate")
    profile::write_threadcreate_text(os, s);
  else if (n == "block")
    profile::write_contention_text(os, s, base::ContentionProfile::kBlock);
  else if (n == "mutex")
    profile::write_contention_text(os, s, base::ContentionProfile::kMutex);
  else
    profile::write_thread_text(os, s, q.debug, thread_selection(n), q.include_internal);
  return os.str();
}

Result<std::string> profile_delta(std::string_view base, std::string_view current) {
  return profile::delta_pprof(base, current);
}

}  // namespace lw::server
