// cpu_profile.hpp: the CPU profile (Go's pprof.StartCPUProfile / StopCPUProfile). While it runs,
// every thread of the process is sampled after each 1/hz seconds of CPU time it uses (a CPU-time
// timer per thread); the profile is Go's (samples/count, cpu/nanoseconds), read by go tool pprof.
// The debug server serves the same at /debug/pprof/profile?seconds=N. One CPU profile at a time
// in a process. Thread-safe; start and stop allocate.
#pragma once

#include <string>

#include "leakwatch/result.hpp"

namespace lw {

// start_cpu_profile() starts sampling at `hz` (1..1000) for a profile that stop_cpu_profile()
// writes, gzipped, to `path`. Errors: a CPU profile already runs (also one the debug server
// takes), SIGPROF is the program's own.
Result<void> start_cpu_profile(const std::string& path, int hz = 100);

// stop_cpu_profile() stops the sampling and writes the profile.
Result<void> stop_cpu_profile();

}  // namespace lw
