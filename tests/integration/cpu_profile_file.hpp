// cpu_profile_file.hpp: a CPU profile file read back through `go tool pprof -raw`, summed the way
// the CPU profile tests ask about it. For tests only; allocates.
#pragma once

#include <string>

#include "tests/profile/pprof_raw.hpp"

namespace lw::test {

struct CpuProfileFile {
  bool read = false;         // go tool pprof read the file as a CPU profile
  std::string pprof_output;  // what it printed (the reason when it did not read it)
  RawProfile raw;
  long long samples = 0;     // the sum of samples/count
  long long period_ns = 0;   // cpu/nanoseconds per sample; 0 if the samples disagree
};

// read_cpu_profile() runs go tool pprof -raw on `file` (HOME and GOCACHE in /tmp) and sums it.
CpuProfileFile read_cpu_profile(const std::string& file);

// samples_in() is the number of samples of `p` whose stack names a function containing `name`.
long long samples_in(const CpuProfileFile& p, const std::string& name);

}  // namespace lw::test
