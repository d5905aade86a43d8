#include "src/diff/series.hpp"

#include <cstdio>
#include <unordered_map>
#include <utility>

namespace lw::diff {

StackKey StackNames::intern(const std::vector<std::string>& frames) {
  if (frames.empty()) return 0;
  auto it = by_frames_.find(frames);
  if (it != by_frames_.end()) return it->second;
  while (by_key_.count(next_)) ++next_;
  StackKey k = next_++;
  by_frames_.emplace(frames, k);
  by_key_.emplace(k, frames);
  return k;
}

void StackNames::set(StackKey key, std::vector<std::string> frames) {
  by_frames_.emplace(frames, key);
  by_key_[key] = std::move(frames);
}

const std::vector<std::string>& StackNames::frames(StackKey key) const {
  static const std::vector<std::string> kNone;
  auto it = by_key_.find(key);
  return it == by_key_.end() ? kNone : it->second;
}

ThreadPoint thread_point(snapshot::ThreadRecord t, StackKey stack, StackKey create_stack) {
  ThreadPoint p;
  p.tid = t.tid;
  p.state = t.state;
  p.wait_reason = std::move(t.wait_reason);
  p.wait_since_unix_ns = t.wait_since_unix_ns;
  p.wait_object = t.wait_object;
  p.timed_wait = t.timed_wait;
  p.exit_time_unix_ns = t.exit_time_unix_ns;
  p.join = t.join;
  p.cpu_ns = t.cpu_ns;
  p.stack = stack;
  p.create_stack = create_stack;
  p.leaked = t.leaked;
  p.leak_reason = std::move(t.leak_reason);
  p.ignored = t.internal || t.runtime_worker;
  return p;
}

Point point_from_snapshot(const snapshot::Snapshot& s, std::int64_t snapshot_id, StackNames& names) {
  std::unordered_map<std::uint64_t, const snapshot::Location*> by_address;
  for (const snapshot::Location& l : s.locations) by_address.emplace(l.address, &l);
  std::unordered_map<snapshot::StackId, StackKey> keys;
  for (const snapshot::Stack& st : s.stacks) {
    std::vector<std::string> frames;
    for (std::uint64_t pc : st.pcs) {
      auto it = by_address.find(pc);
      if (it != by_address.end() && !it->second->function.empty()) {
        frames.push_back(it->second->function);
      } else {
        char buf[32];
        std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(pc));
        frames.emplace_back(buf);
      }
    }
    keys.emplace(st.id, names.intern(frames));
  }
  auto key = [&](snapshot::StackId id) -> StackKey {
    auto it = keys.find(id);
    return it == keys.end() ? 0 : it->second;
  };
  Point p;
  p.snapshot_id = snapshot_id;
  p.time_unix_ns = s.time_unix_ns;
  p.sample_rate = s.heap.sample_rate;
  p.heap_alloc = static_cast<std::int64_t>(s.mem.heap_alloc);
  p.num_tasks = static_cast<std::int64_t>(s.mem.num_tasks);
  std::map<StackKey, SitePoint> sites;
  for (const snapshot::HeapSite& hs : s.heap.sites) {
    SitePoint& sp = sites[key(hs.stack_id)];
    sp.stack = key(hs.stack_id);
    sp.inuse_bytes += hs.inuse_bytes;
    sp.inuse_objects += hs.inuse_objects;
  }
  for (auto& [k, sp] : sites) p.sites.push_back(sp);
  p.tasks.reserve(s.tasks.size());
  for (const snapshot::TaskRecord& t : s.tasks) {
    p.tasks.push_back({t.id, t.state, t.wait_reason, t.wait_since_unix_ns, t.switch_count,
                       key(t.stack_id), key(t.create_stack_id), t.leaked, t.leak_reason});
  }
  p.threads.reserve(s.threads.size());
  for (const snapshot::ThreadRecord& t : s.threads)
    p.threads.push_back(thread_point(t, key(t.stack_id), key(t.create_stack_id)));
  std::map<std::pair<std::string, StackKey>, std::int64_t> profile_sites;
  for (const snapshot::CustomProfile& cp : s.custom_profiles)
    for (const snapshot::CustomSample& c : cp.samples) profile_sites[{cp.name, key(c.stack_id)}] += c.count;
  for (auto& [k, n] : profile_sites) p.profile_sites.push_back({k.first, k.second, n});
  return p;
}

void add_point(std::vector<Series>& all, const std::string& target, const std::string& instance_id,
               Point p) {
  for (Series& s : all) {
    if (s.target == target && s.instance_id == instance_id) {
      s.points.push_back(std::move(p));
      return;
    }
  }
  all.push_back({target, instance_id, {}});
  all.back().points.push_back(std::move(p));
}

}  // namespace lw::diff
