// dump_text.hpp: private to src/profile. The pieces of Go's text dumps that the goroutine and the
// thread writers share: free text kept on one line, wait times in Go's words, traceback frames and
// "created by" lines rendered once per stack, and the debug=1 count records (Go's
// printCountProfile). Not thread-safe: build one per call. Allocates.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/profile/profile_symbols.hpp"
#include "src/snapshot/model.hpp"

namespace lw::profile {

// one_line() keeps free text from breaking a record: newlines become spaces, and with
// `in_brackets` a ']' (which would end a header's brackets early) becomes ')'.
std::string one_line(std::string_view text, bool in_brackets);

// append_labels_and_proof() ends a record with its "# labels:" line (when it has labels) and its
// "# leaked:" line (when it is proven never to wake), as task and thread dumps both do.
void append_labels_and_proof(std::string& out, const snapshot::Labels& labels, bool leaked,
                             const std::string& leak_reason);

// wait_words() is the wait-time item of a dump header for a wait that began at `since_ns`:
// ", N minutes" from one minute on (Go's words, "1 minutes" included), ", N seconds" from 1 to 59
// seconds (the wait time is exact, so it is shown below a minute too), "" below one second or
// when the start is unknown (0).
std::string wait_words(std::int64_t since_ns, std::int64_t now_ns);

// flush_dump() writes `out` to `os` and clears it once it holds at least a megabyte (or always,
// with `force`), so a dump of 100k records is built in bounded pieces rather than whole.
void flush_dump(std::ostream& os, std::string& out, bool force = false);

// TracebackText renders stacks as Go's traceback does, each distinct stack once: a dump of 100k
// records parked at a few hundred sites renders a few hundred stacks. Keeps a reference to the
// snapshot, which must outlive it.
class TracebackText {
 public:
  // TracebackText() indexes `s`. `skip_creator` picks the leading frames of a creation stack
  // that are not the creating function (the go() call, pthread_create and its wrappers).
  TracebackText(const snapshot::Snapshot& s, bool (*skip_creator)(std::string_view));

  const SnapshotSymbols& symbols() const { return sym_; }

  // has_stack() says whether stack `id` is in the snapshot with at least one frame.
  bool has_stack(snapshot::StackId id) const { return !sym_.pcs(id).empty(); }

  // frames() is "func(...)\n\tfile:line\n" per frame of stack `id` ("0x4a1b2c(...)" and "??:0"
  // for what has no symbol); "" when the stack is unknown.
  const std::string& frames(snapshot::StackId id);

  // append_created_by() appends "created by F<in_what>\n\tfile:line\n", F being the innermost
  // frame of creation stack `id` that skip_creator does not skip (or the innermost, if all are).
  void append_created_by(std::string& out, snapshot::StackId id, std::string_view in_what);

 private:
  SnapshotSymbols sym_;
  bool (*skip_creator_)(std::string_view);
  std::unordered_map<snapshot::StackId, std::string> frames_;
  // creators_ holds ("F", "\tfile:line\n") per creation stack.
  std::unordered_map<snapshot::StackId, std::pair<std::string, std::string>> creators_;
};

// CountRecords collects Go's debug=1 count-profile records: one per distinct (stack, labels,
// note), with a count.
class CountRecords {
 public:
  // add() counts `n` more at `stack` with `labels`. A non-empty `note` becomes one more comment
  // line of the record's key ("# <note>"), e.g. why a record has no stack.
  void add(snapshot::StackId stack, const snapshot::Labels& labels, std::string_view note = {},
           std::int64_t n = 1);

  // write() prints "<name> profile: total N", then per record "N @ 0x.. 0x..", its "# labels:"
  // and note lines, and its frames as "#\t0x..\tfunc\tfile:line" lines (leading frames for which
  // `hide` is true left out), sorted as Go sorts them: count descending, then key text. A record
  // without a stack is "N @ 0x0", since pprof's parser needs an address on every record.
  void write(std::ostream& os, std::string_view name, const SnapshotSymbols& sym,
             bool (*hide)(std::string_view)) const;

 private:
  struct Group {
    std::int64_t count = 0;
    snapshot::StackId stack = 0;
    std::string comments;  // "\n# labels: {...}" and "\n# note", as they join the key
  };
  // Grouped by (stack id, comments) first, so that the key text Go sorts by is built once per
  // group rather than once per record.
  std::map<std::pair<snapshot::StackId, std::string>, std::size_t> group_of_;
  std::vector<Group> groups_;
  std::int64_t total_ = 0;
};

}  // namespace lw::profile
