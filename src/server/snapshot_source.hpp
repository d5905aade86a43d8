// snapshot_source.hpp: where the server's snapshots come from. The server asks for the depth it
// needs: /metrics must stay cheap (no stacks symbolized, no /proc/self/maps), profiles need all.
// Tests inject their own SnapshotSource to serve a Snapshot they built. Thread-safe; allocates.
#pragma once

#include <functional>

#include "src/snapshot/model.hpp"

namespace lw::server {

enum class CaptureDepth {
  kCounters,  // tasks and heap (unsymbolized stacks) with MemStats: /metrics, the index page
  kLive,      // kCounters plus the stacks of threads proven leaked: the live page (those threads
              // never run, so after the first time their stacks come from the stack cache)
  kProcess,   // kCounters plus process info and resident sizes: /debug/vars
  kFull,      // everything, stacks symbolized: profiles and /debug/leakwatch/snapshot
};
const char* to_string(CaptureDepth d);

using SnapshotSource = std::function<snapshot::Snapshot(CaptureDepth)>;

// capture_this_process() is the default source: snapshot::capture_snapshot() for kFull, and for
// the lighter depths only the parts they need.
snapshot::Snapshot capture_this_process(CaptureDepth depth);

}  // namespace lw::server
