// call_site.hpp: the one place that applies pprof's "address - 1" rule. Pure; never allocates.
// Captured stacks hold return addresses; the call instruction that a frame is executing lies just
// before its return address, so symbolizers and pprof Location.address take return_address - 1.
#pragma once

#include <cstdint>

namespace lw::base {

// call_site() turns a return address into an address inside the call instruction.
constexpr std::uint64_t call_site(std::uint64_t return_address) noexcept {
  return return_address == 0 ? 0 : return_address - 1;
}

}  // namespace lw::base
