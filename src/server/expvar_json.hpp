// expvar_json.hpp: /debug/vars as Go's expvar serves it: {"cmdline": [...], "memstats": {...}}
// with runtime.MemStats' JSON field names. Pure; thread-safe; allocates.
#pragma once

#include <string>
#include <string_view>

#include "src/snapshot/model.hpp"

namespace lw::server {

// write_expvar_json() renders s.process.cmdline and s.mem. MemStats fields that describe Go's
// garbage collector are published as Go's zero values so that Go decoders read the object whole.
std::string write_expvar_json(const snapshot::Snapshot& s);

}  // namespace lw::server
