// request_head.hpp: reading one HTTP/1.1 request head (request line and header fields) as its bytes
// arrive, under fixed budgets: the request line, the total size of the header fields and their
// count. Only the fields the server uses are kept (Host, Authorization, Accept-Encoding and the
// framing fields); every other field is counted against the budgets and dropped, so a head costs
// at most one line of memory however it is sent. Not thread-safe (one per connection); allocates
// at most max_request_line or max_header_bytes per head.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lw::http {

struct HeadLimits {
  std::size_t max_request_line = 8 * 1024;   // longer: 414
  std::size_t max_header_line = 8 * 1024;    // one header line; longer: 431
  std::size_t max_header_bytes = 16 * 1024;  // all header lines together, CRLFs included; more: 431
  int max_header_count = 64;                 // more fields: 431
};

// RequestHead is what was read. Fields absent from the request are empty / false.
struct RequestHead {
  std::string method;
  std::string target;  // as sent: "/path?query"
  bool http11 = false;  // HTTP/1.1 (else HTTP/1.0)
  bool has_host = false;
  std::string host;
  bool has_authorization = false;
  std::string authorization;
  std::string accept_encoding;
  bool has_content_length = false;
  std::uint64_t content_length = 0;
  bool has_transfer_encoding = false;
  bool expect_continue = false;
  bool connection_close = false;
};

enum class HeadState { kNeedMore, kDone, kError };

class RequestHeadParser {
 public:
  explicit RequestHeadParser(HeadLimits limits = {}) : limits_(limits) {}

  // feed() reads from `data` up to the end of the head (the empty line) and returns how many bytes
  // it used; bytes after the head (a body, a pipelined request) are left to the caller. After
  // kDone or kError it uses nothing. Never throws on bad input: it sets kError and a status.
  std::size_t feed(std::string_view data);

  HeadState state() const { return state_; }
  // error_status() is the status to answer with after kError: 400, 414, 431, 505.
  int error_status() const { return error_status_; }
  const char* error_text() const { return error_text_; }
  const RequestHead& head() const { return head_; }
  // take_head() moves the head out after kDone (so a connection never keeps two copies).
  RequestHead take_head() { return std::move(head_); }
  // started() is true once any byte of this request (other than leading empty lines) arrived.
  bool started() const { return started_; }
  // reset() makes it ready for the next request on the connection.
  void reset();

 private:
  void line_done(std::string_view line);
  void request_line(std::string_view line);
  void header_line(std::string_view line);
  void fail(int status, const char* text);

  HeadLimits limits_;
  HeadState state_ = HeadState::kNeedMore;
  int error_status_ = 0;
  const char* error_text_ = "";
  RequestHead head_;
  std::string line_;  // the line being read, without its end
  bool started_ = false;
  bool in_headers_ = false;
  std::size_t header_bytes_ = 0;
  int header_count_ = 0;
};

// Target is a request target split and decoded: `path` percent-decoded, `params` the decoded
// query (`+` is a space, as in forms), `raw_query` the text after '?' as sent.
struct Target {
  bool ok = false;
  std::string path;
  std::string raw_query;
  std::vector<std::pair<std::string, std::string>> params;
};

// parse_target() splits an origin-form target ("/a/b?x=1"). ok is false for anything else, or for
// a bad percent escape or a NUL in the path.
Target parse_target(std::string_view target);

}  // namespace lw::http
