// contention_profile.hpp: the block and mutex profiles' tables and their rendering. The events
// come through src/base/contention_event.hpp from the runtime's park paths and the thread
// interposer; the recorder installed here captures the reporting stack and adds the event to one
// bounded, lock-free site table per profile (heap::StackTable: 4096 stacks each, mapped lazily; a
// full table counts the event at the overflow site). Thread-safe; the recorder never allocates.
#pragma once

#include <cstdint>
#include <string>

#include "src/base/contention_event.hpp"

namespace lw::cpu {

inline constexpr std::uint32_t kContentionStacks = 4096;

// contention_proto() is the profile as Go's /debug/pprof/block or /mutex serves it (serialized
// perftools.profiles.Profile, not gzipped), symbolized, with the process's mappings.
std::string contention_proto(base::ContentionProfile which);

// contention_text() is its debug=1 text.
std::string contention_text(base::ContentionProfile which);

// contention_stacks() is the number of distinct stacks recorded (the index page's count).
std::size_t contention_stacks(base::ContentionProfile which) noexcept;

// contention_from_environment() applies LEAKWATCH_BLOCK_RATE (ns) and LEAKWATCH_MUTEX_FRACTION
// (n), read once at start-up; a bad value is reported on stderr and ignored.
void contention_from_environment();

}  // namespace lw::cpu
