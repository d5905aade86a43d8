// thread_start_hook.hpp: a function every new thread runs first, installed by a module that needs
// to meet each thread as it starts (the CPU profiler gives it a timer), called by the thread
// registry's start trampoline (src/threads), which modules above it may not include otherwise.
// Thread-safe; never allocates.
#pragma once

namespace lw::base {

// The hook runs on the new thread, before the program's start routine. It must not allocate,
// block or throw (it is on the thread-creation hot path).
using ThreadStartHook = void (*)() noexcept;

// set_thread_start_hook() installs `hook` (nullptr removes it).
void set_thread_start_hook(ThreadStartHook hook) noexcept;

// run_thread_start_hook() runs the installed hook, if any.
void run_thread_start_hook() noexcept;

}  // namespace lw::base
