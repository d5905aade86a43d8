// labels.hpp: pprof labels a program sets on the code it runs (Go's pprof.Do and pprof.Label).
// Thread-safe. with_labels() allocates only the first time a distinct label set is seen (the set
// is interned for the life of the process); current_labels() copies the caller's set.
//
// Labels belong to the calling task, or to the calling plain thread outside a task. They show up
// in task and thread dumps, on CPU samples and on sampled heap allocations, and tasks started
// while they are set inherit them. Distinct label sets are bounded (docs/runtime.md, "Labels"):
// once the table is full a new set is not applied and the caller keeps the labels it had.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lw {

// Labels are pprof labels: key/value pairs shown in dumps and profiles, inherited by children.
using Labels = std::vector<std::pair<std::string, std::string>>;

// current_labels() returns the calling task's (or plain thread's) labels, sorted by key.
Labels current_labels();

namespace detail {

// enter_labels() makes the caller's labels its current ones plus `labels` (a key given again
// replaces the old value) and returns what to give back to leave_labels().
std::uint32_t enter_labels(const Labels& labels);
// leave_labels() restores the caller's labels to `previous`. Never allocates.
void leave_labels(std::uint32_t previous) noexcept;

// LabelScope holds labels for its lifetime: restored on return and on unwinding alike.
class LabelScope {
 public:
  explicit LabelScope(const Labels& labels) : previous_(enter_labels(labels)) {}
  ~LabelScope() { leave_labels(previous_); }
  LabelScope(const LabelScope&) = delete;
  LabelScope& operator=(const LabelScope&) = delete;

 private:
  std::uint32_t previous_;
};

}  // namespace detail

// with_labels() runs `fn` with `labels` added to (or replacing keys of) the caller's current
// labels, and returns what `fn` returns. The caller's labels are back as they were once `fn`
// returns or throws. Tasks started inside `fn` inherit the labels. Callable from a task (which may
// park inside `fn` and resume on another worker) and from a plain thread.
template <class F>
decltype(auto) with_labels(const Labels& labels, F&& fn) {
  detail::LabelScope scope(labels);
  return std::forward<F>(fn)();
}

}  // namespace lw
