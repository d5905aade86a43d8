// leakwatch watch URL...: periodic snapshots of several targets, findings as they appear.
//
// Each round fetches every target at once (one thread per target, each bounded by its request
// deadline, --timeout), waits for them up to the interval (at least 250 ms), then stores what came
// back and runs the differ over each target's window on this thread, so the store has one writer
// here. A target whose request outlasts that is left to finish on its thread and collected at a
// later round (it skips the rounds it is still busy in): one slow target never delays the
// others' rounds. Writes go through a WriteQueue: a database locked by another process is tried
// once per round with a short busy timeout, and the snapshots wait in memory (bounded) until the
// lock is gone; only a hard error stops the watch. A target that fails is recorded in the store
// (scrape_errors), reported once when it goes down and once when it comes back, and retried every
// round; the others carry on. SIGINT/SIGTERM set a flag that is checked between steps: the round
// in progress finishes and is stored, then the watch stops (a second signal kills at once: the
// handler is one-shot, and SQLite's WAL keeps the file sound even then).
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "src/base/clock.hpp"
#include "src/store/retention.hpp"
#include "tools/leakwatch/analysis.hpp"
#include "tools/leakwatch/cli_args.hpp"
#include "tools/leakwatch/http_get.hpp"
#include "tools/leakwatch/commands.hpp"
#include "tools/leakwatch/report.hpp"
#include "tools/leakwatch/target.hpp"
#include "tools/leakwatch/write_queue.hpp"

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
    "While another process holds the database's write lock, snapshots wait in memory (up to 64\n"
    "or 512 MiB) and are written when it is free.\n"
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

// Each write tries the database's lock this long (at most a quarter of the interval), so a locked
// database costs a round a fraction of it.
constexpr std::int64_t kWriteTryMs = 250;

// A round waits for its requests until the next round is due, but at least this long: with a
// very short --every (tests use 20 ms) a healthy target on a loaded machine would otherwise miss
// rounds. Waiting never delays a round by more than this past its time.
constexpr std::int64_t kMinRoundWaitNs = 250'000'000;

// Scrapes hands each target's request to its own thread and tells the main thread when any ends.
class Scrapes {
 public:
  struct Slot {
    std::thread thread;
    bool done = false;  // guarded by mu_
    std::optional<Result<Fetched>> result;  // written before done is set
  };
  ~Scrapes() { join_all(); }

  void start(std::size_t i, const std::string& url, std::int64_t timeout_ns, std::int64_t max_bytes) {
    auto slot = std::make_unique<Slot>();
    Slot* s = slot.get();
    slot->thread = std::thread([this, s, url, timeout_ns, max_bytes] {
      auto r = fetch_snapshot(url, timeout_ns, max_bytes);
      std::lock_guard<std::mutex> lock(mu_);
      s->result.emplace(std::move(r));
      s->done = true;
      cv_.notify_all();
    });
    slots_[i] = std::move(slot);
  }
  void resize(std::size_t n) { slots_.resize(n); }
  bool busy(std::size_t i) const { return slots_[i] != nullptr; }

