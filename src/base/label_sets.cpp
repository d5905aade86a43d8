// Label sets are interned because labels ride on paths that can neither allocate nor count
// references: a CPU sample is taken in a signal handler, a heap sample inside malloc, and a task
// switch must stay a few stores. A 32-bit id is copied there instead, and turned back into
// strings when a profile or dump is built, after the task or the with_labels scope may be gone.
// Rejected: a shared_ptr<const Labels> per task (its count cannot be touched from a signal
// handler, and a CPU profile built after a task exited lost that task's labels); reference-
// counted sets freed when unused (ids kept in samples and heap sites would dangle); an unbounded
// table (per-request labels would grow it for ever).
//
// Readers index a fixed array of entry pointers, each written once with release under the lock,
// so label_set() is one acquire load. The lock only serves interning, which is rare after warm-up.
#include "src/base/label_sets.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "src/base/self_scope.hpp"

namespace lw::base {
namespace {

struct Entry {
  Labels labels;
  std::string key;  // the canonical encoding the index is keyed by (it points into this string)
};

struct Index {
  std::mutex mu;
  std::unordered_map<std::string_view, std::uint32_t> ids;  // guarded by mu
  std::uint32_t next = 1;                                   // guarded by mu; 0 is kNoLabels
  std::size_t bytes = 0;                                    // guarded by mu
};

// Written once per id, under Index::mu; read lock-free. Entries are never freed.
std::atomic<const Entry*> g_entries[kMaxLabelSets] = {};
std::atomic<std::uint64_t> g_sets{0};
std::atomic<std::uint64_t> g_bytes{0};
std::atomic<std::uint64_t> g_dropped{0};
constinit const Labels kEmpty;

Index* g_index = nullptr;  // set once, by index()

// The index lives for the whole process (never destroyed: with_labels may run during exit). Its
// lock is held across fork(), so a child never inherits it taken by a thread that is gone there.
Index& index() {
  static Index* i = [] {
    g_index = new Index;
    pthread_atfork([] { g_index->mu.lock(); }, [] { g_index->mu.unlock(); }, [] { g_index->mu.unlock(); });
    return g_index;
  }();
  return *i;
}

void append_sized(std::string* out, const std::string& s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof n);
  out->append(s);
}

// Sorted labels with unique keys, encoded so that two sets are equal exactly when their keys are.
std::string encode(const Labels& sorted) {
  std::string key;
  for (const auto& [k, v] : sorted) {
    append_sized(&key, k);
    append_sized(&key, v);
  }
  return key;
}

std::size_t payload_bytes(const Labels& labels) {
  std::size_t n = 0;
  for (const auto& [k, v] : labels) n += k.size() + v.size();
  return n;
}

}  // namespace

LabelSetId merge_label_set(LabelSetId base, const Labels& extra) {
  if (extra.empty()) return base;
  SelfScope self;
  Labels merged = label_set(base);
  for (const auto& kv : extra) {
    auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& x) { return x.first == kv.first; });
    if (it != merged.end()) it->second = kv.second; else merged.push_back(kv);
  }
  std::sort(merged.begin(), merged.end());  // keys are unique: this sorts by key
  std::string key = encode(merged);
  Index& ix = index();
  std::lock_guard<std::mutex> lock(ix.mu);
  if (auto it = ix.ids.find(key); it != ix.ids.end()) return LabelSetId{it->second};
  const std::size_t bytes = payload_bytes(merged);
  if (ix.next >= kMaxLabelSets || ix.bytes + bytes > kMaxLabelSetBytes) {
    g_dropped.fetch_add(1, std::memory_order_relaxed);
    return base;
  }
  auto* e = new Entry{std::move(merged), std::move(key)};
  const std::uint32_t id = ix.next;
  ix.ids.emplace(std::string_view(e->key), id);
  ++ix.next;
  ix.bytes += bytes;
  g_entries[id].store(e, std::memory_order_release);
  g_sets.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(bytes, std::memory_order_relaxed);
  return LabelSetId{id};
}

const Labels& label_set(LabelSetId id) noexcept {
  const auto i = static_cast<std::uint32_t>(id);
  if (i == 0 || i >= kMaxLabelSets) return kEmpty;
  const Entry* e = g_entries[i].load(std::memory_order_acquire);
  return e != nullptr ? e->labels : kEmpty;
}

LabelSetStats label_set_stats() noexcept {
  return {g_sets.load(std::memory_order_relaxed), g_bytes.load(std::memory_order_relaxed),
          g_dropped.load(std::memory_order_relaxed)};
}

}  // namespace lw::base
