#include "src/heap/sample_weight.hpp"

#include <cmath>

namespace lw::heap {

double sample_probability(std::uint64_t size, std::uint64_t rate) noexcept {
  if (rate <= 1) return 1.0;
  if (size == 0) size = 1;
  return -std::expm1(-static_cast<double>(size) / static_cast<double>(rate));
}

double sample_weight(std::uint64_t size, std::uint64_t rate) noexcept {
  return 1.0 / sample_probability(size, rate);
}

}  // namespace lw::heap
