// fiber.cpp: context switching on Boost.Context's fcontext (jump_fcontext / make_fcontext).
//
// Why fcontext and not boost::context::fiber or ucontext: fiber allocates its control block on
// the stack it manages and hides the saved context, which we need for the dump-time frame-pointer
// walk; ucontext's swapcontext makes a rt_sigprocmask syscall per switch (~10x slower). fcontext is
// a few instructions and hands us the saved stack pointer. Sanitizers are told about every switch
// (ASan's start/finish_switch_fiber, TSan's fiber API) so they keep tracking stacks correctly.
#include "runtime/fiber.hpp"

#include <boost/context/detail/exception.hpp>
#include <boost/context/detail/fcontext.hpp>

#include <cstdio>
#include <cstring>
#include <exception>

#include "runtime/task_cancelled.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define LW_FIBER_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define LW_FIBER_TSAN 1
#endif

namespace lw::rt {
namespace ctx = boost::context::detail;
namespace {

// SwitchArgs travels with a jump so the resumed side can store the suspended side's context.
struct SwitchArgs {
  FiberContext* from;
  FiberContext* to;
};

inline void before_switch([[maybe_unused]] FiberContext* from, [[maybe_unused]] FiberContext* to,
                          [[maybe_unused]] bool exiting) noexcept {
#ifdef LW_FIBER_ASAN
  __sanitizer_start_switch_fiber(exiting ? nullptr : &from->san_fake_stack, to->stack_lo, to->stack_size);
#endif
#ifdef LW_FIBER_TSAN
  __tsan_switch_to_fiber(to->san_fiber, 0);
#endif
}

inline void after_switch([[maybe_unused]] FiberContext* self) noexcept {
#ifdef LW_FIBER_ASAN
  __sanitizer_finish_switch_fiber(self->san_fake_stack, nullptr, nullptr);
#endif
}

void trampoline(ctx::transfer_t t) noexcept {
  auto* a = static_cast<SwitchArgs*>(t.data);
  a->from->sp = t.fctx;
  FiberContext* self = a->to;
  after_switch(self);
  self->entry(self->arg);
  std::abort();  // entry ends with fiber_exit()
}

}  // namespace

void fiber_init_thread(FiberContext* self) noexcept {
  *self = FiberContext{};
#ifdef LW_FIBER_TSAN
  self->san_fiber = __tsan_get_current_fiber();
#endif
#ifdef LW_FIBER_ASAN
  // ASan needs the thread's real stack bounds when switching back to it.
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &self->stack_lo, &self->stack_size);
    pthread_attr_destroy(&attr);
  }
#endif
}

void fiber_make(FiberContext* f, void* lo, std::size_t size, void (*entry)(void*), void* arg) noexcept {
  f->stack_lo = lo;
  f->stack_size = size;
  f->entry = entry;
  f->arg = arg;
  f->san_fake_stack = nullptr;
  f->sp = ctx::make_fcontext(static_cast<char*>(lo) + size, size, trampoline);
#ifdef LW_FIBER_TSAN
  f->san_fiber = __tsan_create_fiber(0);
#endif
}

void fiber_release([[maybe_unused]] FiberContext* f) noexcept {
#ifdef LW_FIBER_TSAN
  if (f->san_fiber != nullptr) __tsan_destroy_fiber(f->san_fiber);
  f->san_fiber = nullptr;
#endif
}

void fiber_switch(FiberContext* from, FiberContext* to) noexcept {
  SwitchArgs a{from, to};
  before_switch(from, to, false);
  ctx::transfer_t t = ctx::jump_fcontext(to->sp, &a);
  auto* back = static_cast<SwitchArgs*>(t.data);
  back->from->sp = t.fctx;
  after_switch(from);
}

void fiber_exit(FiberContext* from, FiberContext* to) noexcept {
  SwitchArgs a{from, to};
  before_switch(from, to, true);
  ctx::jump_fcontext(to->sp, &a);
  std::abort();  // a finished context is never resumed
}

bool run_guarded(void (*fn)(void*), void* arg, char* what, std::size_t cap, bool* cancelled) {
  *cancelled = false;
  try {
    fn(arg);
    return true;
  } catch (const ctx::forced_unwind&) {
    throw;  // never swallowed: Boost.Context unwinds its own contexts with it
  } catch (const TaskCancelled&) {
    *cancelled = true;
    return true;
  } catch (const std::exception& e) {
    std::snprintf(what, cap, "%s", e.what());
  } catch (...) {
    std::snprintf(what, cap, "unknown exception");
  }
  return false;
}

}  // namespace lw::rt
