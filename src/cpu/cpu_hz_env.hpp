// cpu_hz_env.hpp: the CPU profile's sampling rate from LEAKWATCH_CPU_HZ, for the whole-run profile
// and the HTTP endpoint's default. Thread-safe; never allocates.
#pragma once

namespace lw::cpu {

// configured_hz() is LEAKWATCH_CPU_HZ (1..kMaxHz), or kDefaultHz when it is unset; a value that
// is not a number in range is reported once on stderr and read as unset. The variable is read on
// the first call, which the start-up constructor makes, so a later setenv() changes nothing.
int configured_hz() noexcept;

}  // namespace lw::cpu
