#include "src/base/task_stacks.hpp"

#include <atomic>

namespace lw::base {
namespace {

constinit std::atomic<TaskStackReader> g_reader{nullptr};

}  // namespace

void set_task_stack_reader(TaskStackReader reader) noexcept { g_reader.store(reader, std::memory_order_release); }

TaskStackFigures read_task_stacks() noexcept {
  TaskStackReader r = g_reader.load(std::memory_order_acquire);
  return r != nullptr ? r() : TaskStackFigures{};
}

}  // namespace lw::base
