// profile_query.hpp: the query parameters of /debug/pprof/<profile> (debug, seconds, gc, internal), checked
// strictly so that a malformed or out-of-range value gets a 400 naming the parameter instead of
// being read as 0 the way Go's handler does. Pure; thread-safe; allocates only error messages.
#pragma once

#include <cstdint>

#include "leakwatch/result.hpp"
#include "src/http/http_message.hpp"

namespace lw::server {

inline constexpr std::int64_t kDefaultMaxProfileSeconds = 300;

struct ProfileQuery {
  int debug = 0;              // 0 = gzipped profile.proto; 1, 2 = text
  std::int64_t seconds = 0;   // > 0: a delta profile over that many seconds; 0: none asked
  bool include_internal = false;  // internal=1: the thread views include leakwatch's own threads
};

// parse_profile_query() reads debug (0, 1 or 2), seconds (1..max_seconds), gc (an integer >= 0,
// accepted and ignored: there is no collector to run) and internal (0 or 1; the profiles that do
// not list threads ignore it). An empty value counts as absent, as in Go.
Result<ProfileQuery> parse_profile_query(const http::Request& req,
                                         std::int64_t max_seconds = kDefaultMaxProfileSeconds);

}  // namespace lw::server
