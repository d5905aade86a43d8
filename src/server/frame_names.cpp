#include "src/server/frame_names.hpp"

#include "src/unwind/stack_trace.hpp"
#include "src/unwind/symbolizer.hpp"

namespace lw::server {

FrameName FrameNames::of(std::uint64_t return_address) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = names_.find(return_address); it != names_.end()) return it->second;
  }
  // Resolved outside the lock: the symbolizer has its own, and may read DWARF for a while.
  unwind::Symbol s = unwind::process_symbolizer().lookup(unwind::call_site(return_address));
  FrameName name{std::move(s.function), std::move(s.file), s.line};
  std::lock_guard<std::mutex> lock(mu_);
  if (names_.size() >= kMaxFrameNames) names_.clear();
  names_.emplace(return_address, name);
  return name;
}

}  // namespace lw::server
