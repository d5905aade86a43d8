// The packed thread records of a snapshot: a round trip keeps every field, and a damaged blob
// gives a clear error instead of wrong threads or a crash.
#include <doctest/doctest.h>

#include "src/store/task_pack.hpp"
#include "src/store/thread_pack.hpp"

using lw::snapshot::JoinState;
using lw::snapshot::ThreadRecord;
using lw::snapshot::ThreadState;
using lw::store::ThreadPacker;
using lw::store::unpack_threads;

namespace {

ThreadRecord sample_thread(int i) {
  ThreadRecord t = lw::snapshot::thread_record(5000 + i, "pool-" + std::to_string(i % 4), i == 1);
  t.internal = i == 2;
  t.state = i % 3 == 0 ? ThreadState::kWaiting : i % 3 == 1 ? ThreadState::kSyscall : ThreadState::kExited;
  t.wait_reason = i % 3 == 0 ? "condition wait" : i % 3 == 1 ? "epoll_wait" : "";
  t.wait_since_unix_ns = i % 3 == 0 ? 1'700'000'000'000'000'000LL + i : 0;
  t.wait_object = i % 3 == 0 ? 0x7f0000001000ULL + static_cast<std::uint64_t>(i) : 4;
  t.wait_detail = i % 3 == 1 ? "anon_inode:[eventpoll]" : "";
  t.timed_wait = i % 5 == 0;
  t.creator_tid = i == 0 ? 0 : 5000;
  t.creator_task = static_cast<std::uint64_t>(i % 2) * 77;
  t.start_time_unix_ns = 1'699'999'000'000'000'000LL + i;
  t.exit_time_unix_ns = t.state == ThreadState::kExited ? 1'700'000'000'500'000'000LL : 0;
  t.join = i % 4 == 0 ? JoinState::kJoinable : i % 4 == 1 ? JoinState::kDetached
           : i % 4 == 2 ? JoinState::kJoined : JoinState::kUnknown;
  t.cpu_ns = static_cast<std::uint64_t>(i) * 10'000'000;
  t.stack_id = static_cast<lw::snapshot::StackId>(i % 7);
  t.stack_error = t.stack_id == 0 ? "thread blocks signal 61" : "";
  t.create_stack_id = static_cast<lw::snapshot::StackId>(i % 3);
  if (i % 2) t.labels = {{"pool", "io"}, {"shard", std::to_string(i)}};
  t.leaked = i == 4;
  t.leak_reason = i == 4 ? "deadlock: thread 5004 holds M1 and waits for M2 held by thread 5005" : "";
  return t;
}

std::string sample_blob(int n) {
  ThreadPacker p;
  // The store passes its own stack ids: here the snapshot's, plus 100.
  for (int i = 0; i < n; ++i) {
    ThreadRecord t = sample_thread(i);
    p.add(t, t.stack_id ? static_cast<std::int64_t>(t.stack_id) + 100 : 0,
          t.create_stack_id ? static_cast<std::int64_t>(t.create_stack_id) + 100 : 0);
  }
  return p.finish();
}

}  // namespace

TEST_CASE("packed thread records read back field for field, with the store's stack ids") {
  auto threads = unpack_threads(sample_blob(60));
  REQUIRE_MESSAGE(threads, threads.error().message);
  REQUIRE(threads->size() == 60);
  for (int i = 0; i < 60; ++i) {
    const ThreadRecord want = sample_thread(i);
    const ThreadRecord& got = (*threads)[static_cast<std::size_t>(i)];
    CAPTURE(i);
    CHECK(got.tid == want.tid);
    CHECK(got.name == want.name);
    CHECK(got.runtime_worker == want.runtime_worker);
    CHECK(got.internal == want.internal);
    CHECK(got.state == want.state);
    CHECK(got.wait_reason == want.wait_reason);
    CHECK(got.wait_since_unix_ns == want.wait_since_unix_ns);
    CHECK(got.wait_object == want.wait_object);
    CHECK(got.wait_detail == want.wait_detail);
    CHECK(got.timed_wait == want.timed_wait);
    CHECK(got.creator_tid == want.creator_tid);
    CHECK(got.creator_task == want.creator_task);
    CHECK(got.start_time_unix_ns == want.start_time_unix_ns);
    CHECK(got.exit_time_unix_ns == want.exit_time_unix_ns);
    CHECK(got.join == want.join);
    CHECK(got.cpu_ns == want.cpu_ns);
    CHECK(got.stack_id == (want.stack_id ? want.stack_id + 100 : 0));
    CHECK(got.stack_error == want.stack_error);
    CHECK(got.create_stack_id == (want.create_stack_id ? want.create_stack_id + 100 : 0));
    CHECK(got.labels == want.labels);
    CHECK(got.leaked == want.leaked);
    CHECK(got.leak_reason == want.leak_reason);
  }
}

TEST_CASE("no threads pack to a blob that reads back empty") {
  auto threads = unpack_threads(ThreadPacker().finish());
  REQUIRE(threads);
  CHECK(threads->empty());
}

TEST_CASE("a truncated, extended or foreign thread blob is an error, never wrong threads") {
  std::string blob = sample_blob(30);
  for (std::size_t n = 0; n < blob.size(); ++n) {
    auto cut = unpack_threads(std::string_view(blob).substr(0, n));
    CHECK_MESSAGE(!cut, "a blob cut to " << n << " bytes was read");
  }
  auto longer = unpack_threads(blob + "x");
  REQUIRE_FALSE(longer);
  CHECK(longer.error().message.find("past the last thread") != std::string::npos);
  auto foreign = unpack_threads("PK\x03\x04 not thread records");
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().message.find("LWH1") != std::string::npos);
  // A task blob is not a thread blob, and the other way round.
  lw::store::TaskPacker tasks;
  tasks.add(1, lw::snapshot::TaskState::kRunnable, "", 0, 1, 1, 0, false, "");
  CHECK_FALSE(unpack_threads(tasks.finish()));
  CHECK_FALSE(lw::store::unpack_tasks(blob));
}

TEST_CASE("a thread blob with an unknown state, join state or flag is an error") {
  auto one = [](ThreadRecord t) {
    ThreadPacker p;
    p.add(t, 1, 2);
    return p.finish();
  };
  ThreadRecord t = sample_thread(0);
  std::string blob = one(t);
  REQUIRE(unpack_threads(blob));
  // States are stored by name: rename the one this thread uses to a name no build knows.
  std::string renamed = blob;
  auto at = renamed.find("waiting");
  REQUIRE(at != std::string::npos);
  renamed.replace(at, 7, "wafting");
  auto bad_state = unpack_threads(renamed);
  REQUIRE_FALSE(bad_state);
  CHECK(bad_state.error().message.find("thread records: truncated or corrupt") != std::string::npos);
  std::string rejoined = blob;
  at = rejoined.find("joinable");
  REQUIRE(at != std::string::npos);
  rejoined.replace(at, 8, "joinible");
  CHECK_FALSE(unpack_threads(rejoined));
  // The flags follow tid (2 bytes for 5000) and name# (1 byte) at the start of the records.
  lw::store::PackReader header{std::string_view(blob).substr(4)};
  header.varint();
  header.read_strings();
  REQUIRE(header.ok);
  std::size_t records_at = blob.size() - header.in.size();
  std::string flagged = blob;
  REQUIRE(flagged[records_at + 3] == '\x04');  // sample_thread(0) is a timed wait
  flagged[records_at + 3] = '\x14';            // plus a flag bit this build does not know
  CHECK_FALSE(unpack_threads(flagged));
}
