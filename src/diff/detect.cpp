// The verdicts. docs/detection.md is the user-facing account; this is the reasoning.
//
// Growth (heap sites, tasks per creation site, custom profile keys per stack, HeapAlloc, task
// count) is judged on one series:
// one process run of one target, so a restart (memory back to its base, task ids reused) never
// reads as churn or as one long stuck task. A growth verdict needs all of:
//   1. enough snapshots (min_points) and growth over the window above a floor;
//   2. a significant least-squares slope: slope / SE >= min_t, where SE is the larger of the
//      residual standard error and the error the heap sampler alone would give. A sampled site's
//      estimate has variance ~ rate * bytes (each sample stands for `rate` bytes; the sample count
//      is ~Poisson), so SE_sampling = sqrt(sum dx_i^2 * rate * y_i) / Sxx. Exact counts (rate 1,
//      task counts) use the residuals only;
//   3. monotonic-ish: Kendall's tau over the points >= min_kendall_tau. Churn (up and down) has a
//      tau near 0 even when a few high points tilt the line;
//   4. still growing at the end: the later half of the window has a slope of at least
//      min_tail_ratio of the whole one, at least min_tail_t standard errors above zero, and not
//      more than max_tail_drop_se standard errors below the whole window's slope; and the last
//      third has a positive slope. A cache that fills then plateaus has a flat tail and is not a
//      finding. Under heavy sampling noise this trades misses for quiet: a looser min_tail_t (1.0)
//      halved the misses of a noisy leak but reported a full cache 3-5 times as often
//      (tools/bench/store/detect_noise.cpp; figures in docs/detection.md). A leak keeps growing,
//      so a later, longer window finds it; a false alarm would be repeated every round.
// Rejected: comparing first and last snapshot (one noisy sample decides), and a plain r^2
// threshold (a steep fill-then-flat curve fits a line well).
//
// Stuck tasks need no statistics: a task parked on the same stack and wait reason with the same
// switch count in every snapshot from T to now has not run since T. It is reported once now - T
// >= stuck_after. Tasks the runtime proved leaked are reported as leaked_tasks instead.
//
// OS threads are judged by the same code (Waiters below says what differs). A thread has no switch
// count; what shows that it ran is its CPU time (utime + stime) and its wait: an interposed wait
// has an exact start, which changes each time the thread wakes and waits again; a syscall has no
// start, only its name and descriptor. So a thread is unmoved while its state, stack, wait reason,
// wait object, wait start and CPU time are all the same. Two waits are never stuck:
//   - a timed wait with no exact start (a syscall with a timeout): it may have returned and been
//     re-entered between two snapshots at a cost below the clock tick CPU time is counted in, and
//     it ends by itself;
//   - a join: it waits for another thread to end, and that thread is judged itself (stuck, leaked,
//     growing); a main() joining a server thread that runs for the life of the process is the
//     commonest shape of a healthy C++ service.
// Rejected: judging threads by the wait start alone (syscalls have none) or by CPU time alone (a
// wait re-entered without a tick of CPU time would read as stuck).
//
// Unjoined threads: a thread that exited while joinable keeps its stack until joined. One that
// exited moments before a snapshot may be joined right after it, so it is reported only when the
// same thread (tid and exit time) is exited and joinable in the newest snapshot and in at least
// one before it: it has been waiting to be joined for at least one snapshot interval.
#include "src/diff/detect.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "src/diff/trend.hpp"

namespace lw::diff {
namespace {

constexpr double kNsPerMinute = 60e9;
constexpr std::size_t kMaxIds = 10;
constexpr std::string_view kJoinWait = "thread join";  // ThreadRecord::wait_reason of pthread_join

struct Growth {
  bool grows = false;
  double slope = 0;  // per minute
  double confidence = 0;
};

double kendall_tau(const std::vector<double>& ys) {
  std::size_t n = ys.size();
  double c = 0, d = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      if (ys[j] > ys[i]) c += 1;
      else if (ys[j] < ys[i]) d += 1;
    }
  double pairs = static_cast<double>(n * (n - 1) / 2);
  return pairs > 0 ? (c - d) / pairs : 0;
}

// slope_se() is the standard error of a fitted slope: the larger of the residual one and the
// sampling one (see the top of the file). 0 for an exact line.
double slope_se(const Trend& t, std::span<const double> xs, std::span<const double> ys, double rate) {
  double se = t.slope_stderr;
  if (rate > 1) {
    double mx = 0;
    for (double x : xs) mx += x;
    mx /= static_cast<double>(xs.size());
    double sxx = 0, var = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      double dx = xs[i] - mx;
      sxx += dx * dx;
      var += dx * dx * rate * std::max(ys[i], 0.0);
    }
    if (sxx > 0) se = std::max(se, std::sqrt(var) / sxx);
  }
  return se;
}

