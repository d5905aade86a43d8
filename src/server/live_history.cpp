#include "src/server/live_history.hpp"

#include "src/profile/thread_text.hpp"

namespace lw::server {

LivePoint live_point(const snapshot::Snapshot& s, const ProcStats& proc) {
  LivePoint p;
  p.unix_ms = s.time_unix_ns / 1'000'000;
  p.heap_alloc = s.mem.heap_alloc;
  p.heap_objects = s.mem.heap_objects;
  p.sys = s.mem.sys;
  p.rss = proc.resident_bytes;
  p.self_bytes = s.mem.self_bytes;
  for (const snapshot::TaskRecord& t : s.tasks) {
    if (t.state == snapshot::TaskState::kDead) continue;
    ++p.tasks;
    if (t.leaked) ++p.leaked_tasks;
  }
  for (const snapshot::ThreadRecord& t : s.threads) {
    if (!profile::is_user_thread(t) || t.state == snapshot::ThreadState::kExited) continue;
    ++p.threads;
    if (t.leaked) ++p.leaked_threads;
  }
  return p;
}

LiveHistory::LiveHistory() : ring_(std::make_unique<std::array<LivePoint, kLivePoints>>()) {}

void LiveHistory::add(const LivePoint& p) {
  std::lock_guard<std::mutex> lock(mu_);
  if (size_ > 0 && (*ring_)[(next_ + kLivePoints - 1) % kLivePoints].unix_ms >= p.unix_ms) return;
  (*ring_)[next_] = p;
  next_ = (next_ + 1) % kLivePoints;
  if (size_ < kLivePoints) ++size_;
}

std::vector<LivePoint> LiveHistory::since(std::int64_t unix_ms) const {
  std::vector<LivePoint> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.reserve(size_);
  const std::size_t first = (next_ + kLivePoints - size_) % kLivePoints;
  for (std::size_t i = 0; i < size_; ++i) {
    const LivePoint& p = (*ring_)[(first + i) % kLivePoints];
    if (p.unix_ms > unix_ms) out.push_back(p);
  }
  return out;
}

}  // namespace lw::server
