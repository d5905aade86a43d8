// task_dump.cpp: lw::write_task_dump / write_task_leak_dump / write_thread_dump (the public
// Go-style dumps) and the writer behind the dump signal, which writes the tasks and then the
// threads. Capture the tasks or threads only (no heap), symbolize, write.
#include <unistd.h>

#include <sstream>
#include <string>

#include "leakwatch/task_info.hpp"
#include "leakwatch/thread_info.hpp"
#include "runtime/scheduler.hpp"
#include "src/base/clock.hpp"
#include "src/base/log.hpp"
#include "src/profile/goroutine_text.hpp"
#include "src/profile/thread_text.hpp"
#include "src/snapshot/capture.hpp"
#include "src/snapshot/capture_tasks.hpp"
#include "src/snapshot/capture_threads.hpp"
#include "src/snapshot/stack_interner.hpp"

namespace lw {
namespace {

snapshot::Snapshot dump_snapshot(bool tasks, bool threads) {
  snapshot::Snapshot s;
  s.time_unix_ns = base::wall_now_ns();
  snapshot::StackInterner stacks(&s);
  if (tasks) snapshot::capture_tasks(&s, &stacks);
  if (threads) snapshot::capture_threads(&s, &stacks);
  s.mappings = snapshot::read_mappings();
  snapshot::symbolize_stacks(&s);
  return s;
}

snapshot::Snapshot task_snapshot() { return dump_snapshot(true, false); }

void write_dump_to_fd(int fd) {
  std::ostringstream os;
  const snapshot::Snapshot s = dump_snapshot(true, true);
  profile::write_goroutine_text(os, s, 2, profile::TaskSelection::kAll);
  os << "\n";
  profile::write_thread_text(os, s, 2, profile::ThreadSelection::kAll);
  std::string text = os.str();
  if (!base::write_all(fd, text.data(), text.size())) base::log_write("cannot write the task dump");
}

// Registers the signal writer whenever this object is linked in (always in libleakwatch.so).
const bool kRegistered = [] {
  rt::set_dump_writer(write_dump_to_fd);
  return true;
}();

}  // namespace

void write_task_dump(std::ostream& os, int debug) {
  (void)kRegistered;
  profile::write_goroutine_text(os, task_snapshot(), debug, profile::TaskSelection::kAll);
}

void write_task_leak_dump(std::ostream& os, int debug) {
  profile::write_goroutine_text(os, task_snapshot(), debug, profile::TaskSelection::kLeaked);
}

void write_thread_dump(std::ostream& os, int debug) {
  profile::write_thread_text(os, dump_snapshot(false, true), debug, profile::ThreadSelection::kAll);
}

}  // namespace lw
