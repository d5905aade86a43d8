// Shared lookups and naming rules for the profile writers.
//
// The index is built per call from the snapshot's vectors (hash maps by stack id and address,
// mappings sorted by start for a range search). The alternative, snapshot::find_stack() and
// find_location() per frame, is linear per lookup and quadratic over a 100k-task dump.
#include "src/profile/profile_symbols.hpp"

#include "src/base/call_site.hpp"

#include <algorithm>
#include <cstdio>
#include <regex>

namespace lw::profile {

std::string_view simplify_function(std::string_view name) {
  static constexpr std::string_view kKeep[] = {"(anonymous namespace)", "operator()"};
  std::size_t from = 0;
  while (true) {
    std::size_t open = name.find('(', from);
    if (open == std::string_view::npos) return name;
    bool reserved = false;
    for (std::string_view keep : kKeep) {
      // "operator()" is matched from its start, the '(' being its 9th character.
      std::size_t start = keep[0] == '(' ? open : (open >= 8 ? open - 8 : std::string_view::npos);
      if (start != std::string_view::npos && name.substr(start, keep.size()) == keep) {
        reserved = true;
        from = start + keep.size();
        break;
      }
    }
    if (!reserved) return name.substr(0, open);
  }
}

bool is_allocator_frame(std::string_view function) {
  static const std::regex kRx("^(" + std::string(kAllocatorFrames) + ")$");
  if (function.empty()) return false;
  std::string_view simple = simplify_function(function);
  return std::regex_match(simple.begin(), simple.end(), kRx);
}

bool is_runtime_frame(std::string_view function) {
  return function.rfind("lw::", 0) == 0;
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

SnapshotSymbols::SnapshotSymbols(const snapshot::Snapshot& s) : s_(s) {
  stacks_.reserve(s.stacks.size());
  for (const auto& st : s.stacks) stacks_.emplace(st.id, &st);
  locations_.reserve(s.locations.size());
  for (const auto& l : s.locations) locations_.emplace(l.address, &l);
  for (const auto& m : s.mappings) {
    mappings_by_start_.emplace(m.start, &m);
    mappings_sorted_.push_back(&m);
  }
  std::sort(mappings_sorted_.begin(), mappings_sorted_.end(),
            [](const auto* a, const auto* b) { return a->start < b->start; });
}

const std::vector<std::uint64_t>& SnapshotSymbols::pcs(snapshot::StackId id) const {
  static const std::vector<std::uint64_t> kEmpty;
  auto it = stacks_.find(id);
  return it == stacks_.end() ? kEmpty : it->second->pcs;
}

const snapshot::Location* SnapshotSymbols::location(std::uint64_t return_address) const {
  auto it = locations_.find(return_address);
  return it == locations_.end() ? nullptr : it->second;
}

const snapshot::Mapping* SnapshotSymbols::mapping(std::uint64_t return_address) const {
  if (const auto* loc = location(return_address); loc && loc->mapping_start != 0) {
    auto it = mappings_by_start_.find(loc->mapping_start);
    if (it != mappings_by_start_.end()) return it->second;
  }
  // The call instruction is what lies inside the mapping; the return address may be its end.
  std::uint64_t pc = return_address == 0 ? 0 : return_address - 1;
  auto it = std::upper_bound(mappings_sorted_.begin(), mappings_sorted_.end(), pc,
                             [](std::uint64_t v, const auto* m) { return v < m->start; });
  if (it == mappings_sorted_.begin()) return nullptr;
  const snapshot::Mapping* m = *(it - 1);
  return pc < m->limit ? m : nullptr;
}

std::string_view SnapshotSymbols::function(std::uint64_t return_address) const {
  const auto* loc = location(return_address);
  return loc ? std::string_view(loc->function) : std::string_view();
}

void write_stack_record(std::ostream& os, const SnapshotSymbols& sym,
                        const std::vector<std::uint64_t>& pcs, bool (*hide)(std::string_view)) {
  std::size_t first = 0;
  while (first < pcs.size() && hide(sym.function(pcs[first]))) ++first;
  if (first == pcs.size()) first = 0;
  for (std::size_t i = first; i < pcs.size(); ++i) {
    const auto* loc = sym.location(pcs[i]);
    os << "#\t" << hex(base::call_site(pcs[i]));
    if (loc && !loc->function.empty())
      os << '\t' << loc->function << '\t' << (loc->file.empty() ? "??" : loc->file) << ':'
         << loc->line;
    os << '\n';
  }
  os << '\n';
}

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string labels_json(const snapshot::Labels& labels) {
  std::vector<std::string> kv;
  kv.reserve(labels.size());
  for (const auto& [k, v] : labels) kv.push_back(go_quote(k) + ":" + go_quote(v));
  std::sort(kv.begin(), kv.end());
  std::string out = "{";
  for (std::size_t i = 0; i < kv.size(); ++i) {
    if (i) out += ", ";
    out += kv[i];
  }
  out += "}";
  return out;
}

}  // namespace lw::profile
