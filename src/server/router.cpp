// Routing is a plain comparison of paths rather than a pattern table: the set of endpoints is fixed
// and small, and a regex router (httplib's) would also have let a careless pattern match more than
// intended. Nothing here maps a path to a file, so the server cannot serve files.
//
// Order of checks, the same for every path: the transport's access rule first (src/http/access_rule.hpp:
// the Host rule, 403, for a loopback server, then the token, 401, so an unauthorized client learns
// nothing, not even which paths exist); then here the path (404); then the method (405); then the
// query (400); then the capture. Go's handlers accept any method; we allow GET and HEAD
// (and POST where Go reads a body, /symbol), since nothing here changes state.
//
// Delta profiles (?seconds=N) hold a server thread for N seconds. Go lets them pile up; here at
// most `max_concurrent_deltas` wait at once and further ones get 503 with Retry-After, so that a
// few slow scrapes cannot starve /metrics.
#include "src/server/router.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <thread>

#include "src/base/clock.hpp"
#include "src/base/parse.hpp"
#include "src/profile/gzip.hpp"
#include "src/server/expvar_json.hpp"
#include "src/http/content_coding.hpp"
#include "src/server/live_assets.hpp"
#include "src/server/live_json.hpp"
#include "src/server/proc_stats.hpp"
#include "src/cpu/cpu_hz_env.hpp"
#include "src/cpu/cpu_profile.hpp"
#include "src/server/custom_profile_endpoints.hpp"
#include "src/server/profile_endpoints.hpp"
#include "src/server/prometheus_text.hpp"
#include "src/snapshot/codec.hpp"
#include "src/unwind/symbolizer.hpp"

