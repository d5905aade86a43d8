#include "src/store/retention.hpp"

#include "src/base/parse.hpp"

namespace lw::store {

std::optional<Retention> parse_retention(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  Retention r;
  bool all_digits = true;
  for (char c : s) all_digits = all_digits && c >= '0' && c <= '9';
  if (all_digits) {
    auto n = base::parse_int64(s);
    if (!n || *n <= 0) return std::nullopt;
    r.max_count = *n;
    return r;
  }
  if (s.back() == 'd') {
    auto days = base::parse_int64(s.substr(0, s.size() - 1));
    constexpr std::int64_t kNsPerDay = 86'400LL * 1'000'000'000LL;
    if (!days || *days <= 0 || *days > INT64_MAX / kNsPerDay) return std::nullopt;
    r.max_age_ns = *days * kNsPerDay;
    return r;
  }
  auto ns = base::parse_duration_ns(s);
  if (!ns || *ns <= 0) return std::nullopt;
  r.max_age_ns = *ns;
  return r;
}

}  // namespace lw::store
