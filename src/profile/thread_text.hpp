// thread_text.hpp: the OS threads of a Snapshot in Go's goroutine-dump shapes, and the threadcreate
// profile's text. Pure; thread-safe; allocates.
//
// debug=1 is Go's aggregated count-profile form: "threads profile: total N", then per distinct
// (stack, labels) "N @ 0x.. 0x..", "# labels: {...}" and "#\t0x..\tfunc\tfile:line" lines.
// debug=2 is one record per thread in Go's traceback form:
//   thread 17437 "nghttpd" [condition wait, 3 minutes]:
//   func(...)
//   	file:line
//   created by F in thread 17401
//   	file:line
// docs/profile-formats.md has the whole format.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "src/snapshot/model.hpp"

namespace lw::profile {

// ThreadSelection picks which threads a thread view shows.
enum class ThreadSelection {
  kAll,     // /debug/pprof/threads
  kLeaked,  // /debug/pprof/threadleak: only threads proven never to wake
};

// is_user_thread() says whether a thread belongs in the user's views by default: not one of
// leakwatch's own threads (server, dump) and not a worker of its task runtime.
bool is_user_thread(const snapshot::ThreadRecord& t);

// thread_selected() says whether `t` is in the view picked by `which` and `include_internal`.
bool thread_selected(const snapshot::ThreadRecord& t, ThreadSelection which, bool include_internal);

// thread_state_name() is the state as the dump header names it: the wait reason when waiting
// ("condition wait"; "waiting" if none), "syscall read" in a system call, "exited, unjoined" for a
// joinable thread that has exited, else the state ("running", "stopped", "exited").
std::string thread_state_name(const snapshot::ThreadRecord& t);

// thread_header_words() is the text inside a debug=2 header's brackets: thread_state_name(),
// " (leaked)" when proven, the wait time (against `now_ns`) and the wait's detail for waits,
// e.g. "syscall read, 5 seconds, pipe:[99]".
std::string thread_header_words(const snapshot::ThreadRecord& t, std::int64_t now_ns);

// write_thread_text() writes the threads of `s` picked by `which` (leakwatch's own threads and
// runtime workers only with `include_internal`). debug <= 1 is the aggregated form, debug >= 2
// one record per thread, by tid. Wait times are measured against s.time_unix_ns.
void write_thread_text(std::ostream& os, const snapshot::Snapshot& s, int debug,
                       ThreadSelection which = ThreadSelection::kAll,
                       bool include_internal = false);

// write_threadcreate_text() writes Go's threadcreate?debug=1: "threadcreate profile: total N",
// then one "N @ 0x.." record per creation stack of s.thread_creates. Without the thread registry
// (!s.threads_tracked) there are no creation stacks: every thread is counted under no stack, with
// one "# thread TID NAME" line per thread.
void write_threadcreate_text(std::ostream& os, const snapshot::Snapshot& s);

}  // namespace lw::profile
