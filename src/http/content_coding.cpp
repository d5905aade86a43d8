#include "src/http/content_coding.hpp"

#include <string>

namespace lw::http {

namespace {

std::string trimmed_lower(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  int gzip = -1, star = -1;  // -1 not listed, 0 refused (q=0), 1 accepted
  std::size_t start = 0;
  while (start <= accept_encoding.size()) {
    std::size_t end = accept_encoding.find(',', start);
    if (end == std::string_view::npos) end = accept_encoding.size();
    std::string_view item = accept_encoding.substr(start, end - start);
    std::size_t semi = item.find(';');
    std::string coding = trimmed_lower(item.substr(0, semi));
    if (coding == "gzip" || coding == "x-gzip" || coding == "*") {
      bool zero_q = false;
      if (semi != std::string_view::npos) {
        std::string q = trimmed_lower(item.substr(semi + 1));
        if (q.rfind("q=", 0) == 0) {
          q.erase(0, 2);
          while (!q.empty() && q.back() == ' ') q.pop_back();
          zero_q = !q.empty() && q[0] == '0' && q.find_first_of("123456789") == std::string::npos;
        }
      }
      (coding == "*" ? star : gzip) = zero_q ? 0 : 1;
    }
    start = end + 1;
  }
  return gzip == 1 || (gzip == -1 && star == 1);
}

}  // namespace lw::http
