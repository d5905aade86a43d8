// stack_trace.hpp: a captured stack as raw return addresses, in a fixed-size plain struct.
// A value type; never allocates, so it can be filled inside malloc hooks and at task switch.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lw::unwind {

inline constexpr std::size_t kMaxFrames = 64;

// StackTrace holds return addresses, innermost first. pc[i] for i < depth are valid.
struct StackTrace {
  std::uint32_t depth = 0;
  std::uintptr_t pc[kMaxFrames];
};

// call_site() turns a return address into an address inside the call instruction, which is what
// symbolizers and pprof's Location.address want. The "address - 1" rule lives here only.
constexpr std::uintptr_t call_site(std::uintptr_t return_address) noexcept {
  return return_address == 0 ? 0 : return_address - 1;
}

}  // namespace lw::unwind
