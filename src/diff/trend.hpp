// trend.hpp: least-squares trend of a series, with the figures needed to call it significant.
// Pure functions; thread-safe; do not allocate.
#pragma once

#include <cstddef>
#include <span>

namespace lw::diff {

// Trend is y ≈ intercept + slope·x over the points given.
struct Trend {
  double slope = 0;
  double intercept = 0;
  double slope_stderr = 0;  // standard error of the slope; 0 with fewer than 3 points
  double r2 = 0;            // fraction of variance explained; 1 for a perfect line
  std::size_t n = 0;
};

// fit_trend() fits ordinary least squares. xs and ys have the same length; fewer than 2 points,
// or all xs equal, give a zero Trend with n set.
Trend fit_trend(std::span<const double> xs, std::span<const double> ys) noexcept;

}  // namespace lw::diff
