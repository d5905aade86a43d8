#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "src/diff/trend.hpp"

using lw::diff::fit_trend;

TEST_CASE("a perfect line is found exactly") {
  std::vector<double> x{0, 1, 2, 3, 4}, y{10, 12, 14, 16, 18};
  auto t = fit_trend(x, y);
  CHECK(t.n == 5);
  CHECK(t.slope == doctest::Approx(2));
  CHECK(t.intercept == doctest::Approx(10));
  CHECK(t.r2 == doctest::Approx(1));
  CHECK(t.slope_stderr == doctest::Approx(0).epsilon(1e-9));
}

TEST_CASE("a flat noisy series has a slope near zero and low r2") {
  std::vector<double> x{0, 1, 2, 3, 4, 5}, y{5, 7, 5, 7, 5, 7};
  auto t = fit_trend(x, y);
  CHECK(std::abs(t.slope) < t.slope_stderr * 3);
  CHECK(t.r2 < 0.3);
}

TEST_CASE("too few points or constant x give a zero trend") {
  std::vector<double> one{1}, x{3, 3, 3}, y{1, 2, 3};
  CHECK(fit_trend(one, one).slope == 0);
  CHECK(fit_trend(x, y).slope == 0);
}
