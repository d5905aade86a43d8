// Reading snapshots over HTTP with cpp-httplib's client. One client per request: a watcher
// scrapes every N seconds, so keeping connections alive buys nothing and a dead target would hold
// a half-open socket. Timeouts are bounded (connect and read) so one hung target cannot stall a
// watch round for more than the timeout.
#include "tools/leakwatch/target.hpp"

#include <httplib.h>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "src/base/parse.hpp"
#include "src/snapshot/codec.hpp"

namespace lw::cli {

Result<std::string> normalize_target(std::string_view text) {
  if (text.empty()) return make_error("empty target URL");
  std::string url(text);
  if (url.find("://") == std::string::npos) url = "http://" + url;
  std::string_view scheme = std::string_view(url).substr(0, url.find("://"));
  if (scheme != "http" && scheme != "https")
    return make_error("target '" + std::string(text) + "': unsupported scheme '" + std::string(scheme) +
                      "' (use http:// or https://)");
  std::size_t host_start = url.find("://") + 3;
  std::size_t path_start = url.find('/', host_start);
  std::string host_port = url.substr(host_start, path_start == std::string::npos ? std::string::npos
                                                                                  : path_start - host_start);
  std::string path = path_start == std::string::npos ? "" : url.substr(path_start);
  if (path.size() >= std::string_view(kSnapshotPath).size() &&
      path.compare(path.size() - std::string_view(kSnapshotPath).size(), std::string::npos, kSnapshotPath) == 0)
    path.resize(path.size() - std::string_view(kSnapshotPath).size());
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.find_first_of("?#") != std::string::npos)
    return make_error("target '" + std::string(text) + "': a query or fragment is not allowed");
  std::string host = host_port;
  if (auto colon = host_port.rfind(':'); colon != std::string::npos && host_port.back() != ']') {
    host = host_port.substr(0, colon);
    auto port = base::parse_int64(std::string_view(host_port).substr(colon + 1));
    if (!port || *port < 1 || *port > 65535)
      return make_error("target '" + std::string(text) + "': bad port '" + host_port.substr(colon + 1) + "'");
  }
  if (host.empty()) return make_error("target '" + std::string(text) + "': no host");
  return std::string(scheme) + "://" + host_port + path;
}

Result<Fetched> fetch_snapshot(const std::string& target, std::int64_t timeout_ns) {
  std::size_t path_start = target.find('/', target.find("://") + 3);
  std::string base = target.substr(0, path_start);
  std::string path = (path_start == std::string::npos ? "" : target.substr(path_start)) + kSnapshotPath;
  httplib::Client client(base);
  time_t sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
  time_t usec = static_cast<time_t>((timeout_ns % 1'000'000'000) / 1000);
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
  if (const char* token = std::getenv("LEAKWATCH_TOKEN"); token && *token) client.set_bearer_token_auth(token);
  auto res = client.Get(path.c_str());
  if (!res) return make_error(target + ": " + httplib::to_string(res.error()));
  if (res->status != 200) {
    std::string body = res->body.substr(0, 200);
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    return make_error(target + path.substr(path.size() - std::string_view(kSnapshotPath).size()) +
                      ": HTTP " + std::to_string(res->status) + (body.empty() ? "" : ": " + body));
  }
  auto snap = snapshot::decode(res->body);
  if (!snap) return make_error(target + ": not a leakwatch snapshot: " + snap.error().message);
  return Fetched{std::move(res->body), std::move(*snap)};
}

Result<snapshot::Snapshot> read_snapshot_source(const std::string& source, std::int64_t timeout_ns) {
  struct stat sb {};
  if (stat(source.c_str(), &sb) == 0 && S_ISREG(sb.st_mode)) {
    std::ifstream in(source, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    if (!in) return make_error("cannot read " + source);
    auto s = snapshot::decode(buf.str());
    if (!s) return make_error(source + ": not a leakwatch snapshot: " + s.error().message);
    return s;
  }
  auto url = normalize_target(source);
  if (!url) return make_error(source + " is neither a file nor a target URL: " + url.error().message);
  auto f = fetch_snapshot(*url, timeout_ns);
  if (!f) return f.error();
  return std::move(f->snapshot);
}

}  // namespace lw::cli
