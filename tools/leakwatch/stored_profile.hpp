// stored_profile.hpp: a stored snapshot rendered as one pprof profile (uncompressed protobuf), or
// what changed since a base snapshot (the base scaled by -1 and merged, as pprof -base does).
// Used by `export` and `serve`. Not thread-safe (uses the Store); allocates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "leakwatch/result.hpp"
#include "src/store/store.hpp"

namespace lw::cli {

// The built-in kinds, as a list for messages.
inline constexpr const char* kProfileKindList =
    "heap, allocs, goroutine, goroutineleak, threads, threadleak, threadcreate, block or mutex";

// stored_profile() is profile `kind` of snapshot `id`: a built-in kind, else the snapshot's custom
// profile of that name; with `base_id`, the delta against that snapshot.
Result<std::string> stored_profile(store::Store& st, std::int64_t id, const std::string& kind,
                                   std::optional<std::int64_t> base_id = std::nullopt);

}  // namespace lw::cli
