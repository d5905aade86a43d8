// listen_socket.hpp: the server's listening socket: bound, listening, non-blocking, close-on-exec,
// with SO_REUSEADDR but not SO_REUSEPORT. Thread-safe (no state); allocates only the error text.
#pragma once

#include <string>

#include "leakwatch/result.hpp"

namespace lw::http {

struct ListenSocket {
  int fd = -1;
  int port = 0;           // the bound port (the chosen one when 0 was asked)
  bool loopback = false;  // bound to 127.0.0.0/8 or ::1 (or a v4-mapped 127.x)
};

// listen_on() resolves `host` (a literal address or a name such as "localhost"), binds the first
// address that accepts port `port` (0: any free one) and listens with `backlog`. The caller owns
// the descriptor.
Result<ListenSocket> listen_on(const std::string& host, int port, int backlog);

}  // namespace lw::http
