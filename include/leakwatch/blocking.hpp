// blocking.hpp: marking a call that blocks its worker thread (a system call or a library call
// outside the runtime's poller: a blocking read, a synchronous database client, a lock of another
// library), so that while it runs the task is "in a blocking call": dumps show it as Go shows a
// goroutine in a system call (`goroutine 7 [syscall, 3 minutes]:`) with its stack and how long it
// has been there, and snapshots record it, instead of "running" with no stack.
//
// Thread-safe; never allocates. Outside a task (a plain thread) it does nothing.
//
//   ssize_t n = lw::blocking([&] { return ::read(fd, buf, sizeof buf); });
//
// The call still holds its worker thread: prefer lw::wait_readable()/wait_writable() for fds.
#pragma once

#include <utility>

namespace lw {

// BlockingCall marks the calling task for its lifetime. Not copyable or movable: the stack shown
// is the one of the scope that made it.
class BlockingCall {
 public:
  BlockingCall() noexcept;
  ~BlockingCall();
  BlockingCall(const BlockingCall&) = delete;
  BlockingCall& operator=(const BlockingCall&) = delete;

 private:
  void* task_;
};

// blocking() runs fn() inside a BlockingCall and returns what it returns.
template <class F>
decltype(auto) blocking(F&& fn) {
  BlockingCall mark;
  return std::forward<F>(fn)();
}

}  // namespace lw
