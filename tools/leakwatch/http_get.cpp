// The CLI's HTTP client.
//
// Why our own: cpp-httplib's client has a connect timeout and a per-read timeout, so a target that
// drips one byte every half second never trips it, and it inflates a gzip body whole, so a 1 MB
// body that expands to 1 GiB drove `leakwatch snapshot --timeout 3s` to 1 GB of RSS for 11 s. A
// scraper must bound both time and memory whatever the target sends. Here every wait is a poll()
// against one deadline taken at the start of the call, and every byte goes through one sink that
// counts it against the cap before it is kept.
//
// Choices:
// - One connection per request, `Connection: close`: a watcher scrapes every N seconds, a kept-alive
//   socket buys nothing and a dead target would hold it half open. (Read-to-close bodies work.)
// - Blocking-style code over non-blocking sockets: each call runs on its own thread (watch runs one
//   per target), so a state machine would buy nothing; poll() gives the deadline.
// - The response head is parsed here, not with src/server's request parser: that one reads
//   requests (a request line, the fields a server keeps) and lives in the server library, which
//   the CLI must not link (it brings the in-process tracker). They share no code worth a module.
// - gzip is inflated as it arrives into a BodyBuffer reserved at the cap, so a bomb stops at the
//   cap with at most the cap in memory, and a body near the cap is never copied.
// - Names are resolved under the same deadline (resolve_host.hpp): a numeric host (the usual
//   127.0.0.1:6060) at once, a DNS name asynchronously, given up at the deadline.
#include "tools/leakwatch/http_get.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

#include "src/base/clock.hpp"
#include "src/base/parse.hpp"
#include "tools/leakwatch/resolve_host.hpp"

namespace lw::cli {
namespace {

constexpr std::size_t kMaxHeadBytes = 64 * 1024;   // status line and fields together
constexpr int kMaxHeaderFields = 100;
constexpr std::size_t kMaxLineBytes = 4 * 1024;    // a chunk-size line, a trailer line
constexpr std::size_t kErrorBodyBytes = 4 * 1024;  // kept of a non-2xx body, to quote it
constexpr std::size_t kReadBytes = 64 * 1024;
constexpr int kMaxInterim = 8;                     // 1xx heads skipped before the real one

std::string errno_text(int e) {
  std::string s = std::strerror(e);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// quoted() is at most 60 bytes of what the target sent, printable.
std::string quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 60)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  return out + (s.size() > 60 ? "...'" : "'");
}

// duration_text() is Go's short form: "500ms", "2s", "2.5s", "1m30s".
std::string duration_text(std::int64_t ns) {
  if (ns < base::kNanosPerSecond) return std::to_string(ns / base::kNanosPerMilli) + "ms";
  if (ns % base::kNanosPerSecond != 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns) / 1e9);
    std::string s = buf;
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s + "s";
  }
  std::int64_t s = ns / base::kNanosPerSecond;
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h";
  if (s >= 60) out += std::to_string(s / 60 % 60) + "m";
  return out + std::to_string(s % 60) + "s";
}

// Connection is one TCP connection with the request's deadline; every wait is bounded by it.
class Connection {
 public:
  Connection(std::string_view authority, std::int64_t timeout_ns)
      : authority_(authority), timeout_ns_(timeout_ns), deadline_(base::now_ns() + timeout_ns) {}
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Error fail(const std::string& what) const { return make_error(authority_ + ": " + what); }
  Error malformed(const std::string& what) const { return fail("malformed HTTP response (" + what + ")"); }
  void stage(const char* what) { stage_ = what; }
  Result<void> check_deadline() const {
    if (base::now_ns() >= deadline_) return timed_out();
    return {};
  }

