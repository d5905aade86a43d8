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
#include "src/profile/goroutine_text.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "src/base/call_site.hpp"
#include "src/profile/profile_symbols.hpp"

namespace lw::profile {
namespace {

using snapshot::TaskRecord;
using snapshot::TaskState;

constexpr std::int64_t kSecond = 1'000'000'000;

// one_line() keeps free text from breaking a record: newlines become spaces, and inside the
// header's brackets a ']' would end them early.
std::string one_line(std::string_view text, bool in_brackets) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
    if (in_brackets && c == ']') c = ')';
  }
  return out;
}

bool selected(const TaskRecord& t, TaskSelection which) {
  if (t.state == TaskState::kDead) return false;
  return which == TaskSelection::kAll || t.leaked;
}

void write_debug1(std::ostream& os, const snapshot::Snapshot& s, TaskSelection which) {
  SnapshotSymbols sym(s);
  struct Record {
    int count = 0;
    snapshot::StackId stack = 0;
  };
  std::map<std::string, Record> records;  // Go's key: "@ 0x.. 0x..[\n# labels: {...}]"
  int total = 0;
  for (const auto& t : s.tasks) {
    if (!selected(t, which)) continue;
    ++total;
    std::string key = "@";
    for (std::uint64_t pc : sym.pcs(t.stack_id)) key += " " + hex(pc);
    if (!t.labels.empty()) key += "\n# labels: " + labels_json(t.labels);
    Record& r = records[key];
    ++r.count;
    r.stack = t.stack_id;
  }
  std::vector<std::pair<const std::string*, const Record*>> order;
  for (const auto& [k, r] : records) order.emplace_back(&k, &r);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second->count > b.second->count; });
  os << (which == TaskSelection::kLeaked ? "goroutineleak" : "goroutine") << " profile: total "
     << total << '\n';
  for (const auto& [key, r] : order) {
    os << r->count << ' ' << *key << '\n';
    write_stack_record(os, sym, sym.pcs(r->stack), is_runtime_frame);
  }
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
  if ((t.state == TaskState::kWaiting || t.state == TaskState::kSyscall) &&
      t.wait_since_unix_ns != 0 && now_ns > t.wait_since_unix_ns) {
    std::int64_t waited = now_ns - t.wait_since_unix_ns;
    if (waited >= 60 * kSecond)
      out += ", " + std::to_string(waited / (60 * kSecond)) + " minutes";
    else if (waited >= kSecond)
      out += ", " + std::to_string(waited / kSecond) + " seconds";
  }
  return out;
}

// function_name() is the frame's function, or its address when the snapshot has no symbol.
std::string function_name(const SnapshotSymbols& sym, std::uint64_t pc) {
  std::string_view f = sym.function(pc);
  return f.empty() ? hex(base::call_site(pc)) : std::string(f);
}

void write_file_line(std::ostream& os, const SnapshotSymbols& sym, std::uint64_t pc) {
  const auto* loc = sym.location(pc);
  os << '\t' << (loc && !loc->file.empty() ? loc->file : "??") << ':' << (loc ? loc->line : 0)
     << '\n';
}

void write_debug2(std::ostream& os, const snapshot::Snapshot& s, TaskSelection which) {
  SnapshotSymbols sym(s);
  std::vector<const TaskRecord*> tasks;
  for (const auto& t : s.tasks)
    if (selected(t, which)) tasks.push_back(&t);
  std::sort(tasks.begin(), tasks.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  bool first = true;
  for (const TaskRecord* t : tasks) {
    if (!first) os << '\n';
    first = false;
    os << "goroutine " << t->id << " [" << state_words(*t, s.time_unix_ns) << "]:\n";
    for (std::uint64_t pc : sym.pcs(t->stack_id)) {
      os << function_name(sym, pc) << "(...)\n";
      write_file_line(os, sym, pc);
    }
    // The creator is the innermost frame of the creation stack outside the runtime (the go()
    // call itself is runtime code), as Go names the function holding the go statement.
    const auto& create = sym.pcs(t->create_stack_id);
    if (!create.empty() || t->parent_id != 0) {
      std::size_t i = 0;
      while (i < create.size() && is_runtime_frame(sym.function(create[i]))) ++i;
      if (i == create.size()) i = 0;
      os << "created by " << (create.empty() ? "??" : function_name(sym, create[i]));
      if (t->parent_id != 0) os << " in goroutine " << t->parent_id;
      os << '\n';
      if (create.empty())
        os << "\t??:0\n";
      else
        write_file_line(os, sym, create[i]);
    }
    if (!t->labels.empty()) os << "# labels: " << labels_json(t->labels) << '\n';
    if (t->leaked)
      os << "# leaked: "
         << (t->leak_reason.empty() ? "proven never to wake" : one_line(t->leak_reason, false))
         << '\n';
  }
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
