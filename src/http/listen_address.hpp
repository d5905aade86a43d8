// listen_address.hpp: parsing "host:port" as given in LEAKWATCH_HTTP or --http.
// Pure functions; thread-safe; allocate only the result.
#pragma once

#include <string>
#include <string_view>

#include "leakwatch/result.hpp"

namespace lw::http {

struct ListenAddress {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 0;                     // 0 = let the OS pick
};

// parse_listen_address() accepts "host:port", ":port" (loopback), "port", and "[v6]:port".
Result<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace lw::http
