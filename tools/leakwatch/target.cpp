// Reading snapshots over HTTP with the CLI's own client (http_get.cpp: one deadline for the whole
// request, a cap on the body). One connection per request: a watcher scrapes every N seconds, so
// keeping connections alive buys nothing and a dead target would hold a half-open socket.
#include "tools/leakwatch/target.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "src/base/parse.hpp"
#include "src/snapshot/codec.hpp"
#include "tools/leakwatch/http_get.hpp"

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

Result<Fetched> fetch_snapshot(const std::string& target, std::int64_t timeout_ns, std::int64_t max_bytes) {
  std::size_t host_start = target.find("://") + 3;
  std::size_t path_start = target.find('/', host_start);
  if (target.compare(0, host_start, "https://") == 0)
    return make_error(target + ": https is not supported by this leakwatch (put a plain-HTTP proxy in front, or use http://)");
  std::string authority = target.substr(host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
  std::string path = (path_start == std::string::npos ? "" : target.substr(path_start)) + kSnapshotPath;
  HttpGetOptions options;
  options.timeout_ns = timeout_ns;
  options.max_body_bytes = static_cast<std::size_t>(max_bytes);
  options.body_name = "snapshot";
  if (const char* token = std::getenv("LEAKWATCH_TOKEN"); token && *token) options.bearer_token = token;
  auto res = http_get(authority, path, options);
  if (!res) {
    // Name the target as the user wrote it (scheme and path prefix too), not only host:port.
    std::string m = res.error().message;
    if (m.compare(0, authority.size(), authority) == 0) m = target + m.substr(authority.size());
    return make_error(m);
  }
  if (res->status != 200) {
    std::string body(res->body.view().substr(0, 200));
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    for (char& c : body)
      if (c == '\n' || c == '\r') c = ' ';
    return make_error(target + kSnapshotPath + ": HTTP " + std::to_string(res->status) + (body.empty() ? "" : ": " + body));
  }
  auto snap = snapshot::decode(res->body.view());
  if (!snap) return make_error(target + ": not a leakwatch snapshot: " + snap.error().message);
  return Fetched{std::move(res->body), std::move(*snap)};
}

Result<snapshot::Snapshot> read_snapshot_source(const std::string& source, std::int64_t timeout_ns,
                                                std::int64_t max_bytes) {
  struct stat sb {};
  if (stat(source.c_str(), &sb) == 0 && S_ISREG(sb.st_mode)) {
    if (sb.st_size > max_bytes)
      return make_error(source + ": snapshot larger than " + size_text(static_cast<std::size_t>(max_bytes)));
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
  auto f = fetch_snapshot(*url, timeout_ns, max_bytes);
  if (!f) return f.error();
  return std::move(f->snapshot);
}

}  // namespace lw::cli
