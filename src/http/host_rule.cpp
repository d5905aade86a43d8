// "localhost" is accepted because browsers and curl send it for http://localhost:port/ and
// RFC 6761 (section 6.3) has it always resolve to loopback; every other name is refused, since a
// name is exactly what a rebinding attack controls. Addresses must be the literal dotted-quad
// form: "127.1" or "0x7f.0.0.1" may resolve to loopback but no browser sends them for a page it
// fetched by a name.
#include "src/http/host_rule.hpp"

namespace lw::http {
namespace {

// dotted_quad() reads "a.b.c.d" (each 0..255, no leading '+', at most 3 digits) into `first`.
bool dotted_quad(std::string_view s, int* first) {
  int parts = 0;
  while (true) {
    std::size_t dot = s.find('.');
    std::string_view p = s.substr(0, dot);
    if (p.empty() || p.size() > 3) return false;
    int v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
    if (parts == 0) *first = v;
    ++parts;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  for (char c : p)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

bool is_loopback_address(std::string_view host) {
  int first = -1;
  if (dotted_quad(host, &first)) return first == 127;
  return host == "::1";
}

bool is_loopback_host_header(std::string_view host) {
  std::string_view name = host;
  if (!host.empty() && host.front() == '[') {
    std::size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    name = host.substr(1, close - 1);
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !valid_port(rest.substr(1)))) return false;
    return name == "::1";
  }
  if (std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    if (!valid_port(host.substr(colon + 1))) return false;
    name = host.substr(0, colon);
  }
  if (iequals(name, "localhost")) return true;
  int first = -1;
  return dotted_quad(name, &first) && first == 127;
}

}  // namespace lw::http
