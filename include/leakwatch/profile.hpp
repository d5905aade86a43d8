// profile.hpp: custom profiles (Go's pprof.NewProfile): a named set of live keys, each with the
// stack that added it, such as open connections or unclosed files. A profile is served at
// /debug/pprof/<name> beside the built-in ones, carried in every snapshot, and judged by the
// differ (profile_growth: a count that keeps rising at one stack). Thread-safe: any thread may
// add and remove on the same profile at once. add() allocates (leakwatch's own memory, never
// counted as the program's heap) and takes a lock; never call it from a signal handler.
//
// Bounds: at most kMaxProfiles profiles live at once and kMaxKeys live keys per profile. A
// profile made beyond the first bound records nothing (every add() is dropped); an add() beyond
// the second is dropped. Drops are counted (dropped(), and in the snapshot), never grown into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lw {

namespace cpu {
class ProfileSlot;  // the profile's keys and stacks (src/cpu/custom_profile_table.hpp)
}  // namespace cpu

class Profile {
 public:
  static constexpr std::size_t kMaxProfiles = 64;
  static constexpr std::size_t kMaxKeys = std::size_t{1} << 18;

  // Profile() registers a profile called `name`. Throws std::invalid_argument (where Go panics)
  // when the name is empty, longer than 128 bytes, holds a byte other than [A-Za-z0-9._/-],
  // names a built-in profile (heap, allocs, goroutine, goroutineleak, threadcreate, threads,
  // threadleak, block, mutex, profile, trace, cmdline, symbol), or is held by another live
  // Profile. Go profiles live forever; this one lives until its destructor, which frees the name.
  explicit Profile(std::string name);
  ~Profile();
  Profile(const Profile&) = delete;
  Profile& operator=(const Profile&) = delete;

  // name() is the name given at construction.
  const std::string& name() const { return name_; }

  // add() records the caller's stack for `key`. `skip` as Go's: 0 starts the stack at the
  // function that calls add(), 1 at its caller, and so on. Throws std::logic_error (where Go
  // panics) if `key` is already present: the first stack is kept. Past kMaxKeys, or on a
  // profile beyond kMaxProfiles, the key is not recorded and dropped() grows by one.
  void add(const void* key, int skip = 0);

  // remove() forgets `key`; a key not present is ignored (as in Go).
  void remove(const void* key);

  // count() is the number of live keys.
  std::size_t count() const;

  // dropped() is the number of add() calls not recorded because of the bounds above.
  std::uint64_t dropped() const;

 private:
  std::string name_;
  cpu::ProfileSlot* slot_;  // owned; in the process's table unless the table was full
};

}  // namespace lw
