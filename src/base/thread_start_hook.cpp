#include "src/base/thread_start_hook.hpp"

#include <atomic>

namespace lw::base {
namespace {

constinit std::atomic<ThreadStartHook> g_hook{nullptr};

}  // namespace

void set_thread_start_hook(ThreadStartHook hook) noexcept { g_hook.store(hook, std::memory_order_release); }

void run_thread_start_hook() noexcept {
  if (ThreadStartHook hook = g_hook.load(std::memory_order_acquire)) hook();
}

}  // namespace lw::base
