// raw_http.hpp: HTTP over plain loopback sockets, for tests that must send what no well-behaved
// client sends (floods, slow bytes, pipelined requests, idle sockets) and time each answer.
// For tests only; loopback only (127.0.0.1); allocates.
#pragma once

#include <chrono>
#include <string>

namespace lw::test {

// port_of() is the port in "http://127.0.0.1:PORT".
int port_of(const std::string& url);

// connect_loopback() opens a TCP connection to 127.0.0.1:port; -1 on failure. `nonblocking`
// returns at once with the connection under way.
int connect_loopback(int port, bool nonblocking = false);

// exchange() sends `request` and reads until the server closes or `timeout` passes; what was read.
std::string exchange(int port, const std::string& request, std::chrono::milliseconds timeout);

// status_of_response() is the status code of the first response in `bytes`, 0 if none.
int status_of_response(const std::string& bytes);

// probe_metrics() is true when GET /metrics gets a whole 200 answer within `timeout`.
bool probe_metrics(int port, std::chrono::milliseconds timeout);

// rss_kb() is VmRSS of process `pid` in KiB.
long rss_kb(int pid);

// open_fds() is how many descriptors process `pid` has open.
int open_fds(int pid);

}  // namespace lw::test
