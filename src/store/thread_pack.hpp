// thread_pack.hpp: a snapshot's thread records as one compact blob, kept like the task records
// (task_pack.hpp): one blob per snapshot, read whole by the differ. Threads are few next to tasks
// (tens to thousands), but a row per thread would still cost a statement step each, and the
// records carry several strings that repeat across threads (names, wait reasons, details).
// Pure functions; thread-safe; allocates.
//
// Layout (every integer a LEB128 varint; signed ones zigzag-encoded first; # is an index into
// the string list, each distinct string stored once):
//   "LWH1" count strings-count {length bytes}... then per thread:
//   tid(s) name# flags state# wait_reason# wait_since(s) wait_object wait_detail# creator_tid(s)
//   creator_task start_time(s) exit_time(s) join# cpu_ns stack_id(s) stack_error#
//   create_stack_id(s) label-count {key# value#}... leak_reason#
// where flags = runtime_worker | internal << 1 | timed_wait << 2 | leaked << 3, and states are
// stored by name (the enums' order may change; names do not).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "leakwatch/result.hpp"
#include "src/snapshot/model.hpp"
#include "src/store/pack_io.hpp"

namespace lw::store {

// StoredThread is a thread as the store keeps it: a ThreadRecord whose stack_id and
// create_stack_id are ids in the store's stack table (0: none), not the snapshot's.
using StoredThread = snapshot::ThreadRecord;

// ThreadPacker builds one blob: add() every thread, then finish().
class ThreadPacker {
 public:
  // add() packs `t` with its stack ids replaced by `stack_id` / `create_stack_id`.
  void add(const snapshot::ThreadRecord& t, std::int64_t stack_id, std::int64_t create_stack_id);
  std::string finish() const;

 private:
  std::uint64_t count_ = 0;
  std::string records_;
  PackStrings strings_;
};

// unpack_threads() reads a blob written by ThreadPacker. Errors: a blob that is truncated, has
// another layout, names a state it does not know or indexes a string it does not hold.
Result<std::vector<StoredThread>> unpack_threads(std::string_view blob);

}  // namespace lw::store
