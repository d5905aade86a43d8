#include "src/base/clock.hpp"

#include <atomic>
#include <ctime>

namespace lw::base {
namespace {

Nanos read(clockid_t id) noexcept {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

class SystemClock final : public Clock {
 public:
  Nanos monotonic_ns() const noexcept override { return read(CLOCK_MONOTONIC); }
  Nanos wall_ns() const noexcept override { return read(CLOCK_REALTIME); }
};

constinit SystemClock g_system_clock;
// The test clock, or nullptr for the system clock. Relaxed is enough: tests set it before the
// code under test runs.
constinit std::atomic<const Clock*> g_test_clock{nullptr};

}  // namespace

const Clock& system_clock() noexcept { return g_system_clock; }

Nanos now_ns() noexcept {
  const Clock* c = g_test_clock.load(std::memory_order_relaxed);
  return c ? c->monotonic_ns() : read(CLOCK_MONOTONIC);
}

Nanos wall_now_ns() noexcept {
  const Clock* c = g_test_clock.load(std::memory_order_relaxed);
  return c ? c->wall_ns() : read(CLOCK_REALTIME);
}

void set_clock_for_testing(const Clock* clock) noexcept {
  g_test_clock.store(clock, std::memory_order_relaxed);
}

}  // namespace lw::base
