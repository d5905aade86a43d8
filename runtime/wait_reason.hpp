// wait_reason.hpp: why a task is parked. One value per blocking site, each with Go's words where Go
// has them, so existing parsers (goleak, panicparse) read our dumps. Constants only; no state.
#pragma once

#include <cstdint>
#include <string_view>

namespace lw::rt {

enum class WaitReason : std::uint8_t {
  kNone,              // not waiting
  kChanSend,          // blocked in Chan::send
  kChanReceive,       // blocked in Chan::recv
  kChanSendNil,       // send on a nil (default-constructed) channel: never wakes
  kChanReceiveNil,    // receive on a nil channel: never wakes
  kSelect,            // blocked in select with at least one case
  kSelectNoCases,     // select with no cases: never wakes
  kSleep,             // sleep_for / sleep_until
  kIOWait,            // waiting for a file descriptor
  kMutexLock,         // Mutex::lock
  kWaitGroupWait,     // WaitGroup::wait
  kYield,             // gave up the worker with yield(); runnable again at once
  kCount,
};

// to_string() gives the Go text used in dumps: "chan receive", "sync.Mutex.Lock", ...
std::string_view to_string(WaitReason r) noexcept;

}  // namespace lw::rt