// slope_t() is the slope over its standard error; infinite for an exact rising line.
double slope_t(const Trend& t, std::span<const double> xs, std::span<const double> ys, double rate) {
  double se = slope_se(t, xs, ys, rate);
  if (se <= 0) return t.slope > 0 ? std::numeric_limits<double>::infinity() : 0;
  return t.slope / se;
}

Growth test_growth(const std::vector<double>& xs, const std::vector<double>& ys, double rate,
                   double min_growth, const DetectOptions& o) {
  Growth g;
  std::size_t n = xs.size();
  if (n < o.min_points || n < 3) return g;
  Trend full = fit_trend(xs, ys);
  double span = xs.back() - xs.front();
  if (full.slope <= 0 || span <= 0 || full.slope * span < min_growth) return g;
  if (slope_t(full, xs, ys, rate) < o.min_t) return g;
  double tau = kendall_tau(ys);
  if (tau < o.min_kendall_tau) return g;
  // The later half of the window, by time.
  std::size_t half = 0;
  while (half < n && xs[half] < xs.front() + span / 2) ++half;
  if (n - half < 3) half = n - 3;
  std::span<const double> tx(xs.data() + half, n - half), ty(ys.data() + half, n - half);
  Trend tail = fit_trend(tx, ty);
  double tail_se = slope_se(tail, tx, ty, rate);
  // Rejected as a plateau when the later half is flat or falling, not even weakly rising, or
  // significantly flatter than the whole window.
  if (tail.slope < o.min_tail_ratio * full.slope || slope_t(tail, tx, ty, rate) < o.min_tail_t ||
      full.slope - tail.slope > o.max_tail_drop_se * tail_se)
    return g;
  std::size_t third = std::max<std::size_t>(3, n / 3);
  Trend last = fit_trend(std::span<const double>(xs.data() + n - third, third),
                         std::span<const double>(ys.data() + n - third, third));
  if (last.slope <= 0) return g;
  g.grows = true;
  g.slope = full.slope;
  g.confidence = std::clamp(0.5 * tau + 0.5 * full.r2, 0.0, 1.0);
  return g;
}

Finding base_finding(FindingKind kind, const Series& s) {
  Finding f;
  f.kind = kind;
  f.target = s.target;
  f.instance_id = s.instance_id;
  f.points = static_cast<std::int64_t>(s.points.size());
  f.from_snapshot = s.points.front().snapshot_id;
  f.to_snapshot = s.points.back().snapshot_id;
  f.span_ns = s.points.back().time_unix_ns - s.points.front().time_unix_ns;
  return f;
}

void heap_growth(const Series& s, const std::vector<double>& xs, const StackNames& names,
                 const DetectOptions& o, std::vector<Finding>& out) {
  std::size_t n = s.points.size();
  std::map<StackKey, std::vector<double>> by_site;
  double rate = 0;
  for (std::size_t i = 0; i < n; ++i) {
    rate = std::max(rate, static_cast<double>(s.points[i].sample_rate));
    for (const SitePoint& sp : s.points[i].sites) {
      auto& ys = by_site[sp.stack];
      if (ys.empty()) ys.assign(n, 0.0);
      ys[i] += static_cast<double>(sp.inuse_bytes);
    }
  }
  double min_growth = std::max<double>(static_cast<double>(o.min_growth_bytes), 4 * rate);
  for (const auto& [stack, ys] : by_site) {
    Growth g = test_growth(xs, ys, rate, min_growth, o);
    if (!g.grows) continue;
    Finding f = base_finding(FindingKind::kHeapGrowth, s);
    f.frames = names.frames(stack);
    f.site_stack = stack;
    f.bytes_per_minute = g.slope;
    f.first_value = static_cast<std::int64_t>(ys.front());
    f.last_value = static_cast<std::int64_t>(ys.back());
    f.confidence = g.confidence;
    out.push_back(std::move(f));
  }
}

