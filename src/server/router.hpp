// router.hpp: every endpoint of the debug server, transport-free: method check, query validation,
// and the answer built from one captured Snapshot per request (two for a delta profile). The
// transport (src/http/http_service.hpp) reads and writes the bytes and applies the access rule
// (Host, token) before a request gets here.
// Thread-safe: handle() may run on several threads at once; each request captures its own
// snapshot, so concurrent requests never share a half-built one. Allocates.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "src/http/http_message.hpp"
#include "src/http/http_service.hpp"
#include "src/server/frame_names.hpp"
#include "src/server/live_history.hpp"
#include "src/server/profile_query.hpp"
#include "src/server/snapshot_source.hpp"

namespace lw::server {

inline constexpr std::size_t kMaxSymbolBody = 64 * 1024;

struct RouterOptions {
  SnapshotSource source = capture_this_process;
  // wait() blocks `seconds` between the two captures of a delta profile; false means the server is
  // stopping and the request should give up. The service sets it (ServiceContext::wait).
  std::function<bool(std::int64_t seconds)> wait;
  std::int64_t max_profile_seconds = kDefaultMaxProfileSeconds;
  int max_concurrent_deltas = 2;  // a delta holds a server thread for its whole duration
  // counters_max_age_ns: how old the counters behind /metrics and the index page may be. Capturing
  // them reads /proc and walks the task registry and the site table (~0.2 ms here); Prometheus
  // scrapes every few seconds, so one capture per 100 ms serves a scrape storm at no extra cost
  // to the target. 0 captures on every request.
  std::int64_t counters_max_age_ns = 100'000'000;
};

using http::Request;
using http::Response;

class Router final : public http::Handler {
 public:
  explicit Router(RouterOptions options);

  // handle() answers one request. Never throws: an unexpected failure becomes a 500.
  Response handle(const Request& req) override;

  // tick() adds the gauges now to the live page's history (sample_live_history()); the service
  // calls it every 10 s from a thread of its own (one kLive capture, as costly as a /metrics
  // scrape's; it can wait behind a full capture, which is why it is not the service's loop).
  void tick() override { sample_live_history(); }
  void sample_live_history();

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

}  // namespace lw::server
