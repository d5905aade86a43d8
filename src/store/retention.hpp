// retention.hpp: how many snapshots the store keeps per target (`--keep 100`) or for how long
// (`--keep 7d`). Pure; thread-safe; parse_retention() does not allocate.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lw::store {

struct Retention {
  std::int64_t max_count = 0;   // keep this many newest snapshots per target; 0 = no limit
  std::int64_t max_age_ns = 0;  // drop snapshots older than this; 0 = no limit
};

// parse_retention() reads "N" (a count, N >= 1) or a duration: Go's units (ns..h) plus "d" for
// days ("7d", "36h", "90m"). Nothing on malformed or zero input.
std::optional<Retention> parse_retention(std::string_view s) noexcept;

}  // namespace lw::store
