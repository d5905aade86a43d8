// goroutine_text.hpp: Go's goroutine profile text, from a Snapshot. Thread-safe (pure); allocates.
//
// debug=1 is Go's aggregated form: "goroutine profile: total N", then per distinct (stack, labels)
// "N @ 0x.. 0x..", "# labels: {...}" and "#\t0x..\tfunc+0x..\tfile:line" lines.
// debug=2 is Go's full form: "goroutine 18 [chan receive, 5 minutes]:", frames as
// "func(...)\n\tfile:line +0x..", and "created by F in goroutine 1". Unlike Go the wait time is exact,
// so it is printed below one minute too ("3 seconds"). Go's words are kept so that existing parsers
// (goleak, panicparse) read the output.
#pragma once

#include <ostream>

#include "src/snapshot/model.hpp"

namespace lw::profile {

// TaskSelection picks which tasks a goroutine view shows.
enum class TaskSelection {
  kAll,     // /debug/pprof/goroutine
  kLeaked,  // /debug/pprof/goroutineleak: only tasks proven never to wake
};

// write_goroutine_text() writes the tasks of `s` in Go's text form. debug <= 1 is the aggregated
// form, debug >= 2 the full form. Wait times are measured against s.time_unix_ns.
void write_goroutine_text(std::ostream& os, const snapshot::Snapshot& s, int debug,
                          TaskSelection which = TaskSelection::kAll);

}  // namespace lw::profile
