#include "runtime/wait_reason.hpp"

#include <array>

namespace lw::rt {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(WaitReason::kCount)> kNames = {
    "",                       // kNone
    "chan send",              // kChanSend
    "chan receive",           // kChanReceive
    "chan send (nil chan)",   // kChanSendNil
    "chan receive (nil chan)",// kChanReceiveNil
    "select",                 // kSelect
    "select (no cases)",      // kSelectNoCases
    "sleep",                  // kSleep
    "IO wait",                // kIOWait
    "sync.Mutex.Lock",        // kMutexLock
    "sync.WaitGroup.Wait",    // kWaitGroupWait
    "yield",                  // kYield
};

}  // namespace

std::string_view to_string(WaitReason r) noexcept {
  auto i = static_cast<std::size_t>(r);
  return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

}  // namespace lw::rt
