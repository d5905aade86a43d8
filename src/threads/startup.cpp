// Start-up: resolve glibc's functions, install the stack signal and give the main thread its slot
// while the process is still single-threaded (in a preloaded or linked program this constructor
// runs before main). The module's objects are linked whole into libleakwatch.so, so this runs
// though nothing references it.
#include "src/base/thread_role.hpp"
#include "src/threads/current_slot.hpp"
#include "src/threads/libc_threads.hpp"
#include "src/threads/stack_signal.hpp"

namespace lw::os_threads {
namespace {

void record_role(base::ThreadRole role) noexcept {
  if (ThreadSlot* slot = current_slot()) slot->role.store(static_cast<std::uint8_t>(role), std::memory_order_relaxed);
}

__attribute__((constructor)) void start_thread_registry() {
  base::set_thread_role_sink(record_role);
  libc_threads();
  current_slot();
  install_stack_signal();
}

}  // namespace
}  // namespace lw::os_threads