// Waiters say what differs between tasks and OS threads for the verdicts that judge both: which
// records of a point they are, which finding kinds they give, whether one is judged at all, what
// it waits on, and whether it has moved between two snapshots.
struct TaskWaiters {
  using Record = TaskPoint;
  static constexpr FindingKind kStuck = FindingKind::kStuckTasks;
  static constexpr FindingKind kLeaked = FindingKind::kLeakedTasks;
  static constexpr FindingKind kGrowth = FindingKind::kTaskGrowth;
  static constexpr double Finding::*kRate = &Finding::tasks_per_minute;
  static const std::vector<Record>& of(const Point& p) { return p.tasks; }
  static std::uint64_t id(const Record& t) { return t.id; }
  static bool judged(const Record&) { return true; }
  static bool live(const Record& t) { return t.state != snapshot::TaskState::kDead; }
  // blocked_on() is the wait reason a blocked record is grouped under (a view into the record or
  // a literal); nullopt when not blocked.
  // A task inside a blocking call (lw::BlockingCall: a read that never returns is as stuck as a
  // receive that never does) is grouped under "syscall".
  static std::optional<std::string_view> blocked_on(const Record& t) {
    if (t.state == snapshot::TaskState::kSyscall) return "syscall";
    if (t.state == snapshot::TaskState::kWaiting) return t.wait_reason;
    return std::nullopt;
  }
  static bool unmoved(const Record& before, const Record& now) {
    return before.state == now.state && before.stack == now.stack && before.wait_reason == now.wait_reason &&
           before.switch_count == now.switch_count && before.wait_since_unix_ns == now.wait_since_unix_ns;
  }
};

struct ThreadWaiters {
  using Record = ThreadPoint;
  static constexpr FindingKind kStuck = FindingKind::kStuckThreads;
  static constexpr FindingKind kLeaked = FindingKind::kLeakedThreads;
  static constexpr FindingKind kGrowth = FindingKind::kThreadGrowth;
  static constexpr double Finding::*kRate = &Finding::threads_per_minute;
  static const std::vector<Record>& of(const Point& p) { return p.threads; }
  static std::uint64_t id(const Record& t) { return static_cast<std::uint64_t>(t.tid); }
  static bool judged(const Record& t) { return !t.ignored; }
  static bool live(const Record& t) { return t.state != snapshot::ThreadState::kExited; }
  static std::optional<std::string_view> blocked_on(const Record& t) {
    bool in_call = t.state == snapshot::ThreadState::kSyscall;
    if (!in_call && t.state != snapshot::ThreadState::kWaiting) return std::nullopt;
    if (t.timed_wait && t.wait_since_unix_ns == 0) return std::nullopt;  // see the top of the file
    if (t.wait_reason == kJoinWait) return std::nullopt;                   // likewise
    if (t.wait_reason.empty()) return in_call ? "syscall" : "wait";
    return t.wait_reason;
  }
  static bool unmoved(const Record& before, const Record& now) {
    return before.state == now.state && before.stack == now.stack && before.wait_reason == now.wait_reason &&
           before.wait_object == now.wait_object && before.wait_since_unix_ns == now.wait_since_unix_ns &&
           before.cpu_ns == now.cpu_ns;
  }
};

// ById indexes the records of every point but the newest by id, to walk a record back in time.
template <class W>
using ById = std::vector<std::unordered_map<std::uint64_t, const typename W::Record*>>;

template <class W>
ById<W> index_by_id(const Series& s) {
  ById<W> index(s.points.size() - 1);
  for (std::size_t i = 0; i + 1 < s.points.size(); ++i) {
    index[i].reserve(W::of(s.points[i]).size());
    for (const auto& r : W::of(s.points[i])) index[i].emplace(W::id(r), &r);
  }
  return index;
}

// first_alike() walks `now` (a record of the newest point) back while `alike(earlier, now)` holds
// and returns the index of the earliest point of that run; the newest point's index when none.
template <class W, class Alike>
std::size_t first_alike(const Series& s, const ById<W>& index, const typename W::Record& now, Alike alike) {
  std::size_t first = s.points.size() - 1;
  while (first > 0) {
    auto it = index[first - 1].find(W::id(now));
    if (it == index[first - 1].end() || !alike(*it->second, now)) break;
    --first;
  }
  return first;
}

