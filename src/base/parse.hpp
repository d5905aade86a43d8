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

// parse_duration_ns("1m30s") -> 90e9. Go's forms (time.ParseDuration): terms of digits with an
// optional fraction and a unit, ns, us, ms, s, m, h ("0.5s", "1.5m", "1m30s", "250ms", "2h"); a
// bare number is seconds ("30", "0.5"). Negative durations are rejected.
std::optional<std::int64_t> parse_duration_ns(std::string_view s) noexcept;

// parse_size_bytes("256MiB") -> 268435456: a whole number of bytes, or one with a binary suffix
// KiB, MiB, GiB (also K, M, G, and KB, MB, GB read as the same powers of 1024).
std::optional<std::int64_t> parse_size_bytes(std::string_view s) noexcept;

// parse_bool("1"/"true"/"0"/"false").
std::optional<bool> parse_bool(std::string_view s) noexcept;

}  // namespace lw::base
