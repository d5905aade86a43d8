// lw::Profile over the process's custom profile table. Every call that allocates or frees holds
// base::SelfScope: a profile's keys are leakwatch's memory, not the program's heap.
//
// The stack is taken with the frame-pointer walk (capture_stack_fast, ~15 ns): add() sits on a
// program's own paths (each connection opened), where libunwind's ~140 ns would be felt.
#include "leakwatch/profile.hpp"

#include <stdexcept>

#include "src/base/self_scope.hpp"
#include "src/cpu/custom_profile_table.hpp"
#include "src/unwind/fast_capture.hpp"

namespace lw {

Profile::Profile(std::string name) : name_(std::move(name)) {
  base::SelfScope self;
  slot_ = new cpu::ProfileSlot(name_, kMaxKeys);
  try {
    cpu::process_profiles().add(slot_);
  } catch (...) {
    delete slot_;
    throw;
  }
}

Profile::~Profile() {
  base::SelfScope self;
  cpu::process_profiles().remove(slot_);
  delete slot_;
}

// noinline: `skip` counts frames from here, so add() must be a frame of its own.
__attribute__((noinline)) void Profile::add(const void* key, int skip) {
  unwind::StackTrace stack;
  base::SelfScope self;
  // One more than `skip`: the walk's first return address is the one into add() itself.
  unwind::capture_stack_fast(&stack, (skip < 0 ? 0 : skip) + 1);
  if (slot_->add(key, stack) == cpu::AddOutcome::kDuplicate)
    throw std::logic_error("lw::Profile::add of a key already in profile '" + name_ + "'");
}

void Profile::remove(const void* key) {
  base::SelfScope self;
  slot_->remove(key);
}

std::size_t Profile::count() const { return slot_->count(); }

std::uint64_t Profile::dropped() const { return slot_->dropped(); }

}  // namespace lw
