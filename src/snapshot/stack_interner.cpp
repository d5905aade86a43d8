#include "src/snapshot/stack_interner.hpp"

namespace lw::snapshot {

StackInterner::StackInterner(Snapshot* out) : out_(out) {
  for (const Stack& s : out_->stacks) {
    ids_.emplace(s.pcs, s.id);
    if (s.id >= next_) next_ = s.id + 1;
  }
}

StackId StackInterner::intern(std::span<const std::uint64_t> pcs) {
  if (pcs.empty()) return 0;
  std::vector<std::uint64_t> key(pcs.begin(), pcs.end());
  auto [it, inserted] = ids_.emplace(std::move(key), next_);
  if (inserted) {
    out_->stacks.push_back({next_, it->first});
    ++next_;
  }
  return it->second;
}

}  // namespace lw::snapshot
