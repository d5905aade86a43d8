// label_sets.hpp: the process's table of distinct label sets. A set is interned once, never
// changes and is never freed, so a small id stands for it everywhere labels travel on a hot path
// (a task switch, a CPU sample, a heap site) and turns back into labels off that path. Thread-safe:
// interning takes a lock and allocates (as leakwatch's own memory); label_set() is lock-free.
//
// Bounded: at most kMaxLabelSets sets and kMaxLabelSetBytes bytes of keys and values. A program
// that puts per-request ids in labels fills the table once; after that a new set is not interned,
// the caller keeps the labels it had and dropped_label_sets counts it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "leakwatch/labels.hpp"

namespace lw::base {

// LabelSetId names one interned label set; kNoLabels is the empty set.
enum class LabelSetId : std::uint32_t { kNoLabels = 0 };

inline constexpr std::size_t kMaxLabelSets = 4096;
inline constexpr std::size_t kMaxLabelSetBytes = std::size_t{1} << 20;

// merge_label_set() is the id of `base`'s labels with `extra` added (a key given again replaces
// the old value; the last of a repeated key wins), interning it the first time. Returns `base`
// itself when `extra` is empty, and when the table is full (counted in dropped_label_sets).
LabelSetId merge_label_set(LabelSetId base, const Labels& extra);

// label_set() is the labels of `id`, sorted by key; empty for kNoLabels or an unknown id. The
// reference stays valid for the life of the process. Lock-free, never allocates.
const Labels& label_set(LabelSetId id) noexcept;

struct LabelSetStats {
  std::uint64_t sets = 0;                // distinct sets interned (kNoLabels not counted)
  std::uint64_t bytes = 0;               // bytes of keys and values they hold
  std::uint64_t dropped_label_sets = 0;  // sets not interned: the table was full
};
LabelSetStats label_set_stats() noexcept;

}  // namespace lw::base
