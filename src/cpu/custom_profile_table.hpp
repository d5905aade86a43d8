// custom_profile_table.hpp: the process's custom profiles (lw::Profile): each profile's live keys
// with the stack that added each, and the table of live profiles that snapshots read. Thread-safe:
// a slot has its own lock (adds to two profiles never contend), the table another. Adding,
// removing and registering allocate and free; callers hold base::SelfScope around them.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/unwind/stack_trace.hpp"

namespace lw::cpu {

// CustomProfileRead is one profile as a snapshot takes it: its live keys counted per stack.
struct CustomProfileRead {
  std::string name;
  std::int64_t count = 0;          // live keys
  std::uint64_t dropped_adds = 0;  // adds not recorded (bounds), since it was made
  std::vector<std::pair<std::vector<std::uint64_t>, std::int64_t>> stacks;  // return addresses -> keys
};

enum class AddOutcome : std::uint8_t {
  kAdded,
  kDuplicate,  // the key is already present; its first stack is kept
  kDropped,    // max_keys live keys already, or the slot is not in the table
};

// ProfileSlot holds one profile's keys. Keys are opaque addresses, never dereferenced.
class ProfileSlot {
 public:
  ProfileSlot(std::string name, std::size_t max_keys);
  ProfileSlot(const ProfileSlot&) = delete;
  ProfileSlot& operator=(const ProfileSlot&) = delete;

  const std::string& name() const { return name_; }

  // add() records `key` at `stack` (innermost first); counts a drop unless kAdded or kDuplicate.
  AddOutcome add(const void* key, const unwind::StackTrace& stack);
  // remove() forgets `key`; false when it was not present.
  bool remove(const void* key);
  std::size_t count() const;
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // read() copies the profile's figures.
  CustomProfileRead read() const;

 private:
  friend class CustomProfileTable;
  const std::string name_;
  const std::size_t max_keys_;
  bool in_table_ = false;  // set once by CustomProfileTable::add before any add()
  mutable std::mutex mu_;
  // Equal stacks share one entry: a profile of 100k connections opened at three places holds three
  // stacks. Guarded by mu_.
  std::map<std::vector<std::uint64_t>, std::int64_t> stacks_;
  // Each key points at its stack's entry (std::map nodes do not move). Guarded by mu_.
  std::unordered_map<const void*, std::map<std::vector<std::uint64_t>, std::int64_t>::iterator> keys_;
  std::atomic<std::uint64_t> dropped_{0};
};

// CustomProfileTable is the set of live profiles, by name. process_profiles() is the process's.
class CustomProfileTable {
 public:
  explicit CustomProfileTable(std::size_t max_profiles) : max_profiles_(max_profiles) {}

  // add() puts `slot` in the table. Throws std::invalid_argument when its name is invalid (see
  // profile_name_error()) or held by a live slot. When the table is full, the slot stays out (its
  // adds are dropped), dropped_profiles() grows, and add() returns false.
  bool add(ProfileSlot* slot);
  // remove() takes `slot` out (no-op when it is not in).
  void remove(ProfileSlot* slot);
  // read() copies every live profile, by name.
  std::vector<CustomProfileRead> read() const;
  std::uint64_t dropped_profiles() const { return dropped_profiles_.load(std::memory_order_relaxed); }

 private:
  const std::size_t max_profiles_;
  mutable std::mutex mu_;
  std::map<std::string, ProfileSlot*, std::less<>> slots_;  // Guarded by mu_.
  std::atomic<std::uint64_t> dropped_profiles_{0};
};

// process_profiles() is the table lw::Profile registers in. Never destroyed, so a Profile with
// static storage may outlive every other static.
CustomProfileTable& process_profiles();

// profile_name_error() says why `name` cannot name a custom profile; empty when it can.
std::string profile_name_error(std::string_view name);

}  // namespace lw::cpu