// growth_by_creation_site() is task_growth / thread_growth: the live records per creation site
// (per current stack when there is none), judged by test_growth() on exact counts.
template <class W>
void growth_by_creation_site(const Series& s, const std::vector<double>& xs, const StackNames& names,
                             const DetectOptions& o, std::vector<Finding>& out) {
  std::size_t n = s.points.size();
  // Grouped by creation site; records with no creation stack by their current stack.
  std::map<StackKey, std::vector<double>> by_site;
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& t : W::of(s.points[i])) {
      if (!W::live(t) || !W::judged(t)) continue;
      StackKey k = t.create_stack != 0 ? t.create_stack : -t.stack;
      if (k == 0) continue;
      auto& ys = by_site[k];
      if (ys.empty()) ys.assign(n, 0.0);
      ys[i] += 1;
    }
  }
  for (const auto& [key, ys] : by_site) {
    Growth g = test_growth(xs, ys, 0, static_cast<double>(o.min_task_growth), o);
    if (!g.grows) continue;
    Finding f = base_finding(W::kGrowth, s);
    if (key > 0) f.create_frames = f.frames = names.frames(key);
    else f.frames = names.frames(-key);
    f.*W::kRate = g.slope;
    f.count = static_cast<std::int64_t>(ys.back());
    f.first_value = static_cast<std::int64_t>(ys.front());
    f.last_value = f.count;
    f.confidence = g.confidence;
    out.push_back(std::move(f));
  }
}

using GroupKey = std::tuple<std::string, StackKey, StackKey>;  // wait reason, stack, create stack

// stuck_confidence() is unmoved / (2 x stuck_after), clamped to 0.5..1: twice the threshold is as
// certain as a verdict by time gets.
double stuck_confidence(std::int64_t span_ns, const DetectOptions& o) {
  return std::clamp(static_cast<double>(span_ns) / (2.0 * static_cast<double>(o.stuck_after_ns)), 0.5, 1.0);
}

template <class W>
void stuck_and_leaked(const Series& s, const ById<W>& index, const StackNames& names, const DetectOptions& o,
                      std::vector<Finding>& out) {
  const Point& last = s.points.back();
  std::map<GroupKey, Finding> stuck, leaked;
  for (const auto& t : W::of(last)) {
    if (!W::judged(t)) continue;
    if (t.leaked) {
      Finding& f = leaked[{t.wait_reason, t.stack, t.create_stack}];
      if (f.count == 0) {
        f = base_finding(W::kLeaked, s);
        f.from_snapshot = f.to_snapshot = last.snapshot_id;
        f.detail = t.leak_reason;
        f.span_ns = t.wait_since_unix_ns > 0 ? last.time_unix_ns - t.wait_since_unix_ns : 0;
      }
      ++f.count;
      if (f.ids.size() < kMaxIds) f.ids.push_back(W::id(t));
      continue;
    }
    std::optional<std::string_view> reason = W::blocked_on(t);
    if (!reason) continue;
    std::size_t first = first_alike<W>(s, index, t, W::unmoved);
    std::int64_t unchanged = last.time_unix_ns - s.points[first].time_unix_ns;
    if (first == s.points.size() - 1 || unchanged < o.stuck_after_ns) continue;
    Finding& f = stuck[{std::string(*reason), t.stack, t.create_stack}];
    if (f.count == 0) {
      f = base_finding(W::kStuck, s);
      f.span_ns = 0;  // set by the group's longest-stuck member below
    }
    ++f.count;
    if (unchanged >= f.span_ns) {  // the group's figures are those of its longest-stuck member
      f.span_ns = unchanged;
      f.from_snapshot = s.points[first].snapshot_id;
      f.points = static_cast<std::int64_t>(s.points.size() - first);
    }
    if (f.ids.size() < kMaxIds) f.ids.push_back(W::id(t));
  }
  auto emit = [&](std::map<GroupKey, Finding>& groups, bool is_stuck) {
    for (auto& [key, f] : groups) {
      f.wait_reason = std::get<0>(key);
      f.frames = names.frames(std::get<1>(key));
      f.create_frames = names.frames(std::get<2>(key));
      f.last_value = f.count;
      f.confidence = is_stuck ? stuck_confidence(f.span_ns, o) : 1.0;
      out.push_back(std::move(f));
    }
  };
  emit(leaked, false);
  emit(stuck, true);
}

