// profile_symbols.hpp: private to src/profile. Indexed lookups over one Snapshot's stacks,
// locations and mappings, and the frame-naming rules every writer shares (which frames are the
// allocator's, which are the task runtime's, how an unknown frame is named). Not thread-safe:
// build one per call. Building allocates.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/snapshot/model.hpp"

namespace lw::profile {

// kAllocatorFrames is pprof's drop_frames value for heap profiles: the allocator entry points
// and leakwatch's own hook frames. pprof anchors it ("^(" ... ")$") and matches it against each
// function name cut at its first '(' (keeping "(anonymous namespace)" and "operator()"), so
// "operator new(unsigned long)" is matched as "operator new".
inline constexpr std::string_view kAllocatorFrames =
    "malloc|calloc|realloc|reallocarray|free|posix_memalign|aligned_alloc|memalign|valloc|"
    "pvalloc|__libc_malloc|__libc_calloc|__libc_realloc|operator new.*|operator delete.*|"
    "mi_.*|_mi_.*|lw::heap::.*";

// simplify_function() cuts a demangled name at its first '(' that does not open
// "(anonymous namespace)" or "operator()", as pprof does before matching drop_frames.
std::string_view simplify_function(std::string_view name);

// is_allocator_frame() says whether `function` matches kAllocatorFrames the way pprof matches it.
bool is_allocator_frame(std::string_view function);

// is_runtime_frame() says whether `function` belongs to leakwatch's task runtime or library
// (namespace lw), the counterpart of Go's "runtime." frames that Go's text formats hide.
bool is_runtime_frame(std::string_view function);

// hex() formats `v` as Go's %#x does: "0x4a1b2c".
std::string hex(std::uint64_t v);

// SnapshotSymbols indexes a Snapshot for the writers. It keeps a reference to the snapshot,
// which must outlive it.
class SnapshotSymbols {
 public:
  explicit SnapshotSymbols(const snapshot::Snapshot& s);

  // pcs() returns the return addresses of stack `id`, innermost first; empty when unknown.
  const std::vector<std::uint64_t>& pcs(snapshot::StackId id) const;
  // location() returns what `return_address` resolves to; nullptr when the snapshot has nothing.
  const snapshot::Location* location(std::uint64_t return_address) const;
  // mapping() returns the mapping holding `return_address` (by the location's mapping_start,
  // else by range); nullptr when none does.
  const snapshot::Mapping* mapping(std::uint64_t return_address) const;
  // function() returns the demangled name at `return_address`, or "" when unknown.
  std::string_view function(std::uint64_t return_address) const;

  const snapshot::Snapshot& snapshot() const { return s_; }

 private:
  const snapshot::Snapshot& s_;
  std::unordered_map<snapshot::StackId, const snapshot::Stack*> stacks_;
  std::unordered_map<std::uint64_t, const snapshot::Location*> locations_;
  std::unordered_map<std::uint64_t, const snapshot::Mapping*> mappings_by_start_;
  std::vector<const snapshot::Mapping*> mappings_sorted_;  // by start
};

// write_stack_record() prints a stack as Go's printStackRecord does in debug=1 text:
// "#\t0x..\tfunc\tfile:line" per frame (the address is the call site; a frame with no symbol
// is "#\t0x.." alone), leading frames for which `hide` is true left out unless that would leave
// nothing, then a blank line. Go also prints "+0x.." after the function (offset from its entry);
// the snapshot has no function entries, so that part is omitted.
void write_stack_record(std::ostream& os, const SnapshotSymbols& sym,
                        const std::vector<std::uint64_t>& pcs, bool (*hide)(std::string_view));

// labels_json() renders labels as Go's "# labels:" line does: {"k":"v", "k2":"v2"}, keys sorted,
// strings quoted like Go's %q.
std::string labels_json(const snapshot::Labels& labels);

// go_quote() quotes `s` like Go's strconv.Quote (%q): escapes '"', '\\' and control bytes.
std::string go_quote(std::string_view s);

}  // namespace lw::profile