  Result<void> open(const std::string& host, const std::string& port) {
    stage("connecting");
    auto resolved = resolve_host(host, port, deadline_);
    if (!resolved) return base::now_ns() >= deadline_ ? timed_out() : fail(resolved.error().message);
    const addrinfo* list = resolved->get();
    int last = ECONNREFUSED;
    Result<void> out = fail("no address");
    for (const addrinfo* a = list; a != nullptr; a = a->ai_next) {
      int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        last = errno;
        continue;
      }
      fd_ = fd;
      int err = 0;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
          if (auto w = wait(POLLOUT); !w) {
            out = w.error();
            close(fd);
            fd_ = -1;
            return out;
          }
          socklen_t len = sizeof err;
          if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        }
      }
      if (err == 0) return {};
      last = err;
      close(fd);
      fd_ = -1;
    }
    return fail(errno_text(last));
  }

  Result<void> send_all(std::string_view data) {
    stage("sending the request");
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (auto w = wait(POLLOUT); !w) return w;
      } else if (n < 0 && errno != EINTR) {
        return fail("cannot send the request: " + errno_text(errno));
      }
    }
    return {};
  }

  // recv_some() reads what has arrived, waiting for at least a byte; 0 at the end of the stream.
  Result<std::size_t> recv_some(char* buf, std::size_t cap) {
    for (;;) {
      ssize_t n = ::recv(fd_, buf, cap, 0);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (auto w = wait(POLLIN); !w) return w.error();
      } else if (errno != EINTR) {
        return fail(errno_text(errno) + " while " + stage_);
      }
    }
  }

 private:
  Error timed_out() const { return fail("timed out after " + duration_text(timeout_ns_) + " " + stage_); }

  Result<void> wait(short events) {
    for (;;) {
      std::int64_t left = deadline_ - base::now_ns();
      if (left <= 0) return timed_out();
      std::int64_t ms = (left + base::kNanosPerMilli - 1) / base::kNanosPerMilli;
      pollfd p{fd_, events, 0};
      int rc = poll(&p, 1, static_cast<int>(std::min<std::int64_t>(ms, INT_MAX)));
      if (rc > 0) return {};
      if (rc < 0 && errno != EINTR) return fail("poll: " + errno_text(errno));
    }
  }

  std::string authority_;
  std::int64_t timeout_ns_;
  base::Nanos deadline_;
  int fd_ = -1;
  const char* stage_ = "";
};

// Reader buffers what the connection gives: lines for the head and chunk framing, runs of bytes
// for bodies.
class Reader {
 public:
  explicit Reader(Connection& c) : c_(c), buf_(new char[kReadBytes]) {}

  // line() reads up to '\n' (a CRLF or bare LF end is dropped); more than `max` bytes, or the end
  // of the stream first, is malformed. *at_eof_before is set when the stream ended before any byte.
  Result<std::string> line(std::size_t max, bool* closed_first = nullptr) {
    std::string out;
    for (;;) {
      auto more = fill();
      if (!more) return more.error();
      if (!*more) {
        if (closed_first != nullptr && out.empty()) *closed_first = true;
        return c_.malformed("the connection closed in the middle of a line");
      }
      const char* s = buf_.get() + pos_;
      const char* nl = static_cast<const char*>(std::memchr(s, '\n', end_ - pos_));
      std::size_t take = nl != nullptr ? static_cast<std::size_t>(nl - s) + 1 : end_ - pos_;
      if (out.size() + take > max + 2) return c_.malformed("a line longer than " + size_text(max));
      out.append(s, take);
      pos_ += take;
      if (nl != nullptr) {
        out.pop_back();
        if (!out.empty() && out.back() == '\r') out.pop_back();
        return out;
      }
    }
  }

