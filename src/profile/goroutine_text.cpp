// Go's goroutine text formats from a Snapshot.
//
// debug=1 follows Go's printCountProfile: records keyed by "@ pcs" plus the "# labels:" line,
// sorted by count (descending) then key, so the same tasks give the same bytes Go's order would.
// Stack lines follow printStackRecord: the call site (return address - 1), the function and
// file:line, leading runtime frames (ours: namespace lw, e.g. park and Chan::recv) hidden unless
// nothing else is left. Go also prints "+0x.." (offset from the function's entry); the snapshot
// does not carry function entries, so the offset is left out rather than made up. `go tool pprof`
// reads this form (it parses the "N @ 0x.." lines and skips the '#' ones).
//
// debug=2 follows Go's traceback: "goroutine N [state, wait]:", then per frame "func(...)" and
// "\tfile:line", then "created by F in goroutine P" with the go() call site. Choices where we
// differ, all kept inside what panicparse/goleak-style parsers accept
// ("^goroutine (\d+) \[([^\]]+)\]:$", items split on ", ", "^(\d+) minutes$"):
//   - Wait time is exact (stamped at park): ", N minutes" from one minute on, as Go, and
//     ", N seconds" below that (Go prints nothing there); nothing below one second.
//   - A task proven leaked shows "(leaked)" after its wait reason, as Go 1.26's goroutineleak
//     traceback does: "[chan send (leaked), 3 seconds]".
//   - Labels (Go 1.19 prints none here) and the leak proof follow the task's last frame as
//     "# labels: {...}" and "# leaked: why" lines, where a parser that does not know them reads
//     trailing text after a complete record instead of a malformed frame.
//   - An unsymbolized frame is named by its address ("0x4a1b2c(...)") with file "??:0".
// The pieces shared with the thread dump (records, frames, wait words) are in dump_text.cpp.
#include "src/profile/goroutine_text.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "src/profile/dump_text.hpp"

namespace lw::profile {
namespace {

using snapshot::TaskRecord;
using snapshot::TaskState;

bool selected(const TaskRecord& t, TaskSelection which) {
  if (t.state == TaskState::kDead) return false;
  return which == TaskSelection::kAll || t.leaked;
}

void write_debug1(std::ostream& os, const snapshot::Snapshot& s, TaskSelection which) {
  SnapshotSymbols sym(s);
  CountRecords records;
  for (const auto& t : s.tasks)
    if (selected(t, which)) records.add(t.stack_id, t.labels);
  records.write(os, which == TaskSelection::kLeaked ? "goroutineleak" : "goroutine", sym,
                is_runtime_frame);
}

// state_words() is the text inside the header's brackets.
std::string state_words(const TaskRecord& t, std::int64_t now_ns) {
  std::string out;
  switch (t.state) {
    case TaskState::kWaiting:
      out = t.wait_reason.empty() ? "waiting" : one_line(t.wait_reason, true);
      break;
    default:
      out = std::string(snapshot::to_string(t.state));
      break;
  }
  if (t.leaked) out += " (leaked)";
  if (t.state == TaskState::kWaiting || t.state == TaskState::kSyscall)
    out += wait_words(t.wait_since_unix_ns, now_ns);
  return out;
}

// append_task() renders one task. The creator is the innermost frame of the creation stack
// outside the runtime (the go() call itself is runtime code), as Go names the function holding
// the go statement.
void append_task(std::string& out, TracebackText& text, const TaskRecord& t, std::int64_t now_ns) {
  out += "goroutine ";
  out += std::to_string(t.id);
  out += " [";
  out += state_words(t, now_ns);
  out += "]:\n";
  out += text.frames(t.stack_id);
  if (t.create_stack_id != 0 || t.parent_id != 0)
    text.append_created_by(out, t.create_stack_id,
                           t.parent_id != 0 ? " in goroutine " + std::to_string(t.parent_id) : "");
  append_labels_and_proof(out, t.labels, t.leaked, t.leak_reason);
}

void write_debug2(std::ostream& os, const snapshot::Snapshot& s, TaskSelection which) {
  std::vector<const TaskRecord*> tasks;
  for (const auto& t : s.tasks)
    if (selected(t, which)) tasks.push_back(&t);
  std::sort(tasks.begin(), tasks.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  TracebackText text(s, is_runtime_frame);
  std::string out;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (i) out += '\n';
    append_task(out, text, *tasks[i], s.time_unix_ns);
    flush_dump(os, out);
  }
  flush_dump(os, out, /*force=*/true);
}

}  // namespace

void write_goroutine_text(std::ostream& os, const snapshot::Snapshot& s, int debug,
                          TaskSelection which) {
  if (debug >= 2)
    write_debug2(os, s, which);
  else
    write_debug1(os, s, which);
}

}  // namespace lw::profile
