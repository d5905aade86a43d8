// proc_task.hpp: what the kernel says about this process's threads: /proc/self/task/TID/{stat,
// syscall}, the per-thread CPU clock, and what a descriptor is (/proc/self/fd, /proc/self/net/tcp*).
// Read at capture time only. Thread-safe; allocates.
#pragma once

#include <time.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace lw::os_threads {

// ProcThread is one thread as /proc shows it.
struct ProcThread {
  int tid = 0;
  char state = '?';            // R, S, D, T, t, Z, X
  std::string name;            // comm
  std::uint64_t cpu_ns = 0;    // user + system CPU time
  long syscall = -1;           // the blocking syscall's number; -1 running or unknown
  std::uint64_t args[6] = {};  // its arguments
};

// list_thread_ids() lists /proc/self/task.
std::vector<int> list_thread_ids();

// read_proc_thread() fills `out` for `tid`; false when the thread is gone. With `want_syscall`
// false it skips /proc/self/task/TID/syscall (the caller knows what the thread waits for).
bool read_proc_thread(int tid, ProcThread* out, bool want_syscall = true);

// thread_cpu_clock() is the kernel's CPU-time clock of thread `tid` of this process (nanoseconds,
// where /proc's utime/stime count 10 ms ticks): for clock_gettime and timer_create.
clockid_t thread_cpu_clock(int tid) noexcept;

// read_thread_cpu_ns() reads thread `tid`'s CPU clock (user + system, nanoseconds); 0 if gone.
std::uint64_t read_thread_cpu_ns(int tid);

// syscall_name() is the x86-64 name of syscall `nr` ("read", "epoll_wait"), or "syscall N".
std::string syscall_name(long nr);

// syscall_fd() is the descriptor argument of a blocking syscall (read's fd, accept4's socket,
// epoll_wait's epoll fd), or -1 when it has none.
int syscall_fd(long nr, const std::uint64_t args[6]);

// DescriptorNames says what this process's descriptors are: "socket:[123] 127.0.0.1:5000->
// 127.0.0.1:40000" (TCP peers from /proc/self/net/tcp and tcp6, read once per object), "pipe:[9]",
// "anon_inode:[eventpoll]", or a path.
class DescriptorNames {
 public:
  std::string describe(int fd);

 private:
  bool tcp_loaded_ = false;
  std::unordered_map<std::uint64_t, std::string> tcp_;  // inode -> "local->remote"
};

}  // namespace lw::os_threads