  // copy() passes exactly `n` bytes to sink(data, size) -> Result<bool> (false: stop reading).
  // Returns false when the sink stopped early.
  template <class Sink>
  Result<bool> copy(std::uint64_t n, Sink&& sink) {
    std::uint64_t done = 0;
    while (done < n) {
      auto more = fill();
      if (!more) return more.error();
      if (!*more) return c_.malformed("the body ends after " + std::to_string(done) + " of " + std::to_string(n) + " bytes");
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n - done, end_ - pos_));
      auto go_on = sink(buf_.get() + pos_, take);
      if (!go_on) return go_on.error();
      pos_ += take;
      done += take;
      if (!*go_on) return false;
    }
    return true;
  }

  // copy_to_end() passes every byte until the server closes the connection.
  template <class Sink>
  Result<bool> copy_to_end(Sink&& sink) {
    for (;;) {
      auto more = fill();
      if (!more) return more.error();
      if (!*more) return true;
      auto go_on = sink(buf_.get() + pos_, end_ - pos_);
      if (!go_on) return go_on.error();
      pos_ = end_;
      if (!*go_on) return false;
    }
  }

 private:
  Result<bool> fill() {
    if (pos_ < end_) return true;
    if (eof_) return false;
    auto n = c_.recv_some(buf_.get(), kReadBytes);
    if (!n) return n.error();
    pos_ = 0;
    end_ = *n;
    eof_ = *n == 0;
    return !eof_;
  }

  Connection& c_;
  std::unique_ptr<char[]> buf_;
  std::size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
};

// BodySink counts the bytes received against the cap and keeps them, inflated when the body is
// gzip. With `keep_prefix` (an error answer) it keeps what fits in the buffer and then asks the
// reader to stop instead of failing.
class BodySink {
 public:
  BodySink(Connection& c, BodyBuffer& out, std::size_t cap, std::string_view name, bool keep_prefix)
      : c_(c), out_(out), cap_(cap), name_(name), keep_prefix_(keep_prefix) {}
  ~BodySink() {
    if (gzip_) inflateEnd(&z_);
  }
  BodySink(const BodySink&) = delete;
  BodySink& operator=(const BodySink&) = delete;

  Result<void> start_gzip() {
    if (inflateInit2(&z_, 15 + 16) != Z_OK) return c_.fail("zlib: cannot start inflate");
    gzip_ = true;
    return {};
  }

  Error too_large() const { return c_.fail(std::string(name_) + " larger than " + size_text(cap_)); }

  // The wire size is judged before reading when the framing announces it.
  bool announced_too_large(std::uint64_t more) const { return !keep_prefix_ && more > cap_ - std::min(cap_, received_); }

  Result<bool> put(const char* data, std::size_t n) {
    received_ += n;
    if (received_ > cap_ && !keep_prefix_) return too_large();
    if (auto d = c_.check_deadline(); !d) return d.error();
    if (!gzip_) return keep(data, n);
    if (ended_ && n > 0) {
      // Another gzip member follows (RFC 1952 allows several, read as one stream).
      inflateReset(&z_);
      ended_ = false;
    }
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z_.avail_in = static_cast<uInt>(n);
    char tmp[16 * 1024];
    for (;;) {
      z_.next_out = reinterpret_cast<Bytef*>(tmp);
      z_.avail_out = sizeof tmp;
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
        return c_.malformed(std::string("bad gzip body: ") + (z_.msg != nullptr ? z_.msg : "inflate failed"));
      std::size_t produced = sizeof tmp - z_.avail_out;
      auto kept = keep(tmp, produced);
      if (!kept || !*kept) return kept;
      if (rc == Z_STREAM_END) {
        ended_ = true;
        if (z_.avail_in == 0) return true;
        inflateReset(&z_);
        ended_ = false;
        continue;
      }
      if (z_.avail_in == 0 && produced < sizeof tmp) return true;  // wants more input
      if (rc == Z_BUF_ERROR && produced == 0) return true;         // no progress possible
    }
  }

  Result<void> finish() {
    if (gzip_ && !ended_ && !keep_prefix_) return c_.malformed("the gzip body ends early");
    return {};
  }

 private:
  Result<bool> keep(const char* data, std::size_t n) {
    if (out_.append(data, n)) return true;
    if (!keep_prefix_) return too_large();
    (void)out_.append(data, out_.cap() - out_.size());
    return false;
  }

  Connection& c_;
  BodyBuffer& out_;
  std::size_t cap_;
  std::string_view name_;
  bool keep_prefix_;
  bool gzip_ = false;
  bool ended_ = false;
  std::uint64_t received_ = 0;
  z_stream z_{};
};

