#include <doctest/doctest.h>

#include "src/snapshot/codec.hpp"

using namespace lw::snapshot;

namespace {

Snapshot sample() {
  Snapshot s;
  s.time_unix_ns = 1'700'000'000'000'000'000;
  s.capture_pause_ns = 1234;
  s.process = {42, 1'699'999'000'000'000'000, "42-abc", "/usr/bin/app", {"app", "--port=1"}};
  s.mem.heap_alloc = 1 << 20;
  s.mem.max_rss = 99;
  s.heap.sample_rate = 524288;
  s.heap.sites.push_back({7, 10, 1000, 4, 400});
  TaskRecord t;
  t.id = 18;
  t.parent_id = 1;
  t.state = TaskState::kWaiting;
  t.wait_reason = "chan receive";
  t.wait_since_unix_ns = 1'699'999'999'000'000'000;
  t.stack_id = 7;
  t.create_stack_id = 8;
  t.labels = {{"handler", "/api"}};
  t.leaked = true;
  t.leak_reason = "no other handle";
  s.tasks.push_back(t);
  s.threads.push_back(thread_record(1001, "worker-0", true));
  s.stacks.push_back({7, {0x401000, 0x402000}});
  s.stacks.push_back({8, {0x403000}});
  s.locations.push_back({0x401000, "app::handle()", "/src/app.cpp", 12, 0x400000});
  s.mappings.push_back({0x400000, 0x500000, 0, "/usr/bin/app", "abcd"});
  s.leaked_tasks = 1;
  return s;
}

}  // namespace

TEST_CASE("a snapshot survives encode and decode unchanged") {
  Snapshot s = sample();
  auto back = decode(encode(s));
  REQUIRE(back.ok());
  const Snapshot& d = *back;
  CHECK(d.time_unix_ns == s.time_unix_ns);
  CHECK(d.process.cmdline == s.process.cmdline);
  CHECK(d.mem.heap_alloc == s.mem.heap_alloc);
  CHECK(d.mem.max_rss == 99);
  REQUIRE(d.heap.sites.size() == 1);
  CHECK(d.heap.sites[0].inuse_bytes == 400);
  REQUIRE(d.tasks.size() == 1);
  CHECK(d.tasks[0].state == TaskState::kWaiting);
  CHECK(d.tasks[0].wait_reason == "chan receive");
  CHECK(d.tasks[0].labels == s.tasks[0].labels);
  CHECK(d.tasks[0].leaked);
  CHECK(find_stack(d, 7)->pcs.size() == 2);
  CHECK(find_location(d, 0x401000)->function == "app::handle()");
  CHECK(d.mappings[0].build_id == "abcd");
  CHECK(d.leaked_tasks == 1);
}

TEST_CASE("decode rejects empty, truncated and foreign input with a clear error") {
  CHECK(decode("").error().message.find("empty") != std::string::npos);
  std::string bytes = encode(sample());
  auto cut = decode(std::string_view(bytes).substr(0, bytes.size() / 2));
  CHECK_FALSE(cut.ok());
  auto junk = decode("\xff\xff\xff\xff garbage");
  CHECK_FALSE(junk.ok());
  Snapshot future = sample();
  future.format_version = kFormatVersion + 1;
  auto f = decode(encode(future));
  REQUIRE_FALSE(f.ok());
  CHECK(f.error().message.find("not supported") != std::string::npos);
}

TEST_CASE("task states round-trip through their names") {
  for (auto st : {TaskState::kRunnable, TaskState::kRunning, TaskState::kWaiting, TaskState::kSyscall,
                  TaskState::kDead}) {
    TaskState back;
    REQUIRE(task_state_from_string(to_string(st), &back));
    CHECK(back == st);
  }
  TaskState x;
  CHECK_FALSE(task_state_from_string("sleeping", &x));
}
