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

std::optional<std::int64_t> parse_duration_ns(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::uint64_t bare = 0;
  if (int n = take_digits(s, &bare); n > 0 && static_cast<std::size_t>(n) == s.size()) {
    if (bare > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 1'000'000'000))
      return std::nullopt;
    return static_cast<std::int64_t>(bare) * 1'000'000'000;
  }
  std::int64_t total = 0;
  while (!s.empty()) {
    std::uint64_t v = 0;
    int n = take_digits(s, &v);
    if (n <= 0) return std::nullopt;
    s.remove_prefix(static_cast<std::size_t>(n));
    std::int64_t unit = 0;
    if (s.starts_with("ns")) unit = 1, s.remove_prefix(2);
    else if (s.starts_with("us")) unit = 1'000, s.remove_prefix(2);
    else if (s.starts_with("ms")) unit = 1'000'000, s.remove_prefix(2);
    else if (s.starts_with("s")) unit = 1'000'000'000, s.remove_prefix(1);
    else if (s.starts_with("m")) unit = 60'000'000'000, s.remove_prefix(1);
    else if (s.starts_with("h")) unit = 3'600'000'000'000, s.remove_prefix(1);
    else return std::nullopt;
    if (v > static_cast<std::uint64_t>((std::numeric_limits<std::int64_t>::max() - total) / unit))
      return std::nullopt;
    total += static_cast<std::int64_t>(v) * unit;
  }
  return total;
}

std::optional<bool> parse_bool(std::string_view s) noexcept {
  if (s == "1" || s == "true") return true;
  if (s == "0" || s == "false") return false;
  return std::nullopt;
}

}  // namespace lw::base
