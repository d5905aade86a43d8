// test_snapshot.hpp: a Snapshot with known contents for the server tests. For tests only.
#pragma once

#include "src/snapshot/model.hpp"

namespace lw::server::test {

// sample_snapshot() has 3 tasks (one waiting and leaked, one waiting, one running), 2 heap sites,
// 3 dropped samples, known MemStats and a command line with characters JSON must escape.
inline snapshot::Snapshot sample_snapshot() {
  using namespace lw::snapshot;
  Snapshot s;
  s.time_unix_ns = 1'700'000'000'000'000'000;
  s.process.pid = 4242;
  s.process.cmdline = {"svc", "--name=a \"quoted\" value", "tab\there"};
  s.process.executable = "/usr/bin/svc";
  s.mem.alloc = s.mem.heap_alloc = 123456;
  s.mem.total_alloc = 987654;
  s.mem.mallocs = 5000;
  s.mem.frees = 4000;
  s.mem.heap_objects = 1000;
  s.mem.sys = 4 << 20;
  s.mem.num_tasks = 3;
  s.heap.sample_rate = 1;
  s.heap.dropped_samples = 3;
  s.dropped_label_sets = 5;
  s.heap.sites = {{1, 10, 1000, 4, 400}, {2, 1, 64, 1, 64}};
  s.stacks = {{1, {0x401000, 0x402000}}, {2, {0x403000}}};
  TaskRecord a;
  a.id = 1;
  a.state = TaskState::kRunning;
  TaskRecord b;
  b.id = 2;
  b.parent_id = 1;
  b.state = TaskState::kWaiting;
  b.wait_reason = "chan receive";
  b.leaked = true;
  b.leak_reason = "no other handle";
  TaskRecord c = b;
  c.id = 3;
  c.leaked = false;
  c.wait_reason = "sleep";
  s.tasks = {a, b, c};
  s.threads = {thread_record(100, "svc"), thread_record(101, "lw-http")};
  s.threads[1].internal = true;
  s.leaked_tasks = 7;
  return s;
}

}  // namespace lw::server::test
