// thread_list.hpp: the reader behind lw::threads(), with the knobs the capture layer needs
// (/metrics wants states without stacks or descriptor names). Thread-safe; allocates.
#pragma once

#include <cstdint>
#include <vector>

#include "leakwatch/thread_info.hpp"
#include "src/threads/stack_signal.hpp"
#include "src/threads/thread_table.hpp"

namespace lw::os_threads {

struct ListOptions {
  bool stacks = true;                // signal each thread for its stack
  bool leaked_stacks = false;        // without `stacks`: the stacks of threads proven leaked only
                                     // (they never run, so after the first the cache answers)
  bool describe_descriptors = true;  // name the descriptor a syscall waits on (/proc/self/fd)
  std::int64_t stack_timeout_ns = kDefaultStackTimeoutNs;
};

// list_threads() is lw::threads() with options.
std::vector<ThreadInfo> list_threads(const ListOptions& options);

}  // namespace lw::os_threads
