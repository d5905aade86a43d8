// The site table is open addressing over one anonymous mapping (MAP_NORESERVE, so only the pages
// that hold sites become resident), keyed by a hash of the return addresses. Slots are never
// removed, so a lookup can stop at the first empty slot and a claimed slot never moves: readers
// need no lock. Rejected: a mutex-protected std::unordered_map (allocates inside the hook and
// serializes every sampled allocation) and per-thread tables merged on read (a site's figures
// would be split across threads that exit).
#include "src/heap/stack_table.hpp"

#include <sys/mman.h>

namespace lw::heap {
namespace {

std::uint64_t hash_site(const unwind::StackTrace& t, std::uint32_t label_set) noexcept {
  std::uint64_t h = 0x9e3779b97f4a7c15ull ^ t.depth ^ (std::uint64_t{label_set} << 32);
  for (std::uint32_t i = 0; i < t.depth; ++i) {
    h ^= t.pc[i];
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  return h | 1;  // never 0
}

// The last site this thread interned, and in which table: an allocation site in a loop repeats
// its stack, and comparing against that one slot skips the hash and the probe (sites are never
// removed, so a cached index stays valid).
struct LastSite {
  const void* table = nullptr;
  std::uint32_t site = 0;
};
thread_local LastSite tls_last_site __attribute__((tls_model("initial-exec")));

}  // namespace

void StackTable::reset_after_fork() noexcept {
  if (map_state_.load(std::memory_order_relaxed) == 1) map_state_.store(0, std::memory_order_relaxed);
  Slot* slots = mapping_.load(std::memory_order_acquire);
  if (slots == nullptr) return;
  for (std::uint32_t i = 0; i < capacity_; ++i) {
    if (slots[i].state.load(std::memory_order_relaxed) != kClaiming) continue;
    slots[i].depth = 0;
    slots[i].hash = 0;
    slots[i].state.store(kReady, std::memory_order_release);
  }
}

std::uint64_t StackTable::mapped_bytes() const noexcept {
  return mapping_.load(std::memory_order_relaxed) ? std::uint64_t{capacity_} * sizeof(Slot) : 0;
}

StackTable::Slot* StackTable::ensure_mapped() noexcept {
  Slot* slots = mapping_.load(std::memory_order_acquire);
  if (slots != nullptr) return slots;
  int expected = 0;
  if (!map_state_.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) return nullptr;
  void* p = mmap(nullptr, std::size_t{capacity_} * sizeof(Slot), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    map_state_.store(3, std::memory_order_release);
    return nullptr;
  }
  // Zeroed pages are valid empty slots (atomics of 0). Slot 0 is the overflow site.
  slots = static_cast<Slot*>(p);
  slots[kOverflowSite].depth = 0;
  slots[kOverflowSite].state.store(kReady, std::memory_order_relaxed);
  mapping_.store(slots, std::memory_order_release);
  map_state_.store(2, std::memory_order_release);
  return slots;
}

std::uint32_t StackTable::intern(const unwind::StackTrace& trace, std::uint32_t label_set) noexcept {
  Slot* slots = ensure_mapped();
  if (slots == nullptr || trace.depth == 0) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return kOverflowSite;
  }
  LastSite& last = tls_last_site;
  if (last.table == this) {
    const Slot& s = slots[last.site];
    if (s.depth == trace.depth && s.label_set == label_set) {
      std::uint32_t k = 0;
      while (k < trace.depth && s.pc[k] == trace.pc[k]) ++k;
      if (k == trace.depth) return last.site;
    }
  }
  const std::uint64_t h = hash_site(trace, label_set);
  const std::uint32_t mask = capacity_ - 1;
  std::uint32_t i = static_cast<std::uint32_t>(h) & mask;
  for (std::uint32_t probe = 0; probe < kMaxProbes; ++probe, i = (i + 1) & mask) {
    if (i == kOverflowSite) continue;
    Slot& s = slots[i];
    std::uint32_t st = s.state.load(std::memory_order_acquire);
    if (st == kEmpty) {
      if (s.state.compare_exchange_strong(st, kClaiming, std::memory_order_acquire)) {
        s.depth = trace.depth;
        s.label_set = label_set;
        s.hash = h;
        for (std::uint32_t k = 0; k < trace.depth; ++k) s.pc[k] = trace.pc[k];
        s.state.store(kReady, std::memory_order_release);
        used_.fetch_add(1, std::memory_order_relaxed);
        last = LastSite{this, i};
        return i;
      }
      // Lost the race: st now holds the winner's state.
    }
    while (st == kClaiming) st = s.state.load(std::memory_order_acquire);  // a few stores away
    if (s.hash != h || s.depth != trace.depth || s.label_set != label_set) continue;
    bool same = true;
    for (std::uint32_t k = 0; k < trace.depth && same; ++k) same = s.pc[k] == trace.pc[k];
    if (same) {
      last = LastSite{this, i};
      return i;
    }
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return kOverflowSite;
}

namespace {

std::atomic<std::uint32_t> g_next_stripe{0};
thread_local std::uint32_t tls_stripe __attribute__((tls_model("initial-exec"))) = 0;  // 0: unassigned

std::uint32_t my_stripe(std::uint32_t stripes) noexcept {
  if (tls_stripe == 0) tls_stripe = g_next_stripe.fetch_add(1, std::memory_order_relaxed) % stripes + 1;
  return tls_stripe - 1;
}

}  // namespace

void StackTable::add_alloc(std::uint32_t site, std::uint64_t units, std::uint64_t bytes) noexcept {
  Slot* slots = mapping_.load(std::memory_order_acquire);
  if (slots == nullptr) return;
  Stripe& st = slots[site].stripes[my_stripe(kStripes)];
  st.alloc_units.fetch_add(units, std::memory_order_relaxed);
  st.alloc_bytes.fetch_add(bytes, std::memory_order_relaxed);
}

void StackTable::add_free(std::uint32_t site, std::uint64_t units, std::uint64_t bytes) noexcept {
  Slot* slots = mapping_.load(std::memory_order_acquire);
  if (slots == nullptr) return;
  Stripe& st = slots[site].stripes[my_stripe(kStripes)];
  st.free_units.fetch_add(units, std::memory_order_relaxed);
  st.free_bytes.fetch_add(bytes, std::memory_order_relaxed);
}

SiteFigures StackTable::figures(std::uint32_t site) const noexcept {
  const Slot* slots = mapping_.load(std::memory_order_acquire);
  if (slots == nullptr) return {};
  const Slot& s = slots[site];
  SiteFigures f;
  // Frees are read first, so a concurrent alloc+free never shows more freed than allocated
  // (a block freed on another thread than its allocation's may still be seen freed first
  // across stripes; capture clamps in-use figures at zero).
  for (const Stripe& st : s.stripes) {
    f.free_units += st.free_units.load(std::memory_order_relaxed);
    f.free_bytes += st.free_bytes.load(std::memory_order_relaxed);
  }
  for (const Stripe& st : s.stripes) {
    f.alloc_units += st.alloc_units.load(std::memory_order_relaxed);
    f.alloc_bytes += st.alloc_bytes.load(std::memory_order_relaxed);
  }
  return f;
}

}  // namespace lw::heap
