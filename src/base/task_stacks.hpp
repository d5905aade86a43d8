// task_stacks.hpp: how the runtime's task stacks are told to code below it (MemStats' StackInuse
// and StackSys live in the heap module, which must not depend on the runtime). The runtime
// installs a reader when run() starts; without one the figures are zero. Thread-safe; never
// allocates.
#pragma once

#include <cstdint>

namespace lw::base {

struct TaskStackFigures {
  std::uint64_t inuse = 0;  // bytes of task stacks committed and in use
  std::uint64_t sys = 0;    // bytes of address space reserved for task stacks
  std::uint64_t tasks = 0;  // live tasks
};

using TaskStackReader = TaskStackFigures (*)() noexcept;

// set_task_stack_reader() installs `reader` (null: none).
void set_task_stack_reader(TaskStackReader reader) noexcept;

// read_task_stacks() calls the installed reader; zeros when there is none.
TaskStackFigures read_task_stacks() noexcept;

}  // namespace lw::base
