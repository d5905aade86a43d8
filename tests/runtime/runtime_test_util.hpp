// runtime_test_util.hpp: helpers for the runtime tests. Not thread-safe; allocates.
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "leakwatch/runtime.hpp"
#include "leakwatch/task_info.hpp"
#include "src/unwind/symbolizer.hpp"

namespace lwtest {

// find_task() returns the record of `id`, if live.
inline std::optional<lw::TaskInfo> find_task(lw::TaskId id) {
  for (auto& t : lw::tasks())
    if (t.id == id) return t;
  return std::nullopt;
}

// wait_for_state() yields until task `id` is in `state` (bounded; empty if it never gets there).
inline std::optional<lw::TaskInfo> wait_for_state(lw::TaskId id, lw::TaskState state) {
  for (int i = 0; i < 20000; ++i) {
    auto t = find_task(id);
    if (t && t->state == state) return t;
    lw::yield();
    if (i > 100) std::this_thread::sleep_for(std::chrono::microseconds(100));  // not lw::sleep_for: tests may freeze the clock
  }
  return std::nullopt;
}

// wait_until() yields/sleeps until pred() holds (bounded: ~2 s).
template <class Pred>
inline void wait_until(Pred pred) {
  for (int i = 0; i < 20000 && !pred(); ++i) {
    lw::yield();
    if (i > 100) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

// symbolize() names each frame (demangled), one per line.
inline std::string symbolize(const std::vector<std::uintptr_t>& pcs) {
  std::ostringstream out;
  for (auto pc : pcs) out << lw::unwind::process_symbolizer().lookup(pc - 1).function << "\n";
  return out.str();
}

}  // namespace lwtest
