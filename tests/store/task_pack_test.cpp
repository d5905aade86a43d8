// The packed task records of a snapshot: a round trip keeps every field, and a damaged blob gives
// a clear error instead of wrong tasks or a crash.
#include <doctest/doctest.h>

#include "src/store/task_pack.hpp"

using lw::snapshot::TaskState;
using lw::store::TaskPacker;
using lw::store::unpack_tasks;

namespace {

std::string sample_blob(int n) {
  TaskPacker p;
  for (int i = 0; i < n; ++i)
    p.add(1000 + static_cast<std::uint64_t>(i), i % 3 == 0 ? TaskState::kWaiting : TaskState::kRunnable,
          i % 3 == 0 ? "chan receive" : "", i % 3 == 0 ? 1'700'000'000'000'000'000LL + i : 0,
          static_cast<std::uint64_t>(i) * 7, i % 5 + 1, -(i % 4), i == 2, i == 2 ? "blocked on channels that only blocked tasks can reach" : "");
  return p.finish();
}

}  // namespace

TEST_CASE("packed task records read back field for field") {
  auto tasks = unpack_tasks(sample_blob(300));
  REQUIRE(tasks);
  REQUIRE(tasks->size() == 300);
  const auto& t0 = (*tasks)[0];
  CHECK(t0.task_id == 1000);
  CHECK(t0.state == TaskState::kWaiting);
  CHECK(t0.wait_reason == "chan receive");
  CHECK(t0.wait_since_unix_ns == 1'700'000'000'000'000'000LL);
  CHECK(t0.stack_id == 1);
  CHECK(t0.create_stack_id == 0);
  const auto& t2 = (*tasks)[2];
  CHECK(t2.state == TaskState::kRunnable);
  CHECK(t2.wait_reason.empty());
  CHECK(t2.switch_count == 14);
  CHECK(t2.create_stack_id == -2);
  CHECK(t2.leaked);
  CHECK(t2.leak_reason == "blocked on channels that only blocked tasks can reach");
  CHECK((*tasks)[299].task_id == 1299);
  CHECK((*tasks)[297].wait_since_unix_ns == 1'700'000'000'000'000'000LL + 297);
}

TEST_CASE("no tasks pack to a blob that reads back empty") {
  auto tasks = unpack_tasks(TaskPacker().finish());
  REQUIRE(tasks);
  CHECK(tasks->empty());
}

TEST_CASE("a truncated, extended or foreign blob is an error, never wrong tasks") {
  std::string blob = sample_blob(40);
  for (std::size_t n = 0; n < blob.size(); ++n) {
    auto cut = unpack_tasks(std::string_view(blob).substr(0, n));
    CHECK_MESSAGE(!cut, "a blob cut to " << n << " bytes was read");
  }
  auto longer = unpack_tasks(blob + "x");
  REQUIRE_FALSE(longer);
  CHECK(longer.error().message.find("past the last task") != std::string::npos);
  auto foreign = unpack_tasks("PK\x03\x04 not task records");
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().message.find("LWT1") != std::string::npos);
  std::string bad_index = blob;
  bad_index[4] = '\x01';  // claims one task; the records that follow index strings it lacks or run on
  CHECK_FALSE(unpack_tasks(bad_index));
}
