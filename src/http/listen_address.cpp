#include "src/http/listen_address.hpp"

#include "src/base/parse.hpp"

namespace lw::http {

Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress a;
  std::string_view port_text = text;
  if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    std::string_view host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    else if (host.find(':') != std::string_view::npos)
      return make_error("listen address '" + std::string(text) + "': put an IPv6 host in brackets, e.g. [::1]:6060");
    if (!host.empty()) a.host = std::string(host);
  }
  auto port = base::parse_int64(port_text);
  if (!port || *port < 0 || *port > 65535)
    return make_error("listen address '" + std::string(text) + "': port must be a number from 0 to 65535");
  a.port = static_cast<int>(*port);
  return a;
}

}  // namespace lw::http