namespace lw::server {
namespace {


constexpr std::string_view kPprofPrefix = "/debug/pprof/";
constexpr std::string_view kLivePrefix = "/debug/leakwatch/";
// The live page polls every second and its figures may be up to 2 s old: with a page open the
// target makes one capture per 2 s (each also a history point), half of what a /metrics scrape a
// second would cost. The service's own samples come every 10 s and reuse a page's capture.
constexpr std::int64_t kLiveMaxAgeNs = 2'000'000'000;

Response plain(int status, std::string text) {
  Response r;
  r.status = status;
  r.body = std::move(text);
  r.body += '\n';
  return r;
}

// pprof_error() is Go's serveError(): a plain-text message with X-Go-Pprof set.
Response pprof_error(int status, std::string text) {
  Response r = plain(status, std::move(text));
  r.headers.emplace_back("X-Go-Pprof", "1");
  return r;
}

Response method_not_allowed(bool post_allowed) {
  Response r = plain(405, "method not allowed");
  r.headers.emplace_back("Allow", post_allowed ? "GET, HEAD, POST" : "GET, HEAD");
  return r;
}

bool is_read(const Request& req) { return req.method == "GET" || req.method == "HEAD"; }

// parse_address() reads one address as Go's strconv.ParseUint(s, 0, 64) would for the bases that
// matter here: 0x-prefixed hex, or decimal. 0 on any error (Go skips those too).
std::uint64_t parse_address(std::string_view w) {
  while (!w.empty() && (w.front() == ' ' || w.front() == '\n' || w.front() == '\r')) w.remove_prefix(1);
  while (!w.empty() && (w.back() == ' ' || w.back() == '\n' || w.back() == '\r')) w.remove_suffix(1);
  int base = 10;
  if (w.size() > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) {
    base = 16;
    w.remove_prefix(2);
  }
  if (w.empty() || w.size() > 20) return 0;
  std::uint64_t v = 0;
  for (char c : w) {
    int d = c >= '0' && c <= '9' ? c - '0'
            : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10
            : base == 16 && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                  : -1;
    if (d < 0) return 0;
    if (v > (UINT64_MAX - static_cast<std::uint64_t>(d)) / static_cast<std::uint64_t>(base)) return 0;
    v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  return v;
}

}  // namespace

Router::Router(RouterOptions options) : options_(std::move(options)) {}

Response Router::handle(const Request& req) {
  try {
    return dispatch(req);
  } catch (const std::exception& e) {
    return plain(500, std::string("internal error: ") + e.what());
  } catch (...) {
    return plain(500, "internal error");
  }
}

Response Router::dispatch(const Request& req) {
  const std::string& path = req.path;
  if (path == "/metrics") {
    if (!is_read(req)) return method_not_allowed(false);
    Response r;
    r.content_type = kPrometheusContentType;
    r.body = write_prometheus_text(*counters(), recent_proc_stats());
    return r;
  }
  if (path == "/debug/vars") {
    if (!is_read(req)) return method_not_allowed(false);
    Response r;
    r.content_type = "application/json; charset=utf-8";
    r.body = write_expvar_json(options_.source(CaptureDepth::kProcess));
    return r;
  }
  if (path == "/debug/leakwatch/snapshot") {
    if (!is_read(req)) return method_not_allowed(false);
    return snapshot(req);
  }
  if (path == "/debug/leakwatch" || path.rfind(kLivePrefix, 0) == 0) {
    if (!is_read(req)) return method_not_allowed(false);
    if (path == "/debug/leakwatch") {
      Response r = plain(301, "moved permanently: /debug/leakwatch/");
      r.headers.emplace_back("Location", "/debug/leakwatch/");
      return r;
    }
    return live(req, std::string_view(path).substr(kLivePrefix.size()));
  }
  if (path == "/debug/pprof") {  // as Go's ServeMux does for a subtree registered with a slash
    if (!is_read(req)) return method_not_allowed(false);
    Response r = plain(301, "moved permanently: /debug/pprof/");
    r.headers.emplace_back("Location", "/debug/pprof/");
    return r;
  }
  if (path.rfind(kPprofPrefix, 0) != 0) return plain(404, "404 page not found");

  std::string_view name = std::string_view(path).substr(kPprofPrefix.size());
  if (name == "symbol") {
    if (!is_read(req) && req.method != "POST") return method_not_allowed(true);
    return symbol(req);
  }
  if (name.empty() || name == "cmdline") {
    if (!is_read(req)) return method_not_allowed(false);
    if (name.empty()) return index();
    snapshot::ProcessInfo p = options_.source(CaptureDepth::kProcess).process;
    Response r;
    for (std::size_t i = 0; i < p.cmdline.size(); ++i) {
      if (i > 0) r.body += '\0';
      r.body += p.cmdline[i];
    }
    return r;
  }
  if (name == "profile") {
    if (!is_read(req)) return method_not_allowed(false);
    return cpu_profile(req);
  }
  // A custom profile's name is looked up in the cached counters, so an unknown path never costs
  // a capture.
  if (find_profile(name) == nullptr && snapshot::find_custom_profile(*counters(), name) == nullptr)
    return pprof_error(404, "Unknown profile");
  if (!is_read(req)) return method_not_allowed(false);
  return profile(req, name);
}

std::shared_ptr<const snapshot::Snapshot> Router::recent(RecentCapture& cache, CaptureDepth depth, std::int64_t max_age_ns) {
  std::lock_guard<std::mutex> lock(cache.mu);
  base::Nanos now = base::now_ns();
  if (cache.snapshot == nullptr || cache.at_ns == 0 || now - cache.at_ns >= max_age_ns) {
    cache.snapshot = std::make_shared<const snapshot::Snapshot>(options_.source(depth));
    cache.at_ns = now;
  }
  return cache.snapshot;
}

std::shared_ptr<const snapshot::Snapshot> Router::counters() {
  return recent(counters_, CaptureDepth::kCounters, options_.counters_max_age_ns);
}

Response Router::index() {
  std::shared_ptr<const snapshot::Snapshot> counts = counters();
  const snapshot::Snapshot& s = *counts;
  const std::size_t threads = static_cast<std::size_t>(recent_proc_stats().threads);
  Response r;
  r.content_type = "text/html; charset=utf-8";
  std::string& b = r.body;
  b = "<html>\n<head>\n<title>/debug/pprof/</title>\n<style>\n.profile-name{\n\tdisplay:inline-block;\n"
      "\twidth:6rem;\n}\n</style>\n</head>\n<body>\n/debug/pprof/\n<br>\n"
      "<p>Set debug=1 as a query parameter to export in legacy text format</p>\n<br>\n"
      "Types of profiles available:\n<table>\n<thead><td>Count</td><td>Profile</td></thead>\n";
  auto row = [&b](std::size_t count, const std::string& name) {
    b += "\t<tr>\n\t<td>" + std::to_string(count) + "</td><td><a href='" + name + "?debug=1'>" + name +
         "</a></td>\n\t</tr>\n";
  };
  // Custom profile names hold only [A-Za-z0-9._/-] (lw::Profile checks), so they need no escaping.
  for (const ListedProfile& p : listed_profiles(s, threads)) row(p.count, p.name);
  b += "\t<tr>\n\t<td></td><td><a href='cmdline'>cmdline</a></td>\n\t</tr>\n"
       "\t<tr>\n\t<td></td><td><a href='profile'>profile</a></td>\n\t</tr>\n"
       "\t<tr>\n\t<td></td><td><a href='symbol'>symbol</a></td>\n\t</tr>\n";
  b += "</table>\n<a href=\"goroutine?debug=2\">full goroutine stack dump</a>\n<br>\n"
       "<a href=\"threads?debug=2\">full thread stack dump</a>\n<br>\n<p>\n"
       "Profile Descriptions:\n<ul>\n";
  for (const ProfileInfo& p : profiles())
    b += std::string("<li><div class=profile-name>") + p.name + ": </div> " + p.description + "</li>\n";
  for (const auto& c : s.custom_profiles)
    b += "<li><div class=profile-name>" + c.name + ": </div> " + kCustomProfileDescription + "</li>\n";
  b += "<li><div class=profile-name>cmdline: </div> The command line invocation of the current program</li>\n"
       "<li><div class=profile-name>profile: </div> CPU profile. You can specify the duration in the seconds GET "
       "parameter. After you get the profile file, use the go tool pprof command to investigate the profile.</li>\n"
       "<li><div class=profile-name>symbol: </div> Function names for program counters: GET "
       "?0xADDR+0xADDR or POST them, one line per address found</li>\n";
  b += "</ul>\n</p>\n<p>Also: <a href='/debug/leakwatch/'>/debug/leakwatch/</a> (the live page), "
       "<a href='/metrics'>/metrics</a> (Prometheus), <a href='/debug/vars'>"
       "/debug/vars</a> (expvar), <a href='/debug/leakwatch/snapshot'>/debug/leakwatch/snapshot</a> "
       "(everything, as one protobuf message)</p>\n</body>\n</html>\n";
  return r;
}

void Router::sample_live_history() {
  try {
    history_.add(live_point(*recent(live_, CaptureDepth::kLive, kLiveMaxAgeNs), recent_proc_stats()));
  } catch (...) {
    // Out of memory or a failing source: the point is skipped; the page shows a gap.
  }
}

// The live page: its assets (compiled in: nothing is read from disk) and live.json. The snapshot
// is kept off this page: it is a protobuf download, linked from the /debug/pprof/ index.
Response Router::live(const Request& req, std::string_view rest) {
  if (rest != "live.json") {
    const http::EmbeddedAsset* asset = find_live_asset(rest.empty() ? "index.html" : rest);
    if (asset == nullptr) return plain(404, "404 page not found");
    return http::asset_response(*asset);
  }
  std::int64_t since = 0;
  for (const auto& [k, v] : req.params) {
    if (k != "since") return plain(400, "unknown parameter " + k + ": live.json takes since=<unix milliseconds>");
    auto n = base::parse_int64(v);
    if (!n || *n < 0) return plain(400, "since: must be a whole number of milliseconds since the Unix epoch");
    since = *n;
  }
  std::shared_ptr<const snapshot::Snapshot> counts = recent(live_, CaptureDepth::kLive, kLiveMaxAgeNs);
  const ProcStats proc = recent_proc_stats();
  history_.add(live_point(*counts, proc));  // a no-op unless this capture is new
  std::shared_ptr<const std::string> figures;
  {
    std::lock_guard<std::mutex> lock(live_figures_mu_);
    if (live_figures_of_ == counts) figures = live_figures_;
  }
  if (figures == nullptr) {
    LiveInput in;
    in.counters = counts.get();
    in.proc = proc;
    in.profiles = listed_profiles(*counts, static_cast<std::size_t>(proc.threads));
    in.names = &frame_names_;
    figures = std::make_shared<const std::string>(write_live_figures(in));
    std::lock_guard<std::mutex> lock(live_figures_mu_);
    live_figures_of_ = counts;
    live_figures_ = figures;
  }
  Response r;
  r.content_type = "application/json; charset=utf-8";
  r.body = finish_live_json(*figures, history_.since(since));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response Router::symbol(const Request& req) {
  const std::string& input = req.method == "POST" ? req.body : req.raw_query;
  if (input.size() > kMaxSymbolBody) return plain(413, "request too large: at most 65536 bytes of addresses");
  Response r;
  r.body = "num_symbols: 1\n";
  if (req.method == "HEAD" || input.empty()) return r;
  unwind::Symbolizer& sym = unwind::process_symbolizer();
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('+', start);
    if (end == std::string::npos) end = input.size();
    std::uint64_t pc = parse_address(std::string_view(input).substr(start, end - start));
    if (pc != 0) {
      unwind::Symbol s = sym.lookup(pc);
      if (!s.function.empty()) {
        char addr[32];
        std::snprintf(addr, sizeof addr, "%#" PRIx64 " ", pc);
        r.body += addr;
        r.body += s.function;
        r.body += '\n';
      }
    }
    start = end + 1;
  }
  return r;
}

// profile() serves a built-in profile, or else the custom profile `name` (which has no delta
// form, as in Go).
Response Router::profile(const Request& req, std::string_view name) {
  const ProfileInfo* info = find_profile(name);
  auto query = parse_profile_query(req, options_.max_profile_seconds);
  if (!query) return pprof_error(400, query.error().message);
  if (query->seconds > 0) {
    if (info == nullptr || !info->supports_delta)
      return pprof_error(400, R"("seconds" parameter is not supported for this profile type)");
    if (query->debug != 0) return pprof_error(400, "seconds and debug params are incompatible");
    return delta_profile(name, *query);
  }
  snapshot::Snapshot s = options_.source(CaptureDepth::kFull);
  const snapshot::CustomProfile* custom = info == nullptr ? snapshot::find_custom_profile(s, name) : nullptr;
  if (info == nullptr && custom == nullptr) return pprof_error(404, "Unknown profile");  // gone since
  Response r;
  if (query->debug != 0) {
    r.body = info != nullptr ? profile_text(*info, s, *query) : custom_profile_text(s, *custom);
    return r;
  }
  r.content_type = "application/octet-stream";
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + std::string(name) + "\"");
  r.body = profile::gzip(info != nullptr ? profile_proto(*info, s, *query) : custom_profile_proto(s, *custom));
  return r;
}

namespace {

// DeltaSlot holds one of the slots for requests that keep a worker waiting (delta profiles, the
// CPU profile) while it lives; held() is false when every slot was taken.
class DeltaSlot {
 public:
  DeltaSlot(std::atomic<int>* in_flight, int limit) : n_(in_flight), held_(n_->fetch_add(1) < limit) {}
  ~DeltaSlot() { n_->fetch_sub(1); }
  DeltaSlot(const DeltaSlot&) = delete;
  DeltaSlot& operator=(const DeltaSlot&) = delete;
  bool held() const { return held_; }

