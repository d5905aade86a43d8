// cpu_profile.hpp: Go's CPU profile from a sampling (cpu_sampler.hpp): stacks symbolized like the
// heap profile's, each sample labelled with the labels current when it was taken and its
// thread's name. Thread-safe; allocates (run it on the HTTP path or at stop, never in a hot path).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "leakwatch/result.hpp"
#include "src/cpu/cpu_sampler.hpp"

namespace lw::cpu {

// build_profile() is the profile of `s` as an uncompressed perftools.profiles.Profile.
std::string build_profile(const Sampled& s);

// write_profile_file() writes the profile of `s`, gzipped, to `path` (created or truncated).
Result<void> write_profile_file(const std::string& path, const Sampled& s);

// profile_for() samples the whole process at `hz` for `seconds` and returns the profile
// (uncompressed). `wait(seconds)` does the waiting and returns false when it was cut short (a
// server shutting down): then the sampling is stopped and an error returned. Errors as
// start_sampling().
Result<std::string> profile_for(std::int64_t seconds, int hz, const std::function<bool(std::int64_t)>& wait);

}  // namespace lw::cpu
