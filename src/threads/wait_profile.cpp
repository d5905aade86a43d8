#include "src/threads/wait_profile.hpp"

#include "src/base/clock.hpp"
#include "src/base/contention_event.hpp"
#include "src/base/current_task.hpp"
#include "src/base/self_scope.hpp"
#include "src/base/thread_role.hpp"
#include "src/threads/thread_table.hpp"

namespace lw::os_threads {

bool program_waits() noexcept {
  if (base::in_self_work()) return false;
  const ThreadSlot* slot = tls_slot;
  if (slot == nullptr) return true;
  const auto role = static_cast<base::ThreadRole>(slot->role.load(std::memory_order_relaxed));
  if (role == base::ThreadRole::kInternal) return false;
  return role != base::ThreadRole::kRuntimeWorker || base::current_task_id() != 0;
}

void report_block_wait(std::int64_t since_ns) noexcept {
  if (since_ns == 0 || !program_waits()) return;
  base::block_event(base::wall_now_ns() - since_ns, 1);
}

namespace {

struct WaitingSum {
  std::uint64_t object;
  std::int64_t now_ns;
  std::int64_t delay_ns = 0;
};

void charge_if_waiting(const ThreadSlot& slot, void* arg) {
  auto* sum = static_cast<WaitingSum*>(arg);
  const WaitView w = read_wait(slot);
  if (w.kind != WaitKind::kMutexLock || w.object != sum->object) return;
  auto& charged = const_cast<ThreadSlot&>(slot).charged_since_ns;
  std::int64_t since = charged.load(std::memory_order_relaxed);
  // A failed swap means the thread's wait ended (or another unlock charged it) meanwhile.
  if (since > 0 && since < sum->now_ns && charged.compare_exchange_strong(since, sum->now_ns, std::memory_order_relaxed))
    sum->delay_ns += sum->now_ns - since;
}

}  // namespace

std::int64_t charge_waiters(const void* object) noexcept {
  WaitingSum sum{reinterpret_cast<std::uintptr_t>(object), base::wall_now_ns()};
  // The table lock may be this thread's own (a fork handler unlocking a mutex): then nothing is
  // charged rather than waiting for ourselves.
  if (!try_for_each_live(charge_if_waiting, &sum)) return 0;
  return sum.delay_ns;
}

}  // namespace lw::os_threads