 private:
  std::atomic<int>* n_;
  bool held_;
};

Response busy_with_deltas(std::int64_t seconds) {
  Response r = pprof_error(503, "too many delta profiles in progress; try again later");
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  return r;
}

}  // namespace

bool Router::wait_seconds(std::int64_t seconds) {
  if (options_.wait) return options_.wait(seconds);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  return true;
}

// The CPU profile, as Go's /debug/pprof/profile: `seconds` (default 30, at most the server's
// max_profile_seconds) of sampling at LEAKWATCH_CPU_HZ (default 100), then the gzipped profile.
// One at a time in the process (LEAKWATCH_CPUPROFILE's whole-run profile counts): another request
// gets Go's 500 "cpu profiling already in use". A worker thread is held
// for the duration, as for delta profiles (and counted with them).
Response Router::cpu_profile(const Request& req) {
  auto query = parse_profile_query(req, options_.max_profile_seconds);
  if (!query) return pprof_error(400, query.error().message);
  if (query->debug != 0) return pprof_error(400, "the CPU profile has no debug text; omit debug");
  const std::int64_t seconds = query->seconds > 0 ? query->seconds : std::min<std::int64_t>(30, options_.max_profile_seconds);
  DeltaSlot slot(&deltas_in_flight_, options_.max_concurrent_deltas);
  if (!slot.held()) return busy_with_deltas(seconds);
  auto data = cpu::profile_for(seconds, cpu::configured_hz(), [this](std::int64_t s) { return wait_seconds(s); });
  if (!data) return pprof_error(500, "Could not enable CPU profiling: " + data.error().message);
  Response r;
  r.content_type = "application/octet-stream";
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"profile\"");
  r.body = profile::gzip(*data);
  return r;
}

