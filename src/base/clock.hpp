// clock.hpp: where time comes from. Thread-safe; never allocates.
// Code that needs "now" calls now_ns()/wall_now_ns(); tests swap the source with
// set_clock_for_testing() so that wait times and thresholds are checked without sleeping.
#pragma once

#include <cstdint>

namespace lw::base {

using Nanos = std::int64_t;

inline constexpr Nanos kNanosPerMicro = 1'000;
inline constexpr Nanos kNanosPerMilli = 1'000'000;
inline constexpr Nanos kNanosPerSecond = 1'000'000'000;

// Clock is a source of monotonic and wall time in nanoseconds.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos monotonic_ns() const noexcept = 0;
  virtual Nanos wall_ns() const noexcept = 0;
};

// system_clock() is CLOCK_MONOTONIC and CLOCK_REALTIME.
const Clock& system_clock() noexcept;

// now_ns() reads the monotonic time of the current clock (the system clock unless a test set one).
Nanos now_ns() noexcept;
// wall_now_ns() reads the wall time (Unix epoch) of the current clock.
Nanos wall_now_ns() noexcept;

// set_clock_for_testing() makes `clock` the current clock; nullptr restores the system clock.
// The caller keeps `clock` alive until it is replaced.
void set_clock_for_testing(const Clock* clock) noexcept;

// ManualClock only moves when told to. For tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Nanos start = kNanosPerSecond, Nanos wall_start = 1'700'000'000 * kNanosPerSecond)
      : mono_(start), wall_(wall_start) {}
  Nanos monotonic_ns() const noexcept override { return mono_; }
  Nanos wall_ns() const noexcept override { return wall_; }
  void advance(Nanos d) noexcept { mono_ += d; wall_ += d; }

 private:
  Nanos mono_;  // Written only by the test thread that owns the clock.
  Nanos wall_;
};

}  // namespace lw::base
