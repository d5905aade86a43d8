// gzip.hpp: gzip framing for served profiles (pprof's debug=0 format is gzip-compressed protobuf).
// Pure functions; thread-safe; allocate. gunzip() rejects truncated or corrupt input with an Error.
#pragma once

#include <string>
#include <string_view>

#include "leakwatch/result.hpp"

namespace lw::profile {

// gzip() compresses `data` into a gzip member (RFC 1952).
std::string gzip(std::string_view data);

// gunzip() decompresses one gzip member; plain (non-gzip) input is an error. `max_output` bounds
// the result so a hostile input cannot exhaust memory.
Result<std::string> gunzip(std::string_view data, std::size_t max_output = std::size_t{1} << 30);

}  // namespace lw::profile
