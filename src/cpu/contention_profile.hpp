// contention_profile.hpp: the block and mutex profiles' tables. The events come through
// src/base/contention_event.hpp from the runtime's park paths and the thread interposer; the
// recorder installed here captures the reporting stack and adds the event to one bounded,
// lock-free site table per profile (heap::StackTable: 4096 stacks each, mapped lazily; a full
// table counts the event at the overflow site). The tables go into the snapshot, which the
// profile writers render. Thread-safe; the recorder never allocates.
#pragma once

#include <cstdint>

#include "src/snapshot/model.hpp"
#include "src/snapshot/stack_interner.hpp"

namespace lw::cpu {

inline constexpr std::uint32_t kContentionStacks = 4096;

// add_contention() adds both profiles to `s` (s->block, s->mutex: every stack recorded, its
// events rounded to whole ones, and the rates now in force), the stacks through `stacks`; the
// caller symbolizes them.
void add_contention(snapshot::Snapshot* s, snapshot::StackInterner* stacks);

// contention_from_environment() applies LEAKWATCH_BLOCK_RATE (ns) and LEAKWATCH_MUTEX_FRACTION
// (n), read once at start-up; a bad value is reported on stderr and ignored.
void contention_from_environment();

}  // namespace lw::cpu
