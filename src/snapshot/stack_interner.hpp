// stack_interner.hpp: gives each distinct stack in a Snapshot one StackId, while the snapshot is
// being built. Not thread-safe (one builder at a time); allocates. Part of the model layer: the
// capture code and tests use it alike.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "src/snapshot/model.hpp"

namespace lw::snapshot {

class StackInterner {
 public:
  // StackInterner appends new stacks to `out->stacks`, starting after the ids already there.
  explicit StackInterner(Snapshot* out);

  // intern() returns the id of the stack with these return addresses (innermost first), adding
  // it to the snapshot the first time. An empty stack is id 0.
  StackId intern(std::span<const std::uint64_t> pcs);

 private:
  Snapshot* out_;
  std::map<std::vector<std::uint64_t>, StackId> ids_;
  StackId next_ = 1;
};

}  // namespace lw::snapshot