struct Head {
  int status = 0;
  bool chunked = false;
  bool has_length = false;
  std::uint64_t length = 0;
  bool gzip = false;
  std::string content_type;
};

Result<Head> read_head(Connection& c, Reader& r) {
  Head h;
  std::size_t used = 0;
  bool closed_first = false;
  auto status = r.line(kMaxHeadBytes, &closed_first);
  if (!status) {
    if (closed_first) return c.fail("the target closed the connection without answering");
    return status.error();
  }
  used += status->size() + 2;
  const std::string& s = *status;
  if (s.size() < 12 || s.compare(0, 7, "HTTP/1.") != 0 || !std::isdigit(static_cast<unsigned char>(s[7])) ||
      s[8] != ' ' || !std::isdigit(static_cast<unsigned char>(s[9])) ||
      !std::isdigit(static_cast<unsigned char>(s[10])) || !std::isdigit(static_cast<unsigned char>(s[11])) ||
      (s.size() > 12 && s[12] != ' '))
    return c.malformed("bad status line " + quoted(s));
  h.status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
  if (h.status < 100) return c.malformed("bad status line " + quoted(s));
  for (int fields = 0;; ++fields) {
    if (fields > kMaxHeaderFields) return c.malformed("more than " + std::to_string(kMaxHeaderFields) + " header fields");
    auto line = r.line(kMaxHeadBytes - std::min(used, kMaxHeadBytes));
    if (!line) return line.error();
    used += line->size() + 2;
    if (used > kMaxHeadBytes) return c.malformed("a head larger than " + size_text(kMaxHeadBytes));
    if (line->empty()) break;
    if ((*line)[0] == ' ' || (*line)[0] == '\t') return c.malformed("a folded header line");
    auto colon = line->find(':');
    if (colon == std::string::npos || colon == 0) return c.malformed("bad header line " + quoted(*line));
    std::string name = lower(trim(std::string_view(*line).substr(0, colon)));
    std::string_view value = trim(std::string_view(*line).substr(colon + 1));
    if (name == "content-length") {
      auto n = base::parse_int64(value);
      if (!n || *n < 0 || value.front() == '-') return c.malformed("bad Content-Length " + quoted(value));
      if (h.has_length && h.length != static_cast<std::uint64_t>(*n)) return c.malformed("two different Content-Lengths");
      h.has_length = true;
      h.length = static_cast<std::uint64_t>(*n);
    } else if (name == "transfer-encoding") {
      if (lower(value) != "chunked") return c.fail("unsupported Transfer-Encoding " + quoted(value));
      h.chunked = true;
    } else if (name == "content-encoding") {
      std::string v = lower(value);
      if (v == "gzip" || v == "x-gzip") h.gzip = true;
      else if (!v.empty() && v != "identity") return c.fail("unsupported Content-Encoding " + quoted(value));
    } else if (name == "content-type") {
      h.content_type = std::string(value);
    }
  }
  return h;
}

// read_chunked() passes a chunked body's data to the sink (RFC 9112 7.1); trailers are read and
// dropped.
Result<void> read_chunked(Connection& c, Reader& r, BodySink& sink) {
  for (;;) {
    auto size_line = r.line(kMaxLineBytes);
    if (!size_line) return size_line.error();
    std::string_view hex = trim(std::string_view(*size_line).substr(0, size_line->find(';')));
    if (hex.empty() || hex.size() > 15) return c.malformed("bad chunk size " + quoted(*size_line));
    std::uint64_t size = 0;
    for (char ch : hex) {
      int d = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
              : (ch >= 'a' && ch <= 'f')                   ? ch - 'a' + 10
              : (ch >= 'A' && ch <= 'F')                   ? ch - 'A' + 10
                                                           : -1;
      if (d < 0) return c.malformed("bad chunk size " + quoted(*size_line));
      size = size * 16 + static_cast<std::uint64_t>(d);
    }
    if (size == 0) break;
    if (sink.announced_too_large(size)) return sink.too_large();
    auto go_on = r.copy(size, [&](const char* p, std::size_t n) { return sink.put(p, n); });
    if (!go_on) return go_on.error();
    if (!*go_on) return {};
    auto end = r.line(kMaxLineBytes);
    if (!end) return end.error();
    if (!end->empty()) return c.malformed("chunk data longer than its size");
  }
  std::size_t trailer = 0;
  for (;;) {
    auto line = r.line(kMaxLineBytes);
    if (!line) return line.error();
    if (line->empty()) return {};
    trailer += line->size() + 2;
    if (trailer > kMaxHeadBytes) return c.malformed("trailers larger than " + size_text(kMaxHeadBytes));
  }
}

