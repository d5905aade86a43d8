// router.hpp: every endpoint of the debug server, transport-free: bearer-token check, method
// check, query validation, and the answer built from one captured Snapshot per request (two for a
// delta profile). The HTTP transport (http_service.hpp) only converts to and from these values.
// Thread-safe: handle() may run on several threads at once; each request captures its own
// snapshot, so concurrent requests never share a half-built one. Allocates.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "src/server/frame_names.hpp"
#include "src/server/http_message.hpp"
#include "src/server/live_history.hpp"
#include "src/server/profile_query.hpp"
#include "src/server/snapshot_source.hpp"

namespace lw::server {

inline constexpr std::size_t kMaxSymbolBody = 64 * 1024;

struct RouterOptions {
  std::string token;  // non-empty: every path requires "Authorization: Bearer <token>"
  // loopback_hosts_only: answer only requests whose Host names loopback (host_rule.hpp), 403
  // otherwise. The service sets it when it listens on a loopback address. A request without Host
  // (HTTP/1.0) passes: browsers always send one.
  bool loopback_hosts_only = false;
  SnapshotSource source = capture_this_process;
  // wait() blocks `seconds` between the two captures of a delta profile; false means the server is
  // stopping and the request should give up.
  std::function<bool(std::int64_t seconds)> wait;
  std::int64_t max_profile_seconds = kDefaultMaxProfileSeconds;
  int max_concurrent_deltas = 2;  // a delta holds a server thread for its whole duration
  // counters_max_age_ns: how old the counters behind /metrics and the index page may be. Capturing
  // them reads /proc and walks the task registry and the site table (~0.2 ms here); Prometheus
  // scrapes every few seconds, so one capture per 100 ms serves a scrape storm at no extra cost
  // to the target. 0 captures on every request.
  std::int64_t counters_max_age_ns = 100'000'000;
};

class Router {
 public:
  explicit Router(RouterOptions options);

  // handle() answers one request. Never throws: an unexpected failure becomes a 500.
  Response handle(const Request& req);

  // unauthorized() is the 401 answer handle() gives without a valid token; the transport sends it
  // as soon as a wrong Authorization header is read, before the rest of the request.
  static Response unauthorized();
  // sample_live_history() adds the gauges now to the live page's history; the service calls it
  // every 10 s from a thread of its own (one kLive capture, as costly as a /metrics scrape's; it
  // can wait behind a full capture, which is why it is not the service's loop thread).
  void sample_live_history();
  const std::string& token() const { return options_.token; }

 private:
  Response dispatch(const Request& req);
  Response index();
  Response symbol(const Request& req);
  Response profile(const Request& req, std::string_view name);
  Response delta_profile(std::string_view name, const ProfileQuery& query);
  Response cpu_profile(const Request& req);
  // wait_seconds() waits as options.wait does (a sleep without one); false when cut short.
  bool wait_seconds(std::int64_t seconds);
  Response snapshot(const Request& req);
  Response live(const Request& req, std::string_view rest);
  // RecentCapture is the last capture of one depth, reused while it is young enough.
  struct RecentCapture {
    std::mutex mu;
    std::shared_ptr<const snapshot::Snapshot> snapshot;  // Guarded by mu.
    std::int64_t at_ns = 0;                              // Guarded by mu; 0 = never.
  };
  // recent() is a `depth` capture at most `max_age_ns` old, from `cache` or made now.
  std::shared_ptr<const snapshot::Snapshot> recent(RecentCapture& cache, CaptureDepth depth, std::int64_t max_age_ns);
  // counters() is a CaptureDepth::kCounters snapshot at most counters_max_age_ns old.
  std::shared_ptr<const snapshot::Snapshot> counters();

  const RouterOptions options_;
  std::atomic<int> deltas_in_flight_{0};  // delta requests now waiting; bounded by the options
  RecentCapture counters_;  // /metrics and the index
  RecentCapture live_;      // the live page: its history's samples and live.json
  LiveHistory history_;
  FrameNames frame_names_;
  // live.json's figures as rendered for the live_ capture they came from.
  std::mutex live_figures_mu_;
  std::shared_ptr<const snapshot::Snapshot> live_figures_of_;  // Guarded by live_figures_mu_.
  std::shared_ptr<const std::string> live_figures_;            // Guarded by live_figures_mu_.
};

// token_matches() compares the Authorization header against "Bearer <token>" (the scheme in any
// case, RFC 9110 section 11.1) in time that does not depend on where the tokens differ.
bool token_matches(std::string_view authorization, std::string_view token);

// accepts_gzip() reads an Accept-Encoding header: true if gzip is listed without q=0, or, when
// gzip is not listed, * is (RFC 9110 section 12.5.3).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace lw::server
