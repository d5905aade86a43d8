// metrics_cost: what one /metrics answer costs inside the target, without the network: the
// router's whole handle() as served (counters and /proc figures at most 100 ms old), the same with
// a fresh capture every time, and the parts. Prints one
// "name ns_per_op" line per measurement, then how many times a fresh capture costs the served path.
// Also the live page's refresh (live.json, reusing the history's last capture as served) beside a
// /metrics scrape that captures afresh (Prometheus scrapes seconds apart, so each of its scrapes
// does). The history's own sample, once a second, is one capture_counters.
#include <chrono>
#include <cstdio>

#include "src/server/proc_stats.hpp"
#include "src/server/prometheus_text.hpp"
#include "src/server/router.hpp"

namespace {

template <class F>
double ns_per_op(F&& f, int n) {
  for (int i = 0; i < n / 10; ++i) f();  // warm up
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) f();
  auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / n;
}

}  // namespace

int main() {
  using namespace lw::server;
  Router router{RouterOptions{}};
  RouterOptions fresh_options;
  fresh_options.counters_max_age_ns = 0;
  Router fresh{fresh_options};
  Request req;
  req.method = "GET";
  req.path = "/metrics";
  const int n = 20000;
  std::size_t bytes = 0;
  double whole = ns_per_op([&] { bytes += router.handle(req).body.size(); }, n);
  double whole_fresh = ns_per_op([&] { bytes += fresh.handle(req).body.size(); }, n / 10);
  double proc = ns_per_op([&] { bytes += static_cast<std::size_t>(read_proc_stats().threads); }, n);
  double recent = ns_per_op([&] { bytes += static_cast<std::size_t>(recent_proc_stats().threads); }, n);
  auto snap = capture_this_process(CaptureDepth::kCounters);
  ProcStats ps = read_proc_stats();
  double text = ns_per_op([&] { bytes += write_prometheus_text(snap, ps).size(); }, n);
  double capture = ns_per_op([&] { bytes += capture_this_process(CaptureDepth::kCounters).tasks.size(); }, n);
  double capture_live = ns_per_op([&] { bytes += capture_this_process(CaptureDepth::kLive).tasks.size(); }, n);
  std::printf("metrics_handle_ns %.0f\nmetrics_handle_uncached_ns %.0f\nproc_stats_uncached_ns %.0f\nproc_stats_recent_ns %.0f\nprometheus_text_ns %.0f\ncapture_counters_ns %.0f\n",
              whole, whole_fresh, proc, recent, text, capture);
  std::printf("uncached_over_cached_handle %.1f\n", whole_fresh / whole);
  Request live = req;
  live.path = "/debug/leakwatch/live.json";
  router.sample_live_history();
  double live_refresh = ns_per_op([&] { bytes += router.handle(live).body.size(); }, n / 10);
  std::printf("capture_live_ns %.0f\nlive_json_refresh_ns %.0f\nlive_refresh_over_fresh_scrape %.2f\n", capture_live,
              live_refresh, live_refresh / whole_fresh);
  return bytes == 0;
}