// unjoined_threads() groups, per creation site, the threads exited while joinable in the newest
// snapshot and, as the same thread (tid and exit time), in at least one snapshot before it.
void unjoined_threads(const Series& s, const ById<ThreadWaiters>& index, const StackNames& names,
                      const DetectOptions& o, std::vector<Finding>& out) {
  auto unjoined = [](const ThreadPoint& t) {
    return t.state == snapshot::ThreadState::kExited && t.join == snapshot::JoinState::kJoinable;
  };
  const Point& last = s.points.back();
  std::map<StackKey, Finding> by_site;
  for (const ThreadPoint& t : last.threads) {
    if (t.ignored || !unjoined(t)) continue;
    // The same thread: a reused tid exits at another time.
    auto same_exit = [&](const ThreadPoint& before, const ThreadPoint& now) {
      return unjoined(before) && before.exit_time_unix_ns == now.exit_time_unix_ns;
    };
    std::size_t first = first_alike<ThreadWaiters>(s, index, t, same_exit);
    if (first == s.points.size() - 1) continue;
    std::int64_t gone = t.exit_time_unix_ns > 0 ? last.time_unix_ns - t.exit_time_unix_ns
                                                : last.time_unix_ns - s.points[first].time_unix_ns;
    Finding& f = by_site[t.create_stack];
    if (f.count == 0) {
      f = base_finding(FindingKind::kUnjoinedThreads, s);
      f.span_ns = 0;  // set by the group's longest-gone member below
    }
    ++f.count;
    if (gone >= f.span_ns) {
      f.span_ns = gone;
      f.from_snapshot = s.points[first].snapshot_id;
      f.points = static_cast<std::int64_t>(s.points.size() - first);
    }
    if (f.ids.size() < kMaxIds) f.ids.push_back(ThreadWaiters::id(t));
  }
  for (auto& [site, f] : by_site) {
    f.create_frames = f.frames = names.frames(site);
    f.last_value = f.count;
    f.confidence = stuck_confidence(f.span_ns, o);
    out.push_back(std::move(f));
  }
}

// profile_growth() judges each custom profile's live keys per stack as task_growth judges tasks
// per creation site: exact counts, the same trend tests. A profile is a set the program says it
// holds (connections, files), so a count that keeps rising at one stack is that set leaking.
void profile_growth(const Series& s, const std::vector<double>& xs, const StackNames& names,
                    const DetectOptions& o, std::vector<Finding>& out) {
  std::size_t n = s.points.size();
  std::map<std::pair<std::string, StackKey>, std::vector<double>> by_site;
  for (std::size_t i = 0; i < n; ++i) {
    for (const ProfilePoint& pp : s.points[i].profile_sites) {
      auto& ys = by_site[{pp.profile, pp.stack}];
      if (ys.empty()) ys.assign(n, 0.0);
      ys[i] += static_cast<double>(pp.count);
    }
  }
  for (const auto& [site, ys] : by_site) {
    Growth g = test_growth(xs, ys, 0, static_cast<double>(o.min_profile_growth), o);
    if (!g.grows) continue;
    Finding f = base_finding(FindingKind::kProfileGrowth, s);
    f.profile = site.first;
    f.frames = names.frames(site.second);
    f.keys_per_minute = g.slope;
    f.count = static_cast<std::int64_t>(ys.back());
    f.first_value = static_cast<std::int64_t>(ys.front());
    f.last_value = f.count;
    f.confidence = g.confidence;
    out.push_back(std::move(f));
  }
}

void process_growth(const Series& s, const std::vector<double>& xs, const DetectOptions& o,
                    std::vector<Finding>& out) {
  std::vector<double> heap, tasks;
  for (const Point& p : s.points) {
    heap.push_back(static_cast<double>(p.heap_alloc));
    tasks.push_back(static_cast<double>(p.num_tasks));
  }
  if (Growth g = test_growth(xs, heap, 0, static_cast<double>(o.min_growth_bytes), o); g.grows) {
    Finding f = base_finding(FindingKind::kHeapAllocGrowth, s);
    f.bytes_per_minute = g.slope;
    f.first_value = static_cast<std::int64_t>(heap.front());
    f.last_value = static_cast<std::int64_t>(heap.back());
    f.confidence = g.confidence;
    out.push_back(std::move(f));
  }
  if (Growth g = test_growth(xs, tasks, 0, static_cast<double>(o.min_task_growth), o); g.grows) {
    Finding f = base_finding(FindingKind::kTaskCountGrowth, s);
    f.tasks_per_minute = g.slope;
    f.first_value = static_cast<std::int64_t>(tasks.front());
    f.last_value = f.count = static_cast<std::int64_t>(tasks.back());
    f.confidence = g.confidence;
    out.push_back(std::move(f));
  }
}

