// The history goes out as columns (one array per gauge, "unix_ms" first), the shape uPlot draws
// from without reshaping, and last: everything before it depends on the capture only, so the
// router renders that once per capture and every refresh that reuses the capture adds its own
// history to the same text. Lists are bounded (kLive*) with their totals beside them, so the page
// says "20 of 294" rather than shipping a megabyte a second for a program that leaks fast.
#include "src/server/live_json.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>
#include <utility>

#include "src/base/json_text.hpp"
#include "src/profile/thread_text.hpp"

namespace lw::server {
namespace {

using snapshot::Snapshot;

class Writer {
 public:
  std::string out;
  void key(std::string_view k) {
    comma();
    base::json_escape(k, &out);
    out += ':';
    first_ = true;  // the value that follows needs no comma
  }
  void open(char c) {
    comma();
    out += c;
    first_ = true;
  }
  void close(char c) {
    out += c;
    first_ = false;
  }
  // continue_object() carries on an object whose opening text is already in `out`.
  void continue_object() { first_ = false; }
  // raw_value() starts a value the caller appends to `out` itself.
  void raw_value() { comma(); }
  void str(std::string_view v) {
    comma();
    base::json_escape(v, &out);
  }
  // Numbers go straight into `out` (no temporary string: a page's document holds thousands).
  void num(std::uint64_t v) {
    comma();
    append_number(v);
  }
  void num(std::int64_t v) {
    comma();
    append_number(v);
  }
  void field(std::string_view k, std::uint64_t v) {
    key(k);
    num(v);
  }
  void field(std::string_view k, std::int64_t v) {
    key(k);
    num(v);
  }
  void field(std::string_view k, std::string_view v) {
    key(k);
    str(v);
  }

 private:
  void comma() {
    if (!first_) out += ',';
    first_ = false;
  }
  template <typename T>
  void append_number(T v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
  }
  bool first_ = true;
};

class Stacks {
 public:
  explicit Stacks(const Snapshot& s) {
    for (const snapshot::Stack& st : s.stacks) by_id_.emplace(st.id, &st);
  }
  // write() writes stack `id`'s frames as [{"function","file","line"}, ...].
  void write(Writer& w, std::string_view key, snapshot::StackId id, FrameNames& names) const {
    w.key(key);
    w.open('[');
    auto it = by_id_.find(id);
    if (it != by_id_.end()) {
      const auto& pcs = it->second->pcs;
      for (std::size_t i = 0; i < pcs.size() && i < kLiveFrames; ++i) {
        w.raw_value();
        names.append_json(pcs[i], &w.out);
      }
    }
    w.close(']');
  }

