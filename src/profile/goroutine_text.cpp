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
#include <unordered_map>
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
  // Group by (stack id, rendered labels) first, so that the key text Go sorts by is built once
  // per group rather than once per task (100k tasks in a few hundred groups is the usual shape).
  struct Group {
    int count = 0;
    snapshot::StackId stack = 0;
    std::string labels;
  };
  std::map<std::pair<snapshot::StackId, std::string>, int> group_of;
  std::vector<Group> groups;
  int total = 0;
  for (const auto& t : s.tasks) {
    if (!selected(t, which)) continue;
    ++total;
    std::string labels = t.labels.empty() ? std::string() : labels_json(t.labels);
    auto [it, fresh] = group_of.try_emplace({t.stack_id, labels}, static_cast<int>(groups.size()));
    if (fresh) groups.push_back({0, t.stack_id, std::move(labels)});
    ++groups[static_cast<std::size_t>(it->second)].count;
  }
  // Go's key: "@ 0x.. 0x..[\n# labels: {...}]"; equal keys (equal stacks under two ids) merge.
  std::map<std::string, Group> records;
  for (const Group& g : groups) {
    std::string key = "@";
    for (std::uint64_t pc : sym.pcs(g.stack)) key += " " + hex(pc);
    if (!g.labels.empty()) key += "\n# labels: " + g.labels;
    Group& r = records[key];
    r.count += g.count;
    r.stack = g.stack;
  }
  std::vector<std::pair<const std::string*, const Group*>> order;
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

// append_function() appends the frame's function, or its address when it has no symbol.
void append_function(std::string& out, const SnapshotSymbols& sym, std::uint64_t pc) {
  std::string_view f = sym.function(pc);
  if (f.empty())
    out += hex(base::call_site(pc));
  else
    out += f;
}

void append_file_line(std::string& out, const SnapshotSymbols& sym, std::uint64_t pc) {
  const auto* loc = sym.location(pc);
  out += '\t';
  out += loc && !loc->file.empty() ? std::string_view(loc->file) : std::string_view("??");
  out += ':';
  out += std::to_string(loc ? loc->line : 0);
  out += '\n';
}

// Debug2Writer renders tasks into a buffer, each distinct stack's frames and each creation
// site's line once: a dump of 100k tasks parked at a few hundred sites renders a few hundred
// stacks, not 100k.
class Debug2Writer {
 public:
  explicit Debug2Writer(const snapshot::Snapshot& s) : sym_(s) {}

  void task(std::string& out, const TaskRecord& t, std::int64_t now_ns) {
    out += "goroutine ";
    out += std::to_string(t.id);
    out += " [";
    out += state_words(t, now_ns);
    out += "]:\n";
    out += frames(t.stack_id);
    if (t.create_stack_id != 0 || t.parent_id != 0) {
      const std::string& site = creator(t.create_stack_id);
      out += site.substr(0, site.find('\n'));
      if (t.parent_id != 0) {
        out += " in goroutine ";
        out += std::to_string(t.parent_id);
      }
      out += site.substr(site.find('\n'));
    }
    if (!t.labels.empty()) {
      out += "# labels: ";
      out += labels_json(t.labels);
      out += '\n';
    }
    if (t.leaked) {
      out += "# leaked: ";
      out += t.leak_reason.empty() ? "proven never to wake" : one_line(t.leak_reason, false);
      out += '\n';
    }
  }

 private:
  const std::string& frames(snapshot::StackId id) {
    auto [it, fresh] = frames_.try_emplace(id);
    if (fresh) {
      for (std::uint64_t pc : sym_.pcs(id)) {
        append_function(it->second, sym_, pc);
        it->second += "(...)\n";
        append_file_line(it->second, sym_, pc);
      }
    }
    return it->second;
  }

  // creator() is "created by F\n\tfile:line\n" for a creation stack. F is its innermost frame
  // outside the runtime (the go() call itself is runtime code), as Go names the function
  // holding the go statement.
  const std::string& creator(snapshot::StackId id) {
    auto [it, fresh] = creators_.try_emplace(id);
    if (fresh) {
      std::string& out = it->second;
      const auto& pcs = sym_.pcs(id);
      std::size_t i = 0;
      while (i < pcs.size() && is_runtime_frame(sym_.function(pcs[i]))) ++i;
      if (i == pcs.size()) i = 0;
      out = "created by ";
      if (pcs.empty()) {
        out += "??\n\t??:0\n";
      } else {
        append_function(out, sym_, pcs[i]);
        out += '\n';
        append_file_line(out, sym_, pcs[i]);
      }
    }
    return it->second;
  }

  SnapshotSymbols sym_;
  std::unordered_map<snapshot::StackId, std::string> frames_;
  std::unordered_map<snapshot::StackId, std::string> creators_;
};

void write_debug2(std::ostream& os, const snapshot::Snapshot& s, TaskSelection which) {
  std::vector<const TaskRecord*> tasks;
  for (const auto& t : s.tasks)
    if (selected(t, which)) tasks.push_back(&t);
  std::sort(tasks.begin(), tasks.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  Debug2Writer w(s);
  std::string out;
  constexpr std::size_t kFlushAt = 1 << 20;
  out.reserve(kFlushAt + 4096);
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (i) out += '\n';
    w.task(out, *tasks[i], s.time_unix_ns);
    if (out.size() >= kFlushAt) {
      os.write(out.data(), static_cast<std::streamsize>(out.size()));
      out.clear();
    }
  }
  os.write(out.data(), static_cast<std::streamsize>(out.size()));
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