// fold_growth() marks in `drop` the growth findings (of W's kind) at a creation site whose
// records are reported stuck or leaked, and gives those findings the growth rate.
template <class W>
void fold_growth(std::vector<Finding>& out, std::vector<bool>& drop) {
  for (std::size_t g = 0; g < out.size(); ++g) {
    if (out[g].kind != W::kGrowth || out[g].create_frames.empty()) continue;
    for (Finding& f : out) {
      if ((f.kind == W::kLeaked || f.kind == W::kStuck) && f.create_frames == out[g].create_frames) {
        f.*W::kRate = std::max(f.*W::kRate, out[g].*W::kRate);
        drop[g] = true;
      }
    }
  }
}

// fold_explained() keeps one finding per fault. Task (thread) growth at a creation site whose
// tasks (threads) are already reported leaked or stuck is the same fault seen twice: it becomes
// that finding's growth rate. A process-level trend is dropped when a site-level finding of the
// same resource is there to explain it; it stays when no single site does (growth spread thinly
// over many sites).
void fold_explained(std::vector<Finding>& out) {
  std::vector<bool> drop(out.size(), false);
  bool heap_site = false, task_site = false;
  fold_growth<TaskWaiters>(out, drop);
  fold_growth<ThreadWaiters>(out, drop);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (drop[i]) continue;
    if (out[i].kind == FindingKind::kHeapGrowth) heap_site = true;
    if (out[i].kind == FindingKind::kTaskGrowth || out[i].tasks_per_minute > 0) {
      if (out[i].kind != FindingKind::kTaskCountGrowth) task_site = true;
    }
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if ((out[i].kind == FindingKind::kHeapAllocGrowth && heap_site) ||
        (out[i].kind == FindingKind::kTaskCountGrowth && task_site))
      drop[i] = true;
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (drop[i]) continue;
    if (kept != i) out[kept] = std::move(out[i]);
    ++kept;
  }
  out.resize(kept);
}

double strength(const Finding& f) {
  switch (f.kind) {
    case FindingKind::kHeapGrowth:
    case FindingKind::kHeapAllocGrowth: return f.bytes_per_minute;
    case FindingKind::kTaskGrowth:
    case FindingKind::kTaskCountGrowth: return f.tasks_per_minute;
    case FindingKind::kThreadGrowth: return f.threads_per_minute;
    case FindingKind::kProfileGrowth: return f.keys_per_minute;
    default: return static_cast<double>(f.count);
  }
}

}  // namespace

std::vector<Finding> detect_series(const Series& s, const StackNames& names, const DetectOptions& o) {
  std::vector<Finding> out;
  if (s.points.empty()) return out;
  std::vector<double> xs;
  xs.reserve(s.points.size());
  for (const Point& p : s.points)
    xs.push_back(static_cast<double>(p.time_unix_ns - s.points.front().time_unix_ns) / kNsPerMinute);
  stuck_and_leaked<TaskWaiters>(s, index_by_id<TaskWaiters>(s), names, o, out);
  auto threads = index_by_id<ThreadWaiters>(s);
  stuck_and_leaked<ThreadWaiters>(s, threads, names, o, out);
  unjoined_threads(s, threads, names, o, out);
  heap_growth(s, xs, names, o, out);
  growth_by_creation_site<TaskWaiters>(s, xs, names, o, out);
  growth_by_creation_site<ThreadWaiters>(s, xs, names, o, out);
  profile_growth(s, xs, names, o, out);
  process_growth(s, xs, o, out);
  fold_explained(out);
  return out;
}

std::vector<Finding> detect(const std::vector<Series>& series, const StackNames& names,
                            const DetectOptions& o) {
  std::vector<Finding> out;
  for (const Series& s : series) {
    auto f = detect_series(s, names, o);
    out.insert(out.end(), std::make_move_iterator(f.begin()), std::make_move_iterator(f.end()));
  }
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    if (a.kind != b.kind) return a.kind < b.kind;
    return strength(a) > strength(b);
  });
  return out;
}

}  // namespace lw::diff
