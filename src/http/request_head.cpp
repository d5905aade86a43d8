// The head is read line by line, and each line is judged as soon as it ends: a field the server
// needs is kept, any other one only counted. That is what lets the transport refuse a flood of
// header lines after max_header_bytes instead of after the whole flood (cpp-httplib 0.11 capped
// each line at 8 KB but not their sum: 200 MB of lines were read and kept), and check the token as
// soon as the Authorization line is in.
//
// What RFC 9112 asks of a server and is done here: leading empty lines are ignored (section 2.2);
// a bare LF ends a line as CRLF does; whitespace between a field name and the colon is an error
// (5.1), and so is obsolete line folding (5.2, we choose 400); a request with both Content-Length
// and Transfer-Encoding, or two Content-Lengths that differ, is an error (6.3); two Host fields,
// or none in HTTP/1.1, are an error (3.2).
#include "src/http/request_head.hpp"

namespace lw::http {
namespace {

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// has_token() is true when the comma-separated list `value` holds `token` (any case).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// decode() percent-decodes `s` (and `+` as a space when `form`); false on a bad escape.
bool decode(std::string_view s, bool form, std::string* out) {
  out->clear();
  out->reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return false;
      int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && form) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

}  // namespace

void RequestHeadParser::reset() {
  state_ = HeadState::kNeedMore;
  error_status_ = 0;
  error_text_ = "";
  head_ = RequestHead{};
  line_.clear();
  started_ = false;
  in_headers_ = false;
  header_bytes_ = 0;
  header_count_ = 0;
}

void RequestHeadParser::fail(int status, const char* text) {
  state_ = HeadState::kError;
  error_status_ = status;
  error_text_ = text;
  line_.clear();
  line_.shrink_to_fit();
}

std::size_t RequestHeadParser::feed(std::string_view data) {
  std::size_t used = 0;
  while (state_ == HeadState::kNeedMore && used < data.size()) {
    std::string_view rest = data.substr(used);
    std::size_t nl = rest.find('\n');
    std::string_view piece = rest.substr(0, nl);  // without the LF, or all of it
    // The budget is checked on what the line would be, before keeping any of it.
    const std::size_t line_size = line_.size() + piece.size() + (nl == std::string_view::npos ? 0 : 1);
    if (!in_headers_) {
      if (line_size > limits_.max_request_line + 1) {  // +1: the line's own LF
        fail(414, "request line too long");
        return used + piece.size();
      }
    } else if (header_bytes_ + line_size > limits_.max_header_bytes) {
      fail(431, "request header fields too large");
      return used + piece.size();
    } else if (line_size > limits_.max_header_line + 1) {
      fail(431, "request header field too large");
      return used + piece.size();
    }
    if (nl == std::string_view::npos) {
      line_.append(piece);
      used += piece.size();
      if (!line_.empty() && line_ != "\r") started_ = true;  // a lone CR may be a leading empty line
      break;
    }
    used += nl + 1;
    line_.append(piece);
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (in_headers_) header_bytes_ += line_size;
    std::string line = std::move(line_);
    line_.clear();
    line_done(line);
  }
  return used;
}

void RequestHeadParser::line_done(std::string_view line) {
  if (!in_headers_) {
    if (line.empty() && !started_) return;  // empty lines before a request are ignored
    started_ = true;
    request_line(line);
    return;
  }
  if (line.empty()) {
    if (head_.http11 && !head_.has_host) return fail(400, "missing Host header");
    if (head_.has_transfer_encoding && head_.has_content_length)
      return fail(400, "both Content-Length and Transfer-Encoding");
    state_ = HeadState::kDone;
    return;
  }
  if (++header_count_ > limits_.max_header_count) return fail(431, "too many request header fields");
  header_line(line);
}

void RequestHeadParser::request_line(std::string_view line) {
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(400, "malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  for (char c : method)
    if (!is_token_char(c)) return fail(400, "malformed request line");
  if (target.empty()) return fail(400, "malformed request line");
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return fail(400, "malformed request target");
  if (version == "HTTP/1.1") head_.http11 = true;
  else if (version == "HTTP/1.0") head_.http11 = false;
  else if (version.substr(0, 5) == "HTTP/") return fail(505, "HTTP version not supported");
  else return fail(400, "malformed request line");
  head_.method = std::string(method);
  head_.target = std::string(target);
  in_headers_ = true;
}

void RequestHeadParser::header_line(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') return fail(400, "obsolete header line folding");
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return fail(400, "malformed header field");
  std::string_view name = line.substr(0, colon);
  for (char c : name)
    if (!is_token_char(c)) return fail(400, "malformed header field name");
  std::string_view value = trim(line.substr(colon + 1));
  for (char c : value)
    if (c == '\0' || c == '\r' || c == '\n') return fail(400, "malformed header field value");

  if (iequals(name, "Host")) {
    if (head_.has_host) return fail(400, "more than one Host header");
    head_.has_host = true;
    head_.host = std::string(value);
  } else if (iequals(name, "Authorization")) {
    if (head_.has_authorization) return fail(400, "more than one Authorization header");
    head_.has_authorization = true;
    head_.authorization = std::string(value);
  } else if (iequals(name, "Accept-Encoding")) {
    if (!head_.accept_encoding.empty()) head_.accept_encoding += ", ";
    head_.accept_encoding.append(value);
  } else if (iequals(name, "Content-Length")) {
    if (value.empty() || value.size() > 18) return fail(400, "malformed Content-Length");
    std::uint64_t n = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return fail(400, "malformed Content-Length");
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (head_.has_content_length && head_.content_length != n) return fail(400, "conflicting Content-Length");
    head_.has_content_length = true;
    head_.content_length = n;
  } else if (iequals(name, "Transfer-Encoding")) {
    head_.has_transfer_encoding = true;
  } else if (iequals(name, "Expect")) {
    if (iequals(value, "100-continue")) head_.expect_continue = true;
  } else if (iequals(name, "Connection")) {
    if (has_token(value, "close")) head_.connection_close = true;
  }
}

Target parse_target(std::string_view target) {
  Target t;
  if (target.empty() || target.front() != '/') return t;
  std::size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (!decode(path, false, &t.path) || t.path.find('\0') != std::string::npos) return t;
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    if (std::size_t hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
    t.raw_query = std::string(query);
    while (!query.empty()) {
      std::size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      if (!pair.empty()) {
        std::size_t eq = pair.find('=');
        std::string k, v;
        if (!decode(pair.substr(0, eq), true, &k)) return t;
        if (eq != std::string_view::npos && !decode(pair.substr(eq + 1), true, &v)) return t;
        t.params.emplace_back(std::move(k), std::move(v));
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  t.ok = true;
  return t;
}

}  // namespace lw::http