Response Router::delta_profile(std::string_view name, const ProfileQuery& query) {
  const ProfileInfo& info = *find_profile(name);
  const std::int64_t seconds = query.seconds;
  DeltaSlot slot(&deltas_in_flight_, options_.max_concurrent_deltas);
  if (!slot.held()) return busy_with_deltas(seconds);

  std::string base = profile_proto(info, options_.source(CaptureDepth::kFull), query);
  if (!wait_seconds(seconds)) return pprof_error(503, "server is shutting down");
  std::string current = profile_proto(info, options_.source(CaptureDepth::kFull), query);
  auto delta = profile_delta(base, current);
  if (!delta) return pprof_error(500, "cannot compute the delta profile: " + delta.error().message);
  Response r;
  r.content_type = "application/octet-stream";
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + std::string(name) + "-delta\"");
  r.body = profile::gzip(*delta);
  return r;
}

Response Router::snapshot(const Request& req) {
  Response r;
  r.content_type = "application/x-protobuf";
  r.headers.emplace_back("X-Leakwatch-Format-Version", std::to_string(snapshot::kFormatVersion));
  r.headers.emplace_back("Vary", "Accept-Encoding");
  std::string bytes = snapshot::encode(options_.source(CaptureDepth::kFull));
  if (http::accepts_gzip(req.accept_encoding)) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.body = profile::gzip(bytes);
  } else {
    r.body = std::move(bytes);
  }
  return r;
}

}  // namespace lw::server
