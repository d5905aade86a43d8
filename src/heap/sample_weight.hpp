// sample_weight.hpp: how much of the true total one sampled allocation stands for.
// Pure functions; thread-safe; never allocate.
//
// With a byte countdown of mean R (exponential gaps, as Go's MemProfileRate), an allocation of s
// bytes is sampled with probability p = 1 - exp(-s/R). Counting each sample as 1/p objects and s/p
// bytes gives unbiased estimates for every site, whatever mix of sizes it allocates (the same
// correction as Go's scaleHeapSample, but applied per sample rather than per site average).
#pragma once

#include <cstdint>

namespace lw::heap {

// sample_probability() is the chance that an allocation of `size` bytes is sampled at `rate`.
double sample_probability(std::uint64_t size, std::uint64_t rate) noexcept;

// sample_weight() is 1 / sample_probability(): 1 at rate <= 1 (every allocation recorded).
double sample_weight(std::uint64_t size, std::uint64_t rate) noexcept;

}  // namespace lw::heap
