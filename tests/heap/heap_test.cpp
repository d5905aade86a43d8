#include <doctest/doctest.h>

#include <cmath>

#include "src/heap/sample_weight.hpp"

using namespace lw::heap;

TEST_CASE("rate 1 records every allocation at weight 1") {
  CHECK(sample_probability(1, 1) == 1.0);
  CHECK(sample_weight(4096, 1) == 1.0);
  CHECK(sample_weight(4096, 0) == 1.0);
}

TEST_CASE("small allocations weigh about rate/size, huge ones about 1") {
  const std::uint64_t rate = 524288;
  CHECK(sample_weight(16, rate) == doctest::Approx(rate / 16.0).epsilon(0.001));
  CHECK(sample_weight(64ull << 20, rate) == doctest::Approx(1.0).epsilon(1e-9));
  // p = 1 - e^-1 at size == rate.
  CHECK(sample_probability(rate, rate) == doctest::Approx(1.0 - std::exp(-1.0)));
}
