#include "src/base/thread_role.hpp"

#include <atomic>

namespace lw::base {
namespace {

constinit std::atomic<ThreadRoleSink> g_sink{nullptr};

}  // namespace

void set_thread_role_sink(ThreadRoleSink sink) noexcept { g_sink.store(sink, std::memory_order_release); }

void set_thread_role(ThreadRole role) noexcept {
  ThreadRoleSink sink = g_sink.load(std::memory_order_acquire);
  if (sink != nullptr) sink(role);
}

}  // namespace lw::base