 private:
  std::unordered_map<snapshot::StackId, const snapshot::Stack*> by_id_;
};

void write_labels(Writer& w, const snapshot::Labels& labels) {
  w.key("labels");
  w.open('{');
  for (const auto& [k, v] : labels) w.field(k, v);
  w.close('}');
}

// write_groups() writes rows {state, wait_reason, count, leaked}, most first, at most kLiveGroups.
void write_groups(Writer& w, std::string_view key, std::map<std::pair<std::string, std::string>, std::pair<std::uint64_t, std::uint64_t>> groups) {
  std::vector<std::pair<std::pair<std::string, std::string>, std::pair<std::uint64_t, std::uint64_t>>> rows(groups.begin(), groups.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  w.key(key);
  w.open('[');
  for (std::size_t i = 0; i < rows.size() && i < kLiveGroups; ++i) {
    w.open('{');
    w.field("state", rows[i].first.first);
    w.field("wait_reason", rows[i].first.second);
    w.field("count", rows[i].second.first);
    w.field("leaked", rows[i].second.second);
    w.close('}');
  }
  w.close(']');
}

std::uint64_t leak_id(const snapshot::TaskRecord& t) { return t.id; }
std::uint64_t leak_id(const snapshot::ThreadRecord& t) { return static_cast<std::uint64_t>(t.tid); }
std::string_view leak_name(const snapshot::TaskRecord&) { return {}; }
std::string_view leak_name(const snapshot::ThreadRecord& t) { return t.name; }

// write_leaks() writes the leaked records (`is_leak`) of one kind, the longest stuck first (the
// oldest leak is the one to read), at most kLiveLeaks.
template <typename Record, typename IsLeak>
void write_leaks(Writer& w, const std::vector<Record>& records, std::string_view kind, const Stacks& stacks,
                 FrameNames& names, IsLeak is_leak) {
  std::vector<const Record*> leaked;
  for (const Record& r : records)
    if (is_leak(r)) leaked.push_back(&r);
  const std::size_t listed = std::min(leaked.size(), kLiveLeaks);
  std::partial_sort(leaked.begin(), leaked.begin() + static_cast<std::ptrdiff_t>(listed), leaked.end(),
                    [](const Record* a, const Record* b) { return a->wait_since_unix_ns < b->wait_since_unix_ns; });
  for (std::size_t i = 0; i < listed; ++i) {
    const Record& r = *leaked[i];
    w.open('{');
    w.field("kind", kind);
    w.field("id", leak_id(r));
    if (!leak_name(r).empty()) w.field("name", leak_name(r));
    w.field("wait_reason", r.wait_reason);
    w.field("reason", r.leak_reason);
    w.field("wait_since_unix_ms", r.wait_since_unix_ns / 1'000'000);
    write_labels(w, r.labels);
    stacks.write(w, "stack", r.stack_id, names);
    stacks.write(w, "created_at", r.create_stack_id, names);
    w.close('}');
  }
}

void write_history(Writer& w, const std::vector<LivePoint>& points) {
  auto column = [&](std::string_view name, auto get) {
    w.key(name);
    w.open('[');
    for (const LivePoint& p : points) w.num(get(p));
    w.close(']');
  };
  w.key("history");
  w.open('{');
  column("unix_ms", [](const LivePoint& p) { return p.unix_ms; });
  column("heap_alloc", [](const LivePoint& p) { return p.heap_alloc; });
  column("heap_objects", [](const LivePoint& p) { return p.heap_objects; });
  column("sys", [](const LivePoint& p) { return p.sys; });
  column("rss", [](const LivePoint& p) { return p.rss; });
  column("tasks", [](const LivePoint& p) { return p.tasks; });
  column("threads", [](const LivePoint& p) { return p.threads; });
  column("leaked_tasks", [](const LivePoint& p) { return p.leaked_tasks; });
  column("leaked_threads", [](const LivePoint& p) { return p.leaked_threads; });
  w.close('}');
}

}  // namespace

std::string write_live_figures(const LiveInput& in) {
  const Snapshot& s = *in.counters;
  const Stacks stacks(s);
  const LivePoint now = live_point(s, in.proc);
  Writer w;
  w.out.reserve(64 * 1024);
  w.open('{');
  w.field("time_unix_ms", now.unix_ms);
  w.field("pid", static_cast<std::int64_t>(getpid()));
  w.key("now");
  w.open('{');
  w.field("heap_alloc", now.heap_alloc);
  w.field("heap_objects", now.heap_objects);
  w.field("sys", now.sys);
  w.field("rss", now.rss);
  w.field("tasks", now.tasks);
  w.field("threads", now.threads);
  w.field("leaked_tasks", now.leaked_tasks);
  w.field("leaked_threads", now.leaked_threads);
  w.field("total_alloc", s.mem.total_alloc);
  w.field("mallocs", s.mem.mallocs);
  w.field("frees", s.mem.frees);
  w.field("self_bytes", s.mem.self_bytes);
  w.field("heap_sample_rate", s.heap.sample_rate);
  w.close('}');

  std::map<std::pair<std::string, std::string>, std::pair<std::uint64_t, std::uint64_t>> groups;
  for (const snapshot::TaskRecord& t : s.tasks) {
    if (t.state == snapshot::TaskState::kDead) continue;
    auto& g = groups[{std::string(to_string(t.state)), t.wait_reason}];
    ++g.first;
    g.second += t.leaked ? 1 : 0;
  }
  write_groups(w, "tasks", std::move(groups));
  groups.clear();
  for (const snapshot::ThreadRecord& t : s.threads) {
    if (!profile::is_user_thread(t)) continue;
    auto& g = groups[{std::string(to_string(t.state)), t.state == snapshot::ThreadState::kExited ? profile::thread_state_name(t) : t.wait_reason}];
    ++g.first;
    g.second += t.leaked ? 1 : 0;
  }
  write_groups(w, "threads", std::move(groups));

  std::vector<const snapshot::HeapSite*> sites;
  for (const snapshot::HeapSite& h : s.heap.sites)
    if (h.inuse_bytes > 0) sites.push_back(&h);
  const std::size_t shown = std::min(sites.size(), kLiveTopSites);
  std::partial_sort(sites.begin(), sites.begin() + static_cast<std::ptrdiff_t>(shown), sites.end(),
                    [](const auto* a, const auto* b) { return a->inuse_bytes > b->inuse_bytes; });
  w.field("heap_sites_total", static_cast<std::uint64_t>(sites.size()));
  w.key("top_sites");
  w.open('[');
  for (std::size_t i = 0; i < shown; ++i) {
    const snapshot::HeapSite& h = *sites[i];
    w.open('{');
    w.field("inuse_bytes", h.inuse_bytes);
    w.field("inuse_objects", h.inuse_objects);
    w.field("alloc_bytes", h.alloc_bytes);
    w.field("alloc_objects", h.alloc_objects);
    write_labels(w, h.labels);
    stacks.write(w, "stack", h.stack_id, *in.names);
    w.close('}');
  }
  w.close(']');

  w.field("leaked_tasks_total", now.leaked_tasks);
  w.field("leaked_threads_total", now.leaked_threads);
  w.key("leaks");
  w.open('[');
  write_leaks(w, s.tasks, "task", stacks, *in.names,
              [](const snapshot::TaskRecord& t) { return t.leaked && t.state != snapshot::TaskState::kDead; });
  write_leaks(w, s.threads, "thread", stacks, *in.names,
              [](const snapshot::ThreadRecord& t) { return t.leaked && profile::is_user_thread(t); });
  w.close(']');

  w.key("profiles");
  w.open('[');
  for (const ListedProfile& p : in.profiles) {
    w.open('{');
    w.field("name", p.name);
    w.field("count", static_cast<std::uint64_t>(p.count));
    w.close('}');
  }
  w.close(']');
  return std::move(w.out);
}

std::string finish_live_json(std::string_view figures, const std::vector<LivePoint>& history) {
  Writer w;
  w.out.reserve(figures.size() + 64 + history.size() * 9 * 12);
  w.out.append(figures);
  w.continue_object();
  write_history(w, history);
  w.close('}');
  w.out += '\n';
  return std::move(w.out);
}

}  // namespace lw::server
