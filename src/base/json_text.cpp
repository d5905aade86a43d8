#include "src/base/json_text.hpp"

#include <cmath>
#include <cstdio>

namespace lw::base {

namespace {

// utf8_length() is the length of the valid UTF-8 sequence starting text[i] (lead byte >= 0x80),
// or 0 when it is not one (overlong forms and surrogates included).
std::size_t utf8_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  std::size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  if (c == 0xe0 && byte(i + 1) < 0xa0) return 0;  // overlong
  if (c == 0xed && byte(i + 1) >= 0xa0) return 0;  // surrogate
  if (c == 0xf0 && byte(i + 1) < 0x90) return 0;  // overlong
  if (c == 0xf4 && byte(i + 1) >= 0x90) return 0;  // above U+10FFFF
  return n;
}

}  // namespace

void json_escape(std::string_view text, std::string* out) {
  *out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // Valid UTF-8 passes through; an invalid byte becomes U+FFFD, as Go's encoder does, so the
      // document stays valid JSON whatever the command line holds.
      if (std::size_t n = utf8_length(text, i); n > 0) {
        out->append(text.substr(i, n));
        i += n - 1;
      } else {
        *out += "\\ufffd";
      }
      continue;
    }
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
  *out += '"';
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace lw::base
