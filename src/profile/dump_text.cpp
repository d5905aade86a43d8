// Shared pieces of the Go-style text dumps (goroutine_text.cpp, thread_text.cpp).
//
// The debug=1 records follow Go's printCountProfile: keyed by "@ pcs" plus the comment lines,
// sorted by count (descending) then key, so the same records give the bytes Go's order would.
// Stack lines follow printStackRecord (write_stack_record() in profile_symbols.hpp). Go's
// records always have a stack; ours may not (a thread that did not answer the stack signal), and
// pprof's legacy parser rejects an "N @" line without addresses, so such a record is "N @ 0x0".
#include "src/profile/dump_text.hpp"

#include <algorithm>

#include "src/base/call_site.hpp"

namespace lw::profile {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

// append_function() appends the frame's function, or its call-site address when it has no symbol.
void append_function(std::string& out, const SnapshotSymbols& sym, std::uint64_t pc) {
  std::string_view f = sym.function(pc);
  if (f.empty())
    out += hex(base::call_site(pc));
  else
    out += f;
}

void append_file_line(std::string& out, const SnapshotSymbols& sym, std::uint64_t pc) {
  const auto* loc = sym.location(pc);
  out += '\t';
  out += loc && !loc->file.empty() ? std::string_view(loc->file) : std::string_view("??");
  out += ':';
  out += std::to_string(loc ? loc->line : 0);
  out += '\n';
}

}  // namespace

std::string one_line(std::string_view text, bool in_brackets) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
    if (in_brackets && c == ']') c = ')';
  }
  return out;
}

void append_labels_and_proof(std::string& out, const snapshot::Labels& labels, bool leaked,
                             const std::string& leak_reason) {
  if (!labels.empty()) {
    out += "# labels: ";
    out += labels_json(labels);
    out += '\n';
  }
  if (leaked) {
    out += "# leaked: ";
    out += leak_reason.empty() ? "proven never to wake" : one_line(leak_reason, false);
    out += '\n';
  }
}

std::string wait_words(std::int64_t since_ns, std::int64_t now_ns) {
  if (since_ns == 0 || now_ns <= since_ns) return {};
  std::int64_t waited = now_ns - since_ns;
  if (waited >= 60 * kSecond) return ", " + std::to_string(waited / (60 * kSecond)) + " minutes";
  if (waited >= kSecond) return ", " + std::to_string(waited / kSecond) + " seconds";
  return {};
}

void flush_dump(std::ostream& os, std::string& out, bool force) {
  constexpr std::size_t kFlushAt = 1 << 20;
  if (!force && out.size() < kFlushAt) return;
  os.write(out.data(), static_cast<std::streamsize>(out.size()));
  out.clear();
}

TracebackText::TracebackText(const snapshot::Snapshot& s, bool (*skip_creator)(std::string_view))
    : sym_(s), skip_creator_(skip_creator) {}

const std::string& TracebackText::frames(snapshot::StackId id) {
  auto [it, fresh] = frames_.try_emplace(id);
  if (fresh) {
    for (std::uint64_t pc : sym_.pcs(id)) {
      append_function(it->second, sym_, pc);
      it->second += "(...)\n";
      append_file_line(it->second, sym_, pc);
    }
  }
  return it->second;
}

void TracebackText::append_created_by(std::string& out, snapshot::StackId id,
                                      std::string_view in_what) {
  auto [it, fresh] = creators_.try_emplace(id);
  if (fresh) {
    const auto& pcs = sym_.pcs(id);
    std::size_t i = 0;
    while (i < pcs.size() && skip_creator_(sym_.function(pcs[i]))) ++i;
    if (i == pcs.size()) i = 0;
    if (pcs.empty()) {
      it->second = {"??", "\t??:0\n"};
    } else {
      append_function(it->second.first, sym_, pcs[i]);
      append_file_line(it->second.second, sym_, pcs[i]);
    }
  }
  out += "created by ";
  out += it->second.first;
  out += in_what;
  out += '\n';
  out += it->second.second;
}

void CountRecords::add(snapshot::StackId stack, const snapshot::Labels& labels,
                       std::string_view note, std::int64_t n) {
  std::string comments;
  if (!labels.empty()) comments = "\n# labels: " + labels_json(labels);
  if (!note.empty()) {
    comments += "\n# ";
    comments += one_line(note, false);
  }
  auto [it, fresh] = group_of_.try_emplace({stack, comments}, groups_.size());
  if (fresh) {
    Group g;
    g.stack = stack;
    g.comments = std::move(comments);
    groups_.push_back(std::move(g));
  }
  groups_[it->second].count += n;
  total_ += n;
}

void CountRecords::write(std::ostream& os, std::string_view name, const SnapshotSymbols& sym,
                         bool (*hide)(std::string_view)) const {
  // Go's key: "@ 0x.. 0x..[\n# labels: {...}]"; equal keys (equal stacks under two ids) merge.
  std::map<std::string, Group> records;
  for (const Group& g : groups_) {
    std::string key = "@";
    const auto& pcs = sym.pcs(g.stack);
    for (std::uint64_t pc : pcs) key += " " + hex(pc);
    if (pcs.empty()) key += " 0x0";
    key += g.comments;
    Group& r = records[key];
    r.count += g.count;
    r.stack = g.stack;
  }
  std::vector<std::pair<const std::string*, const Group*>> order;
  for (const auto& [k, r] : records) order.emplace_back(&k, &r);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second->count > b.second->count; });
  os << name << " profile: total " << total_ << '\n';
  for (const auto& [key, r] : order) {
    os << r->count << ' ' << *key << '\n';
    write_stack_record(os, sym, sym.pcs(r->stack), hide);
  }
}

}  // namespace lw::profile
