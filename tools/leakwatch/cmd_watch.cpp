// leakwatch watch URL...: periodic snapshots of several targets, findings as they appear.
//
// Each round fetches every target at once (one thread per target, each bounded by the HTTP
// timeout), then stores what came back and runs the differ over each target's window on this
// thread, so the store has one writer here. A target that fails is recorded in the store
// (scrape_errors), reported once when it goes down and once when it comes back, and retried every
// round; the others carry on. SIGINT/SIGTERM set a flag that is checked between steps: the round
// in progress finishes and is stored, then the watch stops (a second signal kills at once: the
// handler is one-shot, and SQLite's WAL keeps the file sound even then).
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <optional>
#include <set>
#include <thread>

#include "src/base/clock.hpp"
#include "src/store/retention.hpp"
#include "tools/leakwatch/analysis.hpp"
#include "tools/leakwatch/cli_args.hpp"
#include "tools/leakwatch/commands.hpp"
#include "tools/leakwatch/report.hpp"
#include "tools/leakwatch/target.hpp"

namespace lw::cli {
namespace {

constexpr const char* kHelp =
    "usage: leakwatch watch URL... [--every D] [--count N] [--db FILE] [--window D]\n"
    "                       [--stuck-after D] [--keep N|AGE] [--timeout D] [--min-snapshots N]\n"
    "                       [--max-snapshot-bytes N]\n"
    "\n"
    "Snapshots every target each D, stores the snapshots, and prints findings as they appear\n"
    "(each once). A target that dies or times out is recorded and retried; the others go on.\n"
    "Ctrl-C (SIGINT) or SIGTERM stops after the round in progress is stored.\n"
    "\n"
    "  URL...             targets: http://host:port or host:port\n"
    "  --every D          time between rounds (default 30s)\n"
    "  --count N          stop after N rounds (default: run until stopped)\n"
    "  --db FILE          the store (default ./leakwatch.db)\n"
    "  --window D         how far back each verdict looks (default 30m)\n"
    "  --stuck-after D    how long a task must sit unmoved to be stuck (default 5m)\n"
    "  --keep N|AGE       retention: the newest N snapshots per target, or an age (7d, 12h)\n"
    "  --timeout D        deadline for each target's whole request (default: --every,\n"
    "                     between 1s and 10s)\n"
    "  --max-snapshot-bytes N  refuse a bigger snapshot, received or inflated (default 256MiB)\n"
    "  --min-snapshots N  snapshots of one process run a growth verdict needs (default 5)\n"
    "\n"
    "Exit status: 0 no findings at the end, 1 findings, 2 error (or no snapshot could be taken).\n";

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sa.sa_flags = SA_RESETHAND;  // a second signal acts as usual
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// sleep_until() waits for the monotonic time `deadline`, waking early when a stop is asked.
void sleep_until(base::Nanos deadline) {
  while (!g_stop.load()) {
    base::Nanos left = deadline - base::now_ns();
    if (left <= 0) return;
    base::Nanos slice = std::min<base::Nanos>(left, 20 * base::kNanosPerMilli);
    timespec ts{static_cast<time_t>(slice / base::kNanosPerSecond), static_cast<long>(slice % base::kNanosPerSecond)};
    nanosleep(&ts, nullptr);
  }
}

std::string clock_text() {
  time_t t = time(nullptr);
  tm local{};
  localtime_r(&t, &local);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &local);
  return buf;
}

struct TargetState {
  std::string url;
  bool down = false;
  std::int64_t stored = 0;
  std::int64_t failures = 0;
};

}  // namespace