// split_authority() is "host:port" -> host, port ("[::1]:80" -> "::1", "80"; no port: "80").
bool split_authority(std::string_view a, std::string* host, std::string* port) {
  if (!a.empty() && a.front() == '[') {
    auto close = a.find(']');
    if (close == std::string_view::npos) return false;
    *host = std::string(a.substr(1, close - 1));
    std::string_view rest = a.substr(close + 1);
    if (rest.empty()) return *port = "80", true;
    if (rest.front() != ':') return false;
    *port = std::string(rest.substr(1));
  } else if (auto colon = a.rfind(':'); colon != std::string_view::npos) {
    *host = std::string(a.substr(0, colon));
    *port = std::string(a.substr(colon + 1));
  } else {
    *host = std::string(a);
    *port = "80";
  }
  return !host->empty() && !port->empty();
}

}  // namespace

std::string size_text(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 30) && bytes % (std::size_t{1} << 30) == 0) return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

Result<HttpResponse> http_get(std::string_view authority, std::string_view path, const HttpGetOptions& options) {
  Connection c(authority, options.timeout_ns);
  std::string host, port;
  if (!split_authority(authority, &host, &port)) return c.fail("bad host:port");
  if (options.bearer_token.find_first_of("\r\n") != std::string::npos)
    return c.fail("the bearer token holds a line break");
  if (auto r = c.open(host, port); !r) return r.error();
  std::string request = "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + std::string(authority) +
                        "\r\nUser-Agent: leakwatch\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nConnection: close\r\n";
  if (!options.bearer_token.empty()) request += "Authorization: Bearer " + options.bearer_token + "\r\n";
  request += "\r\n";
  if (auto r = c.send_all(request); !r) return r.error();

  c.stage("waiting for the response");
  Reader reader(c);
  Result<Head> head = make_error("");
  for (int interim = 0;; ++interim) {
    head = read_head(c, reader);
    if (!head) return head.error();
    if (head->status >= 200) break;
    if (interim >= kMaxInterim) return c.malformed("too many 1xx answers");
  }
  c.stage("reading the body");
  HttpResponse out;
  out.status = head->status;
  out.content_type = head->content_type;
  bool ok_status = head->status >= 200 && head->status < 300;
  auto buffer = BodyBuffer::reserve(ok_status ? options.max_body_bytes : kErrorBodyBytes);
  if (!buffer) return c.fail(buffer.error().message);
  out.body = std::move(*buffer);
  if (head->status == 204 || head->status == 304) return out;
  BodySink sink(c, out.body, options.max_body_bytes, options.body_name, !ok_status);
  if (head->gzip) {
    if (auto g = sink.start_gzip(); !g) return g.error();
  }
  auto put = [&](const char* p, std::size_t n) { return sink.put(p, n); };
  if (head->chunked) {
    if (auto r = read_chunked(c, reader, sink); !r) return r.error();
  } else if (head->has_length) {
    if (sink.announced_too_large(head->length)) return sink.too_large();
    if (auto r = reader.copy(head->length, put); !r) return r.error();
  } else {
    if (auto r = reader.copy_to_end(put); !r) return r.error();
  }
  if (auto f = sink.finish(); !f) return f.error();
  out.body.shrink_to_fit();
  return out;
}

}  // namespace lw::cli
