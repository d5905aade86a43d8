// codec.hpp: Snapshot <-> bytes (the protobuf message in snapshot.proto).
// Pure functions; thread-safe; allocate. decode() never trusts its input: a truncated or corrupt
// message, or one from a newer incompatible format, is an Error, never a crash.
#pragma once

#include <string>
#include <string_view>

#include "leakwatch/result.hpp"
#include "src/snapshot/model.hpp"

namespace lw::snapshot {

// encode() serializes `s`.
std::string encode(const Snapshot& s);

// decode() parses bytes made by encode() (of this or an older format version).
Result<Snapshot> decode(std::string_view bytes);

}  // namespace lw::snapshot