int cmd_watch(int argc, char** argv) {
  auto args = parse_args("watch", argc, argv, 2,
                         {{"--every", true}, {"--count", true}, {"--db", true}, {"--window", true},
                          {"--stuck-after", true}, {"--keep", true}, {"--timeout", true},
                          {"--min-snapshots", true}, {"--max-snapshot-bytes", true}});
  if (!args) return usage_error("watch", args.error().message);
  if (args->help) return std::fputs(kHelp, stdout), kExitClean;
  if (args->positional.empty()) return usage_error("watch", "no target URL given");
  std::vector<TargetState> targets;
  for (const std::string& p : args->positional) {
    auto url = normalize_target(p);
    if (!url) return usage_error("watch", url.error().message);
    bool dup = false;
    for (const auto& t : targets) dup = dup || t.url == *url;
    if (!dup) targets.push_back({*url});
  }
  auto every = duration_flag(*args, "--every", 30 * base::kNanosPerSecond);
  if (!every) return usage_error("watch", every.error().message);
  auto count = positive_int_flag(*args, "--count", 0);
  if (!count) return usage_error("watch", count.error().message);
  AnalysisRequest req;
  auto window = duration_flag(*args, "--window", req.window_ns);
  if (!window) return usage_error("watch", window.error().message);
  req.window_ns = *window;
  auto stuck = duration_flag(*args, "--stuck-after", req.detect.stuck_after_ns);
  if (!stuck) return usage_error("watch", stuck.error().message);
  req.detect.stuck_after_ns = *stuck;
  auto min_points = positive_int_flag(*args, "--min-snapshots", static_cast<std::int64_t>(req.detect.min_points));
  if (!min_points) return usage_error("watch", min_points.error().message);
  if (*min_points < 3) return usage_error("watch", "--min-snapshots: a trend needs at least 3 snapshots");
  req.detect.min_points = static_cast<std::size_t>(*min_points);
  std::optional<store::Retention> keep;
  if (auto k = args->get("--keep")) {
    keep = store::parse_retention(*k);
    if (!keep) return usage_error("watch", "--keep: want a count (100) or an age (7d, 12h, 30m), got '" + *k + "'");
  }
  std::int64_t default_timeout = std::clamp<std::int64_t>(*every, base::kNanosPerSecond, kDefaultHttpTimeoutNs);
  auto timeout = duration_flag(*args, "--timeout", default_timeout);
  if (!timeout) return usage_error("watch", timeout.error().message);
  auto max_bytes = size_flag(*args, "--max-snapshot-bytes", kDefaultMaxSnapshotBytes);
  if (!max_bytes) return usage_error("watch", max_bytes.error().message);

  auto st = open_store(args->get("--db").value_or(kDefaultDb), false);
  if (!st) return runtime_error(st.error().message);
  store::Store& store = **st;

  g_stop.store(false);
  install_stop_handlers();
  const bool tty = isatty(STDOUT_FILENO) == 1;
  std::set<std::string> printed;
  std::size_t current_findings = 0;
  std::int64_t rounds = 0, stored = 0;
  base::Nanos next = base::now_ns();

  while (!g_stop.load() && (*count == 0 || rounds < *count)) {
    std::vector<std::optional<Result<Fetched>>> got(targets.size());
    {
      std::vector<std::thread> fetchers;
      for (std::size_t i = 0; i < targets.size(); ++i)
        fetchers.emplace_back([&, i] { got[i].emplace(fetch_snapshot(targets[i].url, *timeout, *max_bytes)); });
      for (auto& t : fetchers) t.join();
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
      TargetState& t = targets[i];
      Result<Fetched>& r = *got[i];
      if (r) {
        auto id = store.add_snapshot(t.url, r->snapshot, r->bytes.view());
        if (!id) return runtime_error(id.error().message);
        ++t.stored;
        ++stored;
        if (t.down) {
          std::fprintf(stderr, "%sleakwatch: %s is back\n", tty ? "\r\033[K" : "", t.url.c_str());
          t.down = false;
        }
      } else {
        ++t.failures;
        if (auto e = store.add_scrape_error(t.url, base::wall_now_ns(), r.error().message); !e)
          return runtime_error(e.error().message);
        if (!t.down) {
          std::fprintf(stderr, "%sleakwatch: warning: %s (recorded; retrying every round)\n", tty ? "\r\033[K" : "",
                       r.error().message.c_str());
          t.down = true;
        }
      }
    }
    if (keep) {
      if (auto p = store.prune(*keep, base::wall_now_ns()); !p) return runtime_error(p.error().message);
    }
    current_findings = 0;
    for (const TargetState& t : targets) {
      if (t.stored == 0) continue;
      AnalysisRequest one = req;
      one.target = t.url;
      auto result = analyze(store, one);
      if (!result) return runtime_error(result.error().message);
      current_findings += result->findings.size();
      for (const auto& f : result->findings) {
        if (!printed.insert(finding_key(f)).second) continue;
        std::printf("%s[%s] %s\n", tty ? "\r\033[K" : "", clock_text().c_str(), finding_text(f).c_str());
      }
    }
    ++rounds;
    if (tty) {
      std::size_t up = 0;
      for (const auto& t : targets) up += t.down ? 0 : 1;
      std::printf("\r\033[Kwatch: round %lld, %zu/%zu targets up, %lld snapshots, %zu findings",
                  static_cast<long long>(rounds), up, targets.size(), static_cast<long long>(stored),
                  current_findings);
    }
    std::fflush(stdout);
    if (*count != 0 && rounds >= *count) break;
    next = std::max(next + *every, base::now_ns());
    sleep_until(next);
  }
  if (tty) std::printf("\r\033[K");
  std::fflush(stdout);
  std::int64_t failures = 0;
  for (const auto& t : targets) failures += t.failures;
  std::fprintf(stderr, "leakwatch: %s after %lld rounds: %lld snapshots stored, %lld failed, %zu findings\n",
               g_stop.load() ? "stopped" : "done", static_cast<long long>(rounds),
               static_cast<long long>(stored), static_cast<long long>(failures), current_findings);
  if (stored == 0) return runtime_error("no snapshot could be taken from any target");
  return current_findings == 0 ? kExitClean : kExitFindings;
}

}  // namespace lw::cli
