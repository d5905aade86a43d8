// series.hpp: what the differ reads: for one target and one run of its process (instance), the
// snapshots in time order, cut down to the figures the verdicts use. Stacks are keys into a
// StackNames table of function names (innermost first), so two runs of the same binary (with
// different addresses) group alike. Plain values; not thread-safe; building them allocates.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "src/snapshot/model.hpp"

namespace lw::diff {

using StackKey = std::int64_t;  // 0 means "no stack"

struct SitePoint {
  StackKey stack = 0;
  std::int64_t inuse_bytes = 0;
  std::int64_t inuse_objects = 0;
};

struct TaskPoint {
  std::uint64_t id = 0;
  snapshot::TaskState state = snapshot::TaskState::kRunnable;
  std::string wait_reason;
  std::int64_t wait_since_unix_ns = 0;
  std::uint64_t switch_count = 0;
  StackKey stack = 0;
  StackKey create_stack = 0;
  bool leaked = false;
  std::string leak_reason;
};

// ProfilePoint is the live keys of one custom profile (lw::Profile) added at one stack.
struct ProfilePoint {
  std::string profile;
  StackKey stack = 0;
  std::int64_t count = 0;
};

// ThreadPoint is one OS thread of a snapshot, with what the thread verdicts compare.
struct ThreadPoint {
  std::int64_t tid = 0;
  snapshot::ThreadState state = snapshot::ThreadState::kRunning;
  std::string wait_reason;              // interposed wait ("condition wait") or syscall name
  std::int64_t wait_since_unix_ns = 0;  // exact start of an interposed wait; 0 when unknown
  std::uint64_t wait_object = 0;
  bool timed_wait = false;
  std::int64_t exit_time_unix_ns = 0;   // kExited only
  snapshot::JoinState join = snapshot::JoinState::kUnknown;
  std::uint64_t cpu_ns = 0;
  StackKey stack = 0;
  StackKey create_stack = 0;
  bool leaked = false;
  std::string leak_reason;
  bool ignored = false;                 // leakwatch's own threads (internal, runtime workers): never findings
};

// thread_point() cuts `t` down to a ThreadPoint whose stacks are `stack` / `create_stack` (pass
// a record no longer needed as an rvalue: its strings are moved, not copied).
ThreadPoint thread_point(snapshot::ThreadRecord t, StackKey stack, StackKey create_stack);

// Point is one snapshot.
struct Point {
  std::int64_t snapshot_id = 0;
  std::int64_t time_unix_ns = 0;
  std::int64_t sample_rate = 0;  // heap sampling rate in bytes; <= 1 means exact
  std::int64_t heap_alloc = 0;
  std::int64_t num_tasks = 0;
  std::vector<SitePoint> sites;
  std::vector<TaskPoint> tasks;
  std::vector<ThreadPoint> threads;
  std::vector<ProfilePoint> profile_sites;
};

// Series is the points of one process run of one target, oldest first.
struct Series {
  std::string target;
  std::string instance_id;
  std::vector<Point> points;
};

// StackNames maps stack keys to function names and back.
class StackNames {
 public:
  // intern() returns the key of `frames`, adding it the first time. Empty frames are key 0.
  StackKey intern(const std::vector<std::string>& frames);
  // set() records the frames of an externally chosen key (e.g. a store stack id), key > 0.
  void set(StackKey key, std::vector<std::string> frames);
  // frames() returns the names of `key`; empty when unknown.
  const std::vector<std::string>& frames(StackKey key) const;

 private:
  std::map<StackKey, std::vector<std::string>> by_key_;
  std::map<std::vector<std::string>, StackKey> by_frames_;
  StackKey next_ = 1;
};

// point_from_snapshot() cuts `s` down to a Point, interning its stacks by function name (unknown
// functions by address). Heap sites, and custom profile sites, whose stacks share names are summed.
Point point_from_snapshot(const snapshot::Snapshot& s, std::int64_t snapshot_id, StackNames& names);

// add_point() appends `p` to the series of (target, instance_id) in `all`, starting a new series
// for a new instance: a restarted process starts afresh. Points must come in time order.
void add_point(std::vector<Series>& all, const std::string& target, const std::string& instance_id,
               Point p);

}  // namespace lw::diff
