// runtime.hpp: leakwatch's green-thread runtime: run(), go(), yield(), sleep_for(), fd waits.
// Thread-safe. go() allocates only when labels are given (the closure lives on the task's own
// stack); every blocking call parks the calling task, or blocks a plain thread where allowed.
//
// Tasks are Go's goroutines: M:N on worker threads, each with a pooled, lazily committed stack.
// Every live task is in a registry (tasks() in task_info.hpp) with its state, wait reason, exact
// wait time, creator and stacks, and a task blocked forever is proven leaked (docs/runtime.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "leakwatch/labels.hpp"
#include "leakwatch/result.hpp"

namespace lw {

// TaskId names one task; 0 is "no task" (a plain thread). Ids start at 1 (main) in each run().
enum class TaskId : std::uint64_t {};

struct RuntimeOptions {
  int workers = 0;                       // worker threads; 0 = the number of cores
  std::size_t stack_size = 256 * 1024;   // reserved per task, committed only as touched
};

// ChanError is thrown by a send on a closed channel and by closing a closed or nil channel, the
// cases where Go panics. An uncaught one ends the task and is reported with the task's id.
class ChanError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// SyncError is thrown where Go's sync package panics: a negative WaitGroup counter.
class SyncError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// run() runs `main` as task 1 on `options.workers` threads and returns when `main` returns, after
// every other task has finished or been unwound at its next blocking point (its destructors run;
// see docs/runtime.md). Returns 0, or 1 when `main` ended with an exception. One run() at a time.
int run(std::function<void()> main, RuntimeOptions options = {});

// current_task() is the calling task's id, TaskId{0} on a plain thread. Never allocates.
TaskId current_task() noexcept;

// yield() lets other runnable tasks run; the caller stays runnable. No-op on a plain thread.
void yield();

// sleep_for() parks the calling task for at least `d` (wait reason "sleep"). Plain threads sleep.
void sleep_for(std::chrono::nanoseconds d);

// wait_readable() / wait_writable() park the calling task until `fd` is ready (wait reason
// "IO wait"), through the runtime's epoll poller. One waiting task per fd at a time. Errors:
// called outside a task, or epoll refused the fd (e.g. a regular file).
Result<void> wait_readable(int fd);
Result<void> wait_writable(int fd);

namespace detail {

// TaskBody is a type-erased closure that spawn() moves onto the new task's stack.
struct TaskBody {
  std::size_t size;
  std::size_t align;
  void (*move_to)(void* dst, void* src);  // move-construct at dst from src
  void (*invoke)(void* self);
  void (*destroy)(void* self);
};

// spawn() starts a task running `body` (moved from `src`); `labels` null means "inherit".
TaskId spawn(const Labels* labels, const TaskBody& body, void* src);

template <class Fn>
inline constexpr TaskBody kTaskBody = {
    sizeof(Fn), alignof(Fn),
    [](void* dst, void* src) { ::new (dst) Fn(std::move(*static_cast<Fn*>(src))); },
    [](void* self) { (*static_cast<Fn*>(self))(); },
    [](void* self) { static_cast<Fn*>(self)->~Fn(); },
};

}  // namespace detail

// go() starts `fn` as a new task and returns its id. The closure is stored on the task's stack,
// so channel handles it holds belong to the new task (docs/runtime.md, "handle ownership").
// Callable from a task or from a plain thread while run() is active. Always inlined, so the
// creation stack recorded for the task starts in the function that calls go(). Called from a
// task whose worker already has more than 32 tasks queued, go() yields first (backpressure, so a
// spawn loop cannot queue without bound): the caller may resume on another worker thread, so do
// not hold a std::mutex or a thread-local's address across it.
template <class F>
[[gnu::always_inline]] inline TaskId go(F&& fn) {
  using Fn = std::decay_t<F>;
  Fn local(std::forward<F>(fn));
  return detail::spawn(nullptr, detail::kTaskBody<Fn>, &local);
}

// go(labels, fn) is go(fn) with these labels added to (or replacing keys of) the inherited ones
// (the caller's current labels, with_labels included). When the label-set table is full the new
// task keeps the inherited labels only (labels.hpp).
template <class F>
[[gnu::always_inline]] inline TaskId go(const Labels& labels, F&& fn) {
  using Fn = std::decay_t<F>;
  Fn local(std::forward<F>(fn));
  return detail::spawn(&labels, detail::kTaskBody<Fn>, &local);
}

}  // namespace lw
