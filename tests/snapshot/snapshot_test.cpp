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
  s.heap.sites.push_back({7, 10, 1000, 4, 400, {{"phase", "load"}}});
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
  s.dropped_label_sets = 4;
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
  CHECK(d.heap.sites[0].labels == s.heap.sites[0].labels);
  REQUIRE(d.tasks.size() == 1);
  CHECK(d.tasks[0].state == TaskState::kWaiting);
  CHECK(d.tasks[0].wait_reason == "chan receive");
  CHECK(d.tasks[0].labels == s.tasks[0].labels);
  CHECK(d.tasks[0].leaked);
  CHECK(find_stack(d, 7)->pcs.size() == 2);
  CHECK(find_location(d, 0x401000)->function == "app::handle()");
  CHECK(d.mappings[0].build_id == "abcd");
  CHECK(d.leaked_tasks == 1);
  CHECK(d.dropped_label_sets == 4);
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

namespace {

// thread_sample() has a thread with every field set to a value other than its default, and the
// snapshot-level thread figures.
Snapshot thread_sample() {
  Snapshot s = sample();
  ThreadRecord t = thread_record(4242, "svc-worker");
  t.internal = true;
  t.state = ThreadState::kWaiting;
  t.wait_reason = "condition wait";
  t.wait_since_unix_ns = 1'699'999'998'000'000'000;
  t.wait_object = 0x7f00dead0040;
  t.wait_detail = "held by thread 17401";
  t.timed_wait = true;
  t.creator_tid = 4200;
  t.creator_task = 18;
  t.start_time_unix_ns = 1'699'999'990'000'000'000;
  t.exit_time_unix_ns = 1'699'999'999'500'000'000;
  t.join = JoinState::kDetached;
  t.cpu_ns = 123'456'789;
  t.stack_id = 7;
  t.stack_error = "no answer in 50 ms";
  t.create_stack_id = 8;
  t.labels = {{"pool", "io"}, {"shard", "3"}};
  t.leaked = true;
  t.leak_reason = "deadlock: thread 4242 holds M1 and waits for M2 held by 4243";
  s.threads.push_back(t);
  s.thread_creates.push_back({8, 12});
  s.thread_creates.push_back({7, 1});
  s.threads_created = 13;
  s.leaked_threads = 2;
  s.threads_tracked = true;
  return s;
}

}  // namespace

TEST_CASE("every thread field and the snapshot's thread figures survive encode and decode") {
  Snapshot s = thread_sample();
  auto back = decode(encode(s));
  REQUIRE_MESSAGE(back.ok(), back.error().message);
  REQUIRE(back->threads.size() == 2);
  const ThreadRecord& first = back->threads[0];
  CHECK(first.tid == 1001);
  CHECK(first.runtime_worker);
  CHECK(first.join == JoinState::kUnknown);  // thread_record()'s default, sent explicitly
  const ThreadRecord& want = s.threads[1];
  const ThreadRecord& got = back->threads[1];
  CHECK(got.tid == want.tid);
  CHECK(got.name == want.name);
  CHECK_FALSE(got.runtime_worker);
  CHECK(got.internal);
  CHECK(got.state == ThreadState::kWaiting);
  CHECK(got.wait_reason == want.wait_reason);
  CHECK(got.wait_since_unix_ns == want.wait_since_unix_ns);
  CHECK(got.wait_object == want.wait_object);
  CHECK(got.wait_detail == want.wait_detail);
  CHECK(got.timed_wait);
  CHECK(got.creator_tid == 4200);
  CHECK(got.creator_task == 18);
  CHECK(got.start_time_unix_ns == want.start_time_unix_ns);
  CHECK(got.exit_time_unix_ns == want.exit_time_unix_ns);
  CHECK(got.join == JoinState::kDetached);
  CHECK(got.cpu_ns == 123'456'789);
  CHECK(got.stack_id == 7);
  CHECK(got.stack_error == want.stack_error);
  CHECK(got.create_stack_id == 8);
  CHECK(got.labels == want.labels);
  CHECK(got.leaked);
  CHECK(got.leak_reason == want.leak_reason);
  REQUIRE(back->thread_creates.size() == 2);
  CHECK(back->thread_creates[0].stack_id == 8);
  CHECK(back->thread_creates[0].count == 12);
  CHECK(back->thread_creates[1].stack_id == 7);
  CHECK(back->thread_creates[1].count == 1);
  CHECK(back->threads_created == 13);
  CHECK(back->leaked_threads == 2);
  CHECK(back->threads_tracked);
}

TEST_CASE("every thread and join state survives encode and decode, and round-trips its name") {
  for (auto st : {ThreadState::kRunning, ThreadState::kWaiting, ThreadState::kSyscall, ThreadState::kStopped,
                  ThreadState::kExited}) {
    for (auto js : {JoinState::kJoinable, JoinState::kDetached, JoinState::kJoined, JoinState::kUnknown}) {
      Snapshot s = thread_sample();
      s.threads[1].state = st;
      s.threads[1].join = js;
      auto back = decode(encode(s));
      REQUIRE(back.ok());
      CHECK(back->threads[1].state == st);
      CHECK(back->threads[1].join == js);
      JoinState join_back;
      REQUIRE(join_state_from_string(to_string(js), &join_back));
      CHECK(join_back == js);
    }
    ThreadState back;
    REQUIRE(thread_state_from_string(to_string(st), &back));
    CHECK(back == st);
  }
  ThreadState x;
  CHECK_FALSE(thread_state_from_string("sleeping", &x));
  JoinState y;
  CHECK_FALSE(join_state_from_string("zombie", &y));
}

TEST_CASE("a thread with an unknown state or join state is rejected with a clear error") {
  // A newer target may send a state this build does not know (proto3 enums carry any number).
  Snapshot bad_state = thread_sample();
  bad_state.threads[1].state = static_cast<ThreadState>(9);
  auto a = decode(encode(bad_state));
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().message == "snapshot has a thread with an unknown state 9");
  Snapshot bad_join = thread_sample();
  bad_join.threads[1].join = static_cast<JoinState>(7);
  auto b = decode(encode(bad_join));
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().message == "snapshot has a thread with an unknown join state 7");
}

TEST_CASE("custom profiles survive encode and decode; a snapshot from before them decodes with none") {
  Snapshot s = sample();
  s.custom_profiles.push_back({"open_connections", 5, 2, {{7, 4}, {8, 1}}});
  s.custom_profiles.push_back({"example.com/db.open_files", 0, 0, {}});
  s.dropped_custom_profiles = 3;
  auto back = decode(encode(s));
  REQUIRE(back.ok());
  REQUIRE(back->custom_profiles.size() == 2);
  const CustomProfile& c = back->custom_profiles[0];
  CHECK(c.name == "open_connections");
  CHECK(c.count == 5);
  CHECK(c.dropped_adds == 2);
  REQUIRE(c.samples.size() == 2);
  CHECK(c.samples[0].stack_id == 7);
  CHECK(c.samples[0].count == 4);
  CHECK(c.samples[1].stack_id == 8);
  CHECK(back->custom_profiles[1].name == "example.com/db.open_files");
  CHECK(back->dropped_custom_profiles == 3);
  CHECK(find_custom_profile(*back, "open_connections") == &back->custom_profiles[0]);
  CHECK(find_custom_profile(*back, "heap") == nullptr);

  // An older target's snapshot has neither field: it decodes, with no custom profiles.
  auto old = decode(encode(sample()));
  REQUIRE(old.ok());
  CHECK(old->custom_profiles.empty());
  CHECK(old->dropped_custom_profiles == 0);
}
