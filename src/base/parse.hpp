// parse.hpp: strict parsers for numbers, durations and sizes given by users (query parameters,
// environment variables, CLI flags). Pure functions; thread-safe; never allocate. Each returns
// nothing on any malformed input (empty, sign where none belongs, trailing junk, overflow) so the
// caller can say exactly what was wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lw::base {

// parse_int64("42") -> 42; accepts an optional leading '-'.
std::optional<std::int64_t> parse_int64(std::string_view s) noexcept;

// parse_duration_ns("1m30s") -> 90e9. Go's units: ns, us, ms, s, m, h; a bare number is seconds.
// Negative durations are rejected.
std::optional<std::int64_t> parse_duration_ns(std::string_view s) noexcept;

// parse_bool("1"/"true"/"0"/"false").
std::optional<bool> parse_bool(std::string_view s) noexcept;

}  // namespace lw::base
