// prometheus_text.hpp: /metrics in the Prometheus text exposition format 0.0.4. Go's client names
// (go_memstats_*, go_goroutines, go_threads, process_*) where the meaning is the same, with the
// same TYPE and HELP; leakwatch_* for what Go has no name for. Pure; thread-safe; allocates.
#pragma once

#include <string>

#include "src/server/proc_stats.hpp"
#include "src/snapshot/model.hpp"

namespace lw::server {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// write_prometheus_text() renders the counters of `s` (tasks, threads, heap, MemStats; stacks are
// not read) and `proc`.
std::string write_prometheus_text(const snapshot::Snapshot& s, const ProcStats& proc);

}  // namespace lw::server
