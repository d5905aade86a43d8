// Why a queue rather than a longer busy timeout: a watcher's rounds are on a clock (every 30 s, or
// faster), and a backup or a `sqlite3` session can hold the write lock for seconds. Waiting for it
// inside the round delays every target's next scrape; giving up loses the snapshot. So each write
// tries once with a short busy timeout, and what meets the lock waits here, in memory, until a
// later round finds the lock gone. The bound keeps a lock held for hours from growing the watcher
// without end: 64 snapshots is half an hour of one target at the default 30 s, or two rounds of
// 32 targets; 512 MiB is two of the largest snapshots --max-snapshot-bytes lets in by default.
// Rejected: spilling to a side file (a second store to keep sound, for a rare case).
#include "tools/leakwatch/write_queue.hpp"

namespace lw::cli {

bool WriteQueue::add_snapshot(std::size_t target_index, std::string url, Fetched fetched) {
  std::size_t size = fetched.bytes.size();
  if (snapshots_ >= kMaxQueuedSnapshots || bytes_ + size > kMaxQueuedBytes) return false;
  Entry e;
  e.is_snapshot = true;
  e.target_index = target_index;
  e.url = std::move(url);
  e.fetched = std::move(fetched);
  entries_.push_back(std::move(e));
  ++snapshots_;
  bytes_ += size;
  return true;
}

bool WriteQueue::add_error(std::string url, std::int64_t time_unix_ns, std::string message) {
  if (errors_ >= kMaxQueuedErrors) return false;
  Entry e;
  e.url = std::move(url);
  e.time_unix_ns = time_unix_ns;
  e.message = std::move(message);
  entries_.push_back(std::move(e));
  ++errors_;
  return true;
}

FlushResult WriteQueue::flush(store::Store& store) {
  FlushResult out;
  while (!entries_.empty()) {
    Entry& e = entries_.front();
    Result<void> written;
    if (e.is_snapshot) {
      auto id = store.add_snapshot(e.url, e.fetched.snapshot, e.fetched.bytes.view());
      if (!id) written = id.error();
    } else {
      written = store.add_scrape_error(e.url, e.time_unix_ns, e.message);
    }
    if (!written && store.database().last_failure_busy()) {
      for (Entry& w : entries_) w.waited = true;
      out.locked = true;
      return out;
    }
    if (!written) {
      if (!out.hard) out.hard = written.error();
    } else if (e.is_snapshot) {
      ++out.snapshots_written;
      out.waited_written += e.waited ? 1 : 0;
      out.written_for.push_back(e.target_index);
    }
    if (e.is_snapshot) {
      --snapshots_;
      bytes_ -= e.fetched.bytes.size();
    } else {
      --errors_;
    }
    entries_.pop_front();
  }
  return out;
}

}  // namespace lw::cli
