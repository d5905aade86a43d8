#include "src/base/parse.hpp"

#include <limits>

namespace lw::base {
namespace {

// Parses a run of digits at the front of s into *out; returns the count of digits read, or -1 on
// overflow.
int take_digits(std::string_view s, std::uint64_t* out) noexcept {
  std::uint64_t v = 0;
  int n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    if (v > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) return -1;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
    ++n;
  }
  *out = v;
  return n;
}

}  // namespace

std::optional<std::int64_t> parse_int64(std::string_view s) noexcept {
  bool neg = false;
  if (!s.empty() && s.front() == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  std::uint64_t v = 0;
  int n = take_digits(s, &v);
  if (n <= 0 || static_cast<std::size_t>(n) != s.size()) return std::nullopt;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (v > kMax + (neg ? 1 : 0)) return std::nullopt;
  if (neg) return v == kMax + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(v);
  return static_cast<std::int64_t>(v);
}

// One term of a duration is Go's: digits, an optional fraction (".5", "1.", not "." alone),
// then a unit. The fraction is kept to the nanosecond: up to 18 digits are read, the rest only
// checked to be digits.
std::optional<std::int64_t> parse_duration_ns(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t total = 0;
  bool first = true;
  while (!s.empty()) {
    std::uint64_t whole = 0;
    int n = take_digits(s, &whole);
    if (n < 0) return std::nullopt;
    s.remove_prefix(static_cast<std::size_t>(n));
    std::uint64_t frac = 0, scale = 1;
    int frac_digits = 0;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
        if (frac_digits < 18) {
          frac = frac * 10 + static_cast<std::uint64_t>(s.front() - '0');
          scale *= 10;
        }
        ++frac_digits;
        s.remove_prefix(1);
      }
    }
    if (n == 0 && frac_digits == 0) return std::nullopt;
    std::int64_t unit = 0;
    if (s.starts_with("ns")) unit = 1, s.remove_prefix(2);
    else if (s.starts_with("us")) unit = 1'000, s.remove_prefix(2);
    else if (s.starts_with("ms")) unit = 1'000'000, s.remove_prefix(2);
    else if (s.starts_with("s")) unit = 1'000'000'000, s.remove_prefix(1);
    else if (s.starts_with("m")) unit = 60'000'000'000, s.remove_prefix(1);
    else if (s.starts_with("h")) unit = 3'600'000'000'000, s.remove_prefix(1);
    else if (first && s.empty()) unit = 1'000'000'000;  // a bare number is seconds
    else return std::nullopt;
    first = false;
    auto u = static_cast<std::uint64_t>(unit);
    if (whole > static_cast<std::uint64_t>(kMax - total) / u) return std::nullopt;
    std::int64_t term = static_cast<std::int64_t>(whole * u);
    // frac / scale of a unit, without overflow: unit <= 3.6e12 and scale <= 1e18.
    long double part = static_cast<long double>(frac) * static_cast<long double>(u) / static_cast<long double>(scale);
    auto extra = static_cast<std::int64_t>(part);
    if (term > kMax - total - extra) return std::nullopt;
    total += term + extra;
  }
  return total;
}

std::optional<std::int64_t> parse_size_bytes(std::string_view s) noexcept {
  std::uint64_t v = 0;
  int n = take_digits(s, &v);
  if (n <= 0) return std::nullopt;
  std::string_view unit = s.substr(static_cast<std::size_t>(n));
  int shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "K" || unit == "KB" || unit == "KiB") shift = 10;
  else if (unit == "M" || unit == "MB" || unit == "MiB") shift = 20;
  else if (unit == "G" || unit == "GB" || unit == "GiB") shift = 30;
  else return std::nullopt;
  if (v > (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) >> shift)) return std::nullopt;
  return static_cast<std::int64_t>(v << shift);
}

std::optional<bool> parse_bool(std::string_view s) noexcept {
  if (s == "1" || s == "true") return true;
  if (s == "0" || s == "false") return false;
  return std::nullopt;
}

}  // namespace lw::base
