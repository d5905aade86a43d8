// task_pack.hpp: a snapshot's task records as one compact blob. The store keeps one blob per
// snapshot instead of one row per task: 100k task rows took ~150 ms of CPU to insert, one blob of
// ~2 MB a few ms, and the differ only ever reads a snapshot's tasks whole. Pure functions;
// thread-safe; allocates.
//
// Layout (every integer a LEB128 varint; signed ones zigzag-encoded first):
//   "LWT1" count strings-count {length bytes}... then per task:
//   task_id state# wait_reason# wait_since(s) switch_count stack_id(s) create_stack_id(s) leaked
//   leak_reason#
// where # is an index into the string list (each distinct string is stored once).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "leakwatch/result.hpp"
#include "src/snapshot/model.hpp"
#include "src/store/pack_io.hpp"

namespace lw::store {

struct StoredTask {
  std::uint64_t task_id = 0;
  snapshot::TaskState state = snapshot::TaskState::kRunnable;
  std::string wait_reason;
  std::int64_t wait_since_unix_ns = 0;
  std::uint64_t switch_count = 0;
  std::int64_t stack_id = 0;         // 0: no stack
  std::int64_t create_stack_id = 0;  // 0: no creation stack
  bool leaked = false;
  std::string leak_reason;
};

// TaskPacker builds one blob: add() every task, then finish().
class TaskPacker {
 public:
  void add(std::uint64_t task_id, snapshot::TaskState state, std::string_view wait_reason,
           std::int64_t wait_since_unix_ns, std::uint64_t switch_count, std::int64_t stack_id,
           std::int64_t create_stack_id, bool leaked, std::string_view leak_reason);
  std::string finish() const;

 private:
  std::uint64_t count_ = 0;
  std::string records_;
  PackStrings strings_;
};

// unpack_tasks() reads a blob written by TaskPacker. Errors: a blob that is truncated, has
// another layout or indexes a string it does not hold.
Result<std::vector<StoredTask>> unpack_tasks(std::string_view blob);

}  // namespace lw::store
