// The thread views in Go's text shapes, written with the goroutine dump's pieces (dump_text.hpp)
// so that the two dumps read alike and tools that read one read most of the other.
//
// debug=2 header: `thread TID "NAME" [WORDS]:`. The name is quoted (Go's %q) because thread names
// may hold spaces; WORDS are the state (the wait reason when waiting, "syscall NAME" in a system
// call), " (leaked)" when proven, the wait time as the goroutine dump prints it, then the wait's
// detail ("pipe:[99]", "held by thread 17401"). The detail is printed as the kernel names it, ']'
// included ("pipe:[99]"): the header ends at the line's last "]:". A header is never split:
// newlines in free text become spaces.
//
// "created by F in thread T" (or "in goroutine N" for a thread started from a task): F is the
// innermost frame of the pthread_create call's stack that is neither leakwatch's (the
// interposer) nor the C++ library's (std::thread, std::async and the containers that construct
// them), i.e. the user's function that asked for the thread, as Go names the function holding
// the go statement.
//
// A thread without a stack (it blocks the stack signal, did not answer in time, or has exited)
// gets one line `\t(stack unavailable: why)` where frames would be; in debug=1 it is counted under
// no stack ("N @ 0x0") with a comment line naming its state and why.
#include "src/profile/thread_text.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "src/profile/dump_text.hpp"

namespace lw::profile {
namespace {

using snapshot::ThreadRecord;
using snapshot::ThreadState;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.rfind(prefix, 0) == 0;
}

// is_thread_start_frame() says whether a creation-stack frame is thread-starting machinery
// rather than the code that asked for the thread.
bool is_thread_start_frame(std::string_view f) {
  // A function template's demangled name starts with its return type ("void std::vector<...>::
  // _M_realloc_insert<...>(...)"): look past it.
  const std::size_t space = f.find(' ');
  if (space != std::string_view::npos && space < f.find('(') && space < f.find('<')) f.remove_prefix(space + 1);
  return is_runtime_frame(f) || starts_with(f, "pthread_create") ||
         starts_with(f, "__pthread_create") || starts_with(f, "std::");
}

// stack_unavailable() is why a thread has no stack, for the dump's placeholder line.
std::string stack_unavailable(const ThreadRecord& t) {
  std::string out = "stack unavailable";
  if (!t.stack_error.empty()) out += ": " + one_line(t.stack_error, false);
  return out;
}

void append_thread(std::string& out, TracebackText& text, const ThreadRecord& t,
                   std::int64_t now_ns) {
  out += "thread ";
  out += std::to_string(t.tid);
  out += ' ';
  out += go_quote(t.name);
  out += " [";
  out += thread_header_words(t, now_ns);
  out += "]:\n";
  if (text.has_stack(t.stack_id)) {
    out += text.frames(t.stack_id);
  } else {
    out += "\t(";
    out += stack_unavailable(t);
    out += ")\n";
  }
  if (t.create_stack_id != 0 || t.creator_tid != 0 || t.creator_task != 0) {
    std::string in_what;
    if (t.creator_task != 0)
      in_what = " in goroutine " + std::to_string(t.creator_task);
    else if (t.creator_tid != 0)
      in_what = " in thread " + std::to_string(t.creator_tid);
    text.append_created_by(out, t.create_stack_id, in_what);
  }
  append_labels_and_proof(out, t.labels, t.leaked, t.leak_reason);
}

void write_debug1(std::ostream& os, const snapshot::Snapshot& s, ThreadSelection which,
                  bool include_internal) {
  SnapshotSymbols sym(s);
  CountRecords records;
  for (const auto& t : s.threads) {
    if (!thread_selected(t, which, include_internal)) continue;
    if (!sym.pcs(t.stack_id).empty())
      records.add(t.stack_id, t.labels);
    else
      records.add(0, t.labels, thread_state_name(t) + ", " + stack_unavailable(t));
  }
  records.write(os, which == ThreadSelection::kLeaked ? "threadleak" : "threads", sym,
                is_runtime_frame);
}

void write_debug2(std::ostream& os, const snapshot::Snapshot& s, ThreadSelection which,
                  bool include_internal) {
  std::vector<const ThreadRecord*> threads;
  for (const auto& t : s.threads)
    if (thread_selected(t, which, include_internal)) threads.push_back(&t);
  std::sort(threads.begin(), threads.end(),
            [](const auto* a, const auto* b) { return a->tid < b->tid; });
  TracebackText text(s, is_thread_start_frame);
  std::string out;
  for (std::size_t i = 0; i < threads.size(); ++i) {
    if (i) out += '\n';
    append_thread(out, text, *threads[i], s.time_unix_ns);
    flush_dump(os, out);
  }
  flush_dump(os, out, /*force=*/true);
}

}  // namespace

bool is_user_thread(const ThreadRecord& t) {
  return !t.internal && !t.runtime_worker;
}

bool thread_selected(const ThreadRecord& t, ThreadSelection which, bool include_internal) {
  if (!include_internal && !is_user_thread(t)) return false;
  return which == ThreadSelection::kAll || t.leaked;
}

std::string thread_state_name(const ThreadRecord& t) {
  switch (t.state) {
    case ThreadState::kWaiting:
      return t.wait_reason.empty() ? "waiting" : one_line(t.wait_reason, true);
    case ThreadState::kSyscall:
      return t.wait_reason.empty() ? "syscall" : "syscall " + one_line(t.wait_reason, true);
    case ThreadState::kExited:
      return t.join == snapshot::JoinState::kJoinable ? "exited, unjoined" : "exited";
    default:
      return std::string(snapshot::to_string(t.state));
  }
}

std::string thread_header_words(const ThreadRecord& t, std::int64_t now_ns) {
  std::string out = thread_state_name(t);
  if (t.leaked) out += " (leaked)";
  if (t.state == ThreadState::kWaiting || t.state == ThreadState::kSyscall) {
    out += wait_words(t.wait_since_unix_ns, now_ns);
    if (!t.wait_detail.empty()) out += ", " + one_line(t.wait_detail, false);
  }
  return out;
}

void write_thread_text(std::ostream& os, const snapshot::Snapshot& s, int debug,
                       ThreadSelection which, bool include_internal) {
  if (debug >= 2)
    write_debug2(os, s, which, include_internal);
  else
    write_debug1(os, s, which, include_internal);
}

void write_threadcreate_text(std::ostream& os, const snapshot::Snapshot& s) {
  SnapshotSymbols sym(s);
  CountRecords records;
  if (s.threads_tracked) {
    for (const auto& site : s.thread_creates) {
      if (site.count <= 0) continue;
      bool has_stack = !sym.pcs(site.stack_id).empty();
      records.add(has_stack ? site.stack_id : 0, {}, has_stack ? "" : "no creation stack",
                  site.count);
    }
  } else {
    for (const auto& t : s.threads)
      records.add(0, {}, "thread " + std::to_string(t.tid) + " " + t.name);
  }
  records.write(os, "threadcreate", sym, is_runtime_frame);
}

}  // namespace lw::profile
