// stack_trace.hpp: a captured stack as raw return addresses, in a fixed-size plain struct.
// A value type; never allocates, so it can be filled inside malloc hooks and at task switch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "src/base/call_site.hpp"

namespace lw::unwind {

inline constexpr std::size_t kMaxFrames = 64;

// StackTrace holds return addresses, innermost first. pc[i] for i < depth are valid.
struct StackTrace {
  std::uint32_t depth = 0;
  std::uintptr_t pc[kMaxFrames];
};

using base::call_site;

}  // namespace lw::unwind
