// check.hpp: always-on and debug-only invariant checks.
// Thread-safe. Never allocates: a failed check writes a constant message with write(2) and aborts,
// so it is usable inside malloc hooks and on the task-switch path.
#pragma once

namespace lw::base {

// fatal() writes "leakwatch: fatal: <what> (<file>:<line>)" to stderr and aborts. Never returns.
[[noreturn]] void fatal(const char* what, const char* file, int line) noexcept;

}  // namespace lw::base

// LW_CHECK(cond, "constant message"): always on.
#define LW_CHECK(cond, msg)                                             \
  do {                                                                  \
    if (__builtin_expect(!(cond), 0)) ::lw::base::fatal(msg, __FILE__, __LINE__); \
  } while (0)

// LW_DCHECK: checked in debug builds only (NDEBUG off).
#ifdef NDEBUG
#define LW_DCHECK(cond, msg) \
  do {                       \
    (void)sizeof(cond);      \
  } while (0)
#else
#define LW_DCHECK(cond, msg) LW_CHECK(cond, msg)
#endif
