// write_queue.hpp: what `watch` has read but not yet written, in the order it was read:
// snapshots and scrape errors. When another process holds the database's write lock longer than
// one short try, the round's writes wait here and are written, oldest first, at a later round.
// Bounded: at most kMaxQueuedSnapshots snapshots and kMaxQueuedBytes of their encoded bytes (and
// kMaxQueuedErrors scrape errors); past the bound a new snapshot is not kept (the caller says so).
// Not thread-safe (the watch's main thread only); allocates (the queued entries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "leakwatch/result.hpp"
#include "src/store/store.hpp"
#include "tools/leakwatch/target.hpp"

namespace lw::cli {

inline constexpr std::size_t kMaxQueuedSnapshots = 64;
inline constexpr std::size_t kMaxQueuedBytes = std::size_t{512} << 20;
inline constexpr std::size_t kMaxQueuedErrors = 1024;

// FlushResult is what one flush() did.
struct FlushResult {
  std::size_t snapshots_written = 0;
  std::size_t waited_written = 0;  // of those, snapshots that had waited for the lock
  bool locked = false;             // stopped at another writer's lock; the rest is still queued
  std::vector<std::size_t> written_for;  // target index of each snapshot written, in order
  std::optional<Error> hard;             // the first failure that was not a lock
};

class WriteQueue {
 public:
  // add_snapshot() queues a snapshot of target `target_index`; false when the bound is reached
  // (nothing queued).
  bool add_snapshot(std::size_t target_index, std::string url, Fetched fetched);
  // add_error() queues a scrape error; false when the bound is reached.
  bool add_error(std::string url, std::int64_t time_unix_ns, std::string message);

  // flush() writes the queue in order with `store`'s busy timeout per write. It stops at the first
  // lock (FlushResult::locked). Any other failure is a hard error: that entry is dropped, the rest
  // are still written, and the first such error is in FlushResult::hard.
  FlushResult flush(store::Store& store);

  std::size_t snapshots() const { return snapshots_; }
  std::size_t bytes() const { return bytes_; }
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    bool is_snapshot = false;
    bool waited = false;  // a write of it already met the lock
    std::size_t target_index = 0;
    std::string url;
    Fetched fetched;  // snapshots
    std::int64_t time_unix_ns = 0;  // errors
    std::string message;
  };
  std::deque<Entry> entries_;
  std::size_t snapshots_ = 0;
  std::size_t errors_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace lw::cli
