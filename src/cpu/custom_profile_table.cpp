// Custom profiles keep every live key with its stack, as Go's do, rather than sampling: a profile
// counts things a program holds (connections, files), few enough to keep one entry each, and a
// leak of them is found only if every one is seen. The per-key cost is one hash node pointing at
// a shared stack entry; the bounds (lw::Profile::kMaxKeys, kMaxProfiles) keep a runaway program
// from growing leakwatch's memory without end: past them adds are dropped and counted.
//
// Rejected: a lock-free table like the heap's. add() runs on ordinary program paths (opening a
// connection), not in malloc hooks, so a plain mutex per profile costs little and lets the table
// grow only as keys come.
#include "src/cpu/custom_profile_table.hpp"

#include <stdexcept>

#include "leakwatch/profile.hpp"
#include "src/base/self_scope.hpp"

namespace lw::cpu {
namespace {

constexpr std::size_t kMaxNameBytes = 128;

// The names Go's net/http/pprof serves itself, and ours: a custom profile may not hide one.
constexpr std::string_view kBuiltinNames[] = {
    "allocs", "block", "cmdline", "goroutine", "goroutineleak", "heap", "mutex",
    "profile", "symbol", "threadcreate", "threadleak", "threads", "trace"};

bool name_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '/';
}

}  // namespace

std::string profile_name_error(std::string_view name) {
  if (name.empty()) return "a profile name may not be empty";
  if (name.size() > kMaxNameBytes) return "profile name longer than 128 bytes";
  for (char c : name)
    if (!name_byte(c)) return "profile name '" + std::string(name) + "' holds a byte other than [A-Za-z0-9._/-]";
  for (std::string_view b : kBuiltinNames)
    if (name == b) return "profile name '" + std::string(name) + "' is a built-in profile's";
  return {};
}

ProfileSlot::ProfileSlot(std::string name, std::size_t max_keys) : name_(std::move(name)), max_keys_(max_keys) {}

AddOutcome ProfileSlot::add(const void* key, const unwind::StackTrace& stack) {
  if (!in_table_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return AddOutcome::kDropped;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (keys_.count(key) != 0) return AddOutcome::kDuplicate;
  if (keys_.size() >= max_keys_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return AddOutcome::kDropped;
  }
  std::vector<std::uint64_t> pcs(stack.pc, stack.pc + stack.depth);
  auto it = stacks_.try_emplace(std::move(pcs), 0).first;
  ++it->second;
  keys_.emplace(key, it);
  return AddOutcome::kAdded;
}

bool ProfileSlot::remove(const void* key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto k = keys_.find(key);
  if (k == keys_.end()) return false;
  if (--k->second->second == 0) stacks_.erase(k->second);
  keys_.erase(k);
  return true;
}

std::size_t ProfileSlot::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_.size();
}

CustomProfileRead ProfileSlot::read() const {
  CustomProfileRead r;
  r.name = name_;
  r.dropped_adds = dropped();
  std::lock_guard<std::mutex> lock(mu_);
  r.count = static_cast<std::int64_t>(keys_.size());
  r.stacks.reserve(stacks_.size());
  for (const auto& [pcs, n] : stacks_) r.stacks.emplace_back(pcs, n);
  return r;
}

bool CustomProfileTable::add(ProfileSlot* slot) {
  if (std::string why = profile_name_error(slot->name()); !why.empty()) throw std::invalid_argument(why);
  std::lock_guard<std::mutex> lock(mu_);
  if (slots_.count(slot->name()) != 0)
    throw std::invalid_argument("a profile named '" + slot->name() + "' already exists");
  if (slots_.size() >= max_profiles_) {
    dropped_profiles_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  slots_.emplace(slot->name(), slot);
  slot->in_table_ = true;
  return true;
}

void CustomProfileTable::remove(ProfileSlot* slot) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(slot->name());
  if (it != slots_.end() && it->second == slot) slots_.erase(it);
}

std::vector<CustomProfileRead> CustomProfileTable::read() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<CustomProfileRead> out;
  out.reserve(slots_.size());
  for (const auto& [name, slot] : slots_) out.push_back(slot->read());
  return out;
}

CustomProfileTable& process_profiles() {
  static CustomProfileTable* table = [] {
    base::SelfScope self;
    return new CustomProfileTable(Profile::kMaxProfiles);
  }();
  return *table;
}

}  // namespace lw::cpu