  // wait_until() returns when no request is in flight, at `deadline` (monotonic), or once a stop
  // is asked.
  void wait_until(base::Nanos deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      bool all = true;
      for (const auto& s : slots_) all = all && (s == nullptr || s->done);
      base::Nanos left = deadline - base::now_ns();
      if (all || left <= 0 || g_stop.load()) return;
      cv_.wait_for(lock, std::chrono::nanoseconds(std::min<base::Nanos>(left, 50 * base::kNanosPerMilli)));
    }
  }
  // take() returns target i's result if its request has ended (and frees the slot).
  std::optional<Result<Fetched>> take(std::size_t i) {
    if (slots_[i] == nullptr) return std::nullopt;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!slots_[i]->done) return std::nullopt;
    }
    slots_[i]->thread.join();
    auto r = std::move(slots_[i]->result);
    slots_[i].reset();
    return r;
  }
  void join_all() {
    for (auto& s : slots_)
      if (s != nullptr && s->thread.joinable()) s->thread.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

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
  const std::string db_path = store.database().path();
  store.database().set_busy_timeout(static_cast<int>(std::clamp<std::int64_t>(
      *every / base::kNanosPerMilli / 4, 10, kWriteTryMs)));

  g_stop.store(false);
  install_stop_handlers();
  const bool tty = isatty(STDOUT_FILENO) == 1;
  const char* clear = tty ? "\r\033[K" : "";
  std::set<std::string> printed;
  std::set<std::int64_t> skipped_printed;
  std::size_t current_findings = 0;
  std::int64_t rounds = 0, stored = 0, waited = 0, dropped = 0;
  bool was_locked = false;
  std::optional<Error> hard;
  base::Nanos next = base::now_ns();
  Scrapes scrapes;
  scrapes.resize(targets.size());
  WriteQueue queue;

  // collect() moves target i's ended request into the queue (or reports it failed).
  auto collect = [&](std::size_t i, Result<Fetched> r) {
    TargetState& t = targets[i];
    if (r) {
      if (t.down) {
        std::fprintf(stderr, "%sleakwatch: %s is back\n", clear, t.url.c_str());
        t.down = false;
      }
      if (!queue.add_snapshot(i, t.url, std::move(*r))) {
        ++dropped;
        std::fprintf(stderr, "%sleakwatch: warning: a snapshot of %s was not kept: %zu snapshots (%s) already wait for %s\n",
                     clear, t.url.c_str(), queue.snapshots(), format_bytes(static_cast<double>(queue.bytes())).c_str(), db_path.c_str());
      }
      return;
    }
    ++t.failures;
    (void)queue.add_error(t.url, base::wall_now_ns(), r.error().message);
    if (!t.down) {
      std::fprintf(stderr, "%sleakwatch: warning: %s (recorded; retrying every round)\n", clear, r.error().message.c_str());
      t.down = true;
    }
  };
  // write() flushes the queue; a lock leaves the rest waiting, a hard error ends the watch.
  auto write = [&]() -> bool {
    auto f = queue.flush(store);
    for (std::size_t i : f.written_for) ++targets[i].stored;
    stored += static_cast<std::int64_t>(f.snapshots_written);
    waited += static_cast<std::int64_t>(f.waited_written);
    if (f.hard) {
      hard = f.hard;
      return false;
    }
    if (f.locked) {
      std::fprintf(stderr, "%sleakwatch: database %s is locked by another writer: %zu snapshots wait (bound %zu or %s)\n",
                   clear, db_path.c_str(), queue.snapshots(), kMaxQueuedSnapshots, size_text(kMaxQueuedBytes).c_str());
      was_locked = true;
    } else if (was_locked) {
      std::fprintf(stderr, "%sleakwatch: database %s is free again: %zu waiting snapshots written\n", clear,
                   db_path.c_str(), f.waited_written);
      was_locked = false;
    }
    return true;
  };

  while (!g_stop.load() && (*count == 0 || rounds < *count)) {
    base::Nanos round_start = base::now_ns();
    for (std::size_t i = 0; i < targets.size(); ++i)
      if (!scrapes.busy(i)) scrapes.start(i, targets[i].url, *timeout, *max_bytes);
    bool last = *count != 0 && rounds + 1 >= *count;
    // The last round waits for every request (each ends by its deadline); the others until the
    // next round is due: a request still going then is collected at a later round.
    scrapes.wait_until(last ? round_start + *timeout + base::kNanosPerSecond
                            : round_start + std::max<std::int64_t>(*every, kMinRoundWaitNs));
    for (std::size_t i = 0; i < targets.size(); ++i)
      if (auto r = scrapes.take(i)) collect(i, std::move(*r));
    if (!write()) break;
    if (keep && !queue.empty()) {
      // Retention waits for the lock too: applying it now would judge a partial history.
    } else if (keep) {
      auto p = store.prune(*keep, base::wall_now_ns());
      if (!p && !store.database().last_failure_busy()) {
        hard = p.error();
        break;
      }
    }
    current_findings = 0;
    for (const TargetState& t : targets) {
      if (t.stored == 0) continue;
      AnalysisRequest one = req;
      one.target = t.url;
      auto result = analyze(store, one);
      if (!result) {
        hard = result.error();
        break;
      }
      for (const auto& [id, why] : result->skipped)
        if (skipped_printed.insert(id).second)
          std::fprintf(stderr, "%sleakwatch: warning: %s; snapshot %lld skipped, the others judged\n", clear,
                       why.c_str(), static_cast<long long>(id));
      current_findings += result->findings.size();
      for (const auto& f : result->findings) {
        if (!printed.insert(finding_key(f)).second) continue;
        std::printf("%s[%s] %s\n", clear, clock_text().c_str(), finding_text(f, palette_for(stdout)).c_str());
      }
    }
    if (hard) break;
    ++rounds;
    if (tty) {
      std::size_t up = 0;
      for (const auto& t : targets) up += t.down ? 0 : 1;
      std::printf("\r\033[Kwatch: round %lld, %zu/%zu targets up, %lld snapshots, %zu findings%s",
                  static_cast<long long>(rounds), up, targets.size(), static_cast<long long>(stored),
                  current_findings, queue.empty() ? "" : (", " + std::to_string(queue.snapshots()) + " waiting").c_str());
    }
    std::fflush(stdout);
    if (*count != 0 && rounds >= *count) break;
    next = std::max(next + *every, base::now_ns());
    sleep_until(next);
  }
  // Requests still in flight end by their deadline; what they bring is written too.
  scrapes.join_all();
  for (std::size_t i = 0; i < targets.size(); ++i)
    if (auto r = scrapes.take(i)) collect(i, std::move(*r));
  if (!queue.empty()) {
    // The last chance for what waits: the usual busy timeout, then it is reported lost.
    store.database().set_busy_timeout(store::kDefaultBusyTimeoutMs);
    if (write() && !queue.empty()) {
      dropped += static_cast<std::int64_t>(queue.snapshots());
      hard = make_error(std::to_string(queue.snapshots()) + " snapshots could not be written: database " + db_path +
                        " stayed locked by another writer");
    }
  }
  if (tty) std::printf("\r\033[K");
  std::fflush(stdout);
  std::int64_t failures = 0;
  for (const auto& t : targets) failures += t.failures;
  std::string extra;
  if (waited > 0) extra += ", " + std::to_string(waited) + " waited for the database lock";
  if (dropped > 0) extra += ", " + std::to_string(dropped) + " not kept";
  std::fprintf(stderr, "leakwatch: %s after %lld rounds: %lld snapshots stored, %lld failed, %zu findings%s\n",
               g_stop.load() ? "stopped" : (hard ? "stopped by an error" : "done"), static_cast<long long>(rounds),
               static_cast<long long>(stored), static_cast<long long>(failures), current_findings, extra.c_str());
  if (hard) return runtime_error(hard->message);
  if (stored == 0) return runtime_error("no snapshot could be taken from any target");
  return current_findings == 0 ? kExitClean : kExitFindings;
}

}  // namespace lw::cli
