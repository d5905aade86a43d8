// host_rule.hpp: which Host header values a server bound to loopback answers. A page on another
// site can make a browser send requests to 127.0.0.1 under its own name (DNS rebinding: the name
// first resolves to the attacker's address, then to 127.0.0.1) and read the answers, since to the
// browser they come from the page's own origin. Such a request carries the attacker's name in
// Host; answering only Host values that name loopback makes the trick fail. Pure functions;
// thread-safe; do not allocate.
#pragma once

#include <string_view>

namespace lw::http {

// is_loopback_address() is true for a literal IPv4 address in 127.0.0.0/8, or "::1".
bool is_loopback_address(std::string_view host);

// is_loopback_host_header() is true for a Host value naming loopback, with or without a port:
// "127.0.0.1", "127.1.2.3:6060", "localhost", "localhost:6060", "[::1]", "[::1]:6060" (any case).
bool is_loopback_host_header(std::string_view host);

}  // namespace lw::http
