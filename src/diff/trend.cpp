#include "src/diff/trend.hpp"

#include <cmath>

namespace lw::diff {

Trend fit_trend(std::span<const double> xs, std::span<const double> ys) noexcept {
  Trend t;
  t.n = xs.size() < ys.size() ? xs.size() : ys.size();
  if (t.n < 2) return t;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < t.n; ++i) mx += xs[i], my += ys[i];
  mx /= static_cast<double>(t.n);
  my /= static_cast<double>(t.n);
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i = 0; i < t.n; ++i) {
    double dx = xs[i] - mx, dy = ys[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx == 0) return t;
  t.slope = sxy / sxx;
  t.intercept = my - t.slope * mx;
  double sse = syy - t.slope * sxy;
  if (sse < 0) sse = 0;
  t.r2 = syy > 0 ? 1.0 - sse / syy : 1.0;
  if (t.n > 2) t.slope_stderr = std::sqrt(sse / static_cast<double>(t.n - 2) / sxx);
  return t;
}

}  // namespace lw::diff
