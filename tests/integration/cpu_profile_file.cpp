#include "tests/integration/cpu_profile_file.hpp"

#include "tests/integration/run_command.hpp"

namespace lw::test {

CpuProfileFile read_cpu_profile(const std::string& file) {
  CpuProfileFile p;
  const CommandResult r = run_command("cd /tmp && HOME=/tmp GOCACHE=/tmp/lw_gocache go tool pprof -raw '" + file + "' 2>&1");
  p.pprof_output = r.output;
  if (r.exit_code != 0) return p;
  p.raw = parse_raw(r.output);
  p.read = p.raw.sample_types.find("cpu/nanoseconds") != std::string::npos;
  bool periods_agree = true;
  for (const RawSample& s : p.raw.samples) {
    if (s.values.size() < 2 || s.values[0] <= 0) continue;
    p.samples += s.values[0];
    const long long period = s.values[1] / s.values[0];
    if (p.period_ns == 0) p.period_ns = period;
    periods_agree = periods_agree && period == p.period_ns && s.values[1] == period * s.values[0];
  }
  if (!periods_agree) p.period_ns = 0;
  return p;
}

long long samples_in(const CpuProfileFile& p, const std::string& name) {
  long long n = 0;
  for (const RawSample& s : p.raw.samples) {
    bool hit = false;
    for (const std::string& f : s.frames) hit = hit || f.find(name) != std::string::npos;
    if (hit && !s.values.empty()) n += s.values[0];
  }
  return n;
}

}  // namespace lw::test
