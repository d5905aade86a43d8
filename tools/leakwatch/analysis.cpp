// The differ reads the tables, not the blobs: a window of 100 snapshots is 100 small queries for
// sites, tasks and threads, and stacks come by id from the interned table (cached by the Store).
#include "tools/leakwatch/analysis.hpp"

#include <unistd.h>

#include <map>

namespace lw::cli {

Result<std::unique_ptr<store::Store>> open_store(const std::string& path, bool must_exist) {
  if (must_exist && access(path.c_str(), F_OK) != 0)
    return make_error("no database at " + path + " (take snapshots with 'leakwatch snapshot' or 'watch', or give --db)");
  if (must_exist) return store::Store::open_read_only(path);
  return store::Store::open(path);
}

std::string run_of(const store::SnapshotInfo& info) {
  // A target that sends no instance id is told apart by pid and start time.
  if (!info.instance_id.empty()) return info.instance_id;
  return "pid " + std::to_string(info.pid) + " started " + std::to_string(info.process_start_unix_ns);
}

Result<Analysis> analyze(store::Store& st, const AnalysisRequest& req) {
  store::SnapshotQuery q;
  q.target = req.target;
  q.from_id = req.from_id;
  q.to_id = req.to_id;
  auto infos = st.snapshots(q);
  if (!infos) return infos.error();
  bool windowed = !req.from_id && !req.to_id;
  std::map<std::string, std::int64_t> newest;
  for (const auto& i : *infos) newest[i.target] = std::max(newest[i.target], i.time_unix_ns);

  Analysis out;
  diff::StackNames names;
  std::map<std::int64_t, bool> named;
  auto name = [&](std::int64_t id) -> Result<void> {
    if (id == 0 || named.count(id)) return {};
    auto frames = st.stack_frames(id);
    if (!frames) return frames.error();
    names.set(id, std::move(*frames));
    named[id] = true;
    return {};
  };
  std::vector<diff::Series> series;
  for (const auto& info : *infos) {
    if (windowed && info.time_unix_ns < newest[info.target] - req.window_ns) continue;
    diff::Point p;
    p.snapshot_id = info.id;
    p.time_unix_ns = info.time_unix_ns;
    p.sample_rate = info.sample_rate;
    p.heap_alloc = info.heap_alloc;
    p.num_tasks = info.num_tasks;
    auto sites = st.heap_sites(info.id);
    if (!sites) return sites.error();
    for (const auto& s : *sites) {
      if (auto r = name(s.stack_id); !r) return r.error();
      p.sites.push_back({s.stack_id, s.inuse_bytes, s.inuse_objects});
    }
    auto tasks = st.tasks(info.id);
    if (!tasks && st.last_read_corrupt()) {
      out.skipped.emplace_back(info.id, tasks.error().message);
      continue;
    }
    if (!tasks) return tasks.error();
    p.tasks.reserve(tasks->size());
    for (auto& t : *tasks) {
      if (auto r = name(t.stack_id); !r) return r.error();
      if (auto r = name(t.create_stack_id); !r) return r.error();
      p.tasks.push_back({t.task_id, t.state, std::move(t.wait_reason), t.wait_since_unix_ns, t.switch_count,
                         t.stack_id, t.create_stack_id, t.leaked, std::move(t.leak_reason)});
    }
    auto threads = st.threads(info.id);
    if (!threads && st.last_read_corrupt()) {
      out.skipped.emplace_back(info.id, threads.error().message);
      continue;
    }
    if (!threads) return threads.error();
    p.threads.reserve(threads->size());
    for (auto& t : *threads) {
      auto stack = static_cast<std::int64_t>(t.stack_id);  // store stack ids (thread_pack.hpp)
      auto create_stack = static_cast<std::int64_t>(t.create_stack_id);
      if (auto r = name(stack); !r) return r.error();
      if (auto r = name(create_stack); !r) return r.error();
      p.threads.push_back(diff::thread_point(std::move(t), stack, create_stack));
    }
    auto profile_sites = st.profile_sites(info.id);
    if (!profile_sites) return profile_sites.error();
    for (auto& ps : *profile_sites) {
      if (auto r = name(ps.stack_id); !r) return r.error();
      p.profile_sites.push_back({std::move(ps.profile), ps.stack_id, ps.count});
    }
    diff::add_point(series, info.target, run_of(info), std::move(p));
    ++out.snapshots;
  }
  out.series = series.size();
  out.findings = diff::detect(series, names, req.detect);
  return out;
}

}  // namespace lw::cli
