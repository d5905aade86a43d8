// task_dump.cpp: lw::write_task_dump / write_task_leak_dump (the public Go-style goroutine text)
// and the writer behind the dump signal. Capture the tasks only (no heap), symbolize, write.
#include <unistd.h>

#include <sstream>
#include <string>

#include "leakwatch/task_info.hpp"
#include "runtime/scheduler.hpp"
#include "src/base/clock.hpp"
#include "src/base/log.hpp"
#include "src/profile/goroutine_text.hpp"
#include "src/snapshot/capture.hpp"
#include "src/snapshot/capture_tasks.hpp"
#include "src/snapshot/stack_interner.hpp"

namespace lw {
namespace {

snapshot::Snapshot task_snapshot() {
  snapshot::Snapshot s;
  s.time_unix_ns = base::wall_now_ns();
  snapshot::StackInterner stacks(&s);
  snapshot::capture_tasks(&s, &stacks);
  s.mappings = snapshot::read_mappings();
  snapshot::symbolize_stacks(&s);
  return s;
}

void write_dump_to_fd(int fd) {
  std::ostringstream os;
  write_task_dump(os, 2);
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

}  // namespace lw
