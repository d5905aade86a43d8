// A bad rate is a warning, not an error: a debugging aid must never stop the program it watches,
// and the default rate is what the user gets from the endpoint anyway.
#include "src/cpu/cpu_hz_env.hpp"

#include <cstdlib>

#include "src/base/log.hpp"
#include "src/base/parse.hpp"
#include "src/cpu/cpu_sampler.hpp"

namespace lw::cpu {
namespace {

int read_hz() noexcept {
  const char* v = std::getenv("LEAKWATCH_CPU_HZ");
  if (v == nullptr || *v == '\0') return kDefaultHz;
  const auto hz = base::parse_int64(v);
  if (!hz || *hz < 1 || *hz > kMaxHz) {
    base::log_write("LEAKWATCH_CPU_HZ=%s: must be a number from 1 to %d; using %d", v, kMaxHz, kDefaultHz);
    return kDefaultHz;
  }
  return static_cast<int>(*hz);
}

// Read at start-up in every process that has the CPU profiler, so the warning comes when the
// program starts, not at the first profile request.
__attribute__((constructor)) void read_hz_at_start() { (void)configured_hz(); }

}  // namespace

int configured_hz() noexcept {
  static const int kHz = read_hz();
  return kHz;
}

}  // namespace lw::cpu
