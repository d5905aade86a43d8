// The threads and threadcreate protobuf profiles, read back by go tool pprof (Go 1.19).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "src/profile/gzip.hpp"
#include "src/profile/pprof_builder.hpp"
#include "tests/profile/pprof_raw.hpp"
#include "tests/profile/synthetic_threads.hpp"

using namespace lw;
using namespace lw::profile;
using lw::test::find_sample;
using lw::test::parse_raw;
using lw::test::pprof;

namespace {

const std::vector<std::string> kPoolWait = {
    "__futex_abstimed_wait_common",  "pthread_cond_wait", "WorkQueue::pop()", "worker_loop(int)",
    "execute_native_thread_routine", "start_thread"};

std::string write_profile(const std::string& name, const std::string& data) {
  std::string path = test::temp_dir() + "/" + name;
  test::write_file(path, gzip(data));
  return path;
}

bool has_label(const test::RawSample& s, const std::string& label) {
  return std::any_of(s.labels.begin(), s.labels.end(),
                     [&](const std::string& l) { return l.find(label) != std::string::npos; });
}

// sample_of() is the sample whose labels name thread `tid`.
const test::RawSample* sample_of(const test::RawProfile& p, long long tid) {
  for (const auto& s : p.samples)
    if (has_label(s, "tid:[" + std::to_string(tid) + "]")) return &s;
  return nullptr;
}

long long total(const test::RawProfile& p) {
  long long n = 0;
  for (const auto& s : p.samples) n += s.values.at(0);
  return n;
}

}  // namespace

TEST_CASE("threads profile: one sample per user thread at its stack, with its labels") {
  auto s = test::synthetic_thread_snapshot();
  auto r = pprof("-raw " + write_profile("threads", threads_pprof(s, ThreadSelection::kAll)));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.header.find("PeriodType: threads count") != std::string::npos);
  CHECK(p.sample_types == "threads/count");
  REQUIRE(p.samples.size() == 8);
  CHECK(total(p) == 8);
  CHECK(sample_of(p, 108) == nullptr);   // leakwatch's own server thread
  CHECK(sample_of(p, 4243) == nullptr);  // a runtime worker

  const auto* pool = sample_of(p, 101);
  REQUIRE(pool != nullptr);
  CHECK(pool->frames == kPoolWait);
  CHECK(has_label(*pool, "thread:[pool-0]"));
  CHECK(has_label(*pool, "state:[waiting]"));
  CHECK(has_label(*pool, "wait_reason:[condition wait]"));
  CHECK(has_label(*pool, "pool:[io]"));

  const auto* reader = sample_of(p, 103);
  REQUIRE(reader != nullptr);
  CHECK(reader->frames == std::vector<std::string>{"read", "drain_pipe(int)",
                                                   "execute_native_thread_routine",
                                                   "start_thread"});
  CHECK(has_label(*reader, "state:[syscall]"));
  CHECK(has_label(*reader, "wait_reason:[read]"));

  // No stack: one pseudo-frame naming the state, so pprof keeps the sample.
  const auto* helper = sample_of(p, 105);
  REQUIRE(helper != nullptr);
  CHECK(helper->frames == std::vector<std::string>{"[mutex lock]"});
  const auto* finished = sample_of(p, 106);
  REQUIRE(finished != nullptr);
  CHECK(finished->frames == std::vector<std::string>{"[exited, unjoined]"});
  CHECK(has_label(*finished, "state:[exited]"));
  CHECK_FALSE(has_label(*finished, "wait_reason"));

  // Labels filter as pprof filters goroutines.
  auto path = write_profile("threads", threads_pprof(s, ThreadSelection::kAll));
  r = pprof("-top -tagfocus=state=waiting " + path);
  CHECK(r.output.find("Showing nodes accounting for 4, 50.00% of 8 total") != std::string::npos);
}

TEST_CASE("threads profile: internal threads on request; threadleak keeps the proven ones") {
  auto s = test::synthetic_thread_snapshot();
  auto r =
      pprof("-raw " + write_profile("threads_all", threads_pprof(s, ThreadSelection::kAll, true)));
  REQUIRE(r.exit_code == 0);
  auto all = parse_raw(r.output);
  CHECK(all.samples.size() == 10);
  REQUIRE(sample_of(all, 108) != nullptr);
  CHECK(has_label(*sample_of(all, 108), "thread:[lw-http]"));

  r = pprof("-raw " + write_profile("threadleak", threads_pprof(s, ThreadSelection::kLeaked)));
  REQUIRE(r.exit_code == 0);
  auto leaked = parse_raw(r.output);
  CHECK(leaked.sample_types == "threadleak/count");
  REQUIRE(leaked.samples.size() == 2);
  REQUIRE(sample_of(leaked, 104) != nullptr);
  CHECK(sample_of(leaked, 104)->frames.at(2) == "Journal::flush()");
  REQUIRE(sample_of(leaked, 105) != nullptr);
  CHECK(has_label(*sample_of(leaked, 105), "stage:[produce]"));
}

TEST_CASE("threadcreate profile: the creation stacks, every thread ever created counted") {
  auto s = test::synthetic_thread_snapshot();
  auto r = pprof("-raw " + write_profile("threadcreate_tracked", threadcreate_pprof(s)));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.sample_types == "threadcreate/count");
  REQUIRE(p.samples.size() == 3);
  CHECK(total(p) == 10);
  const auto* pool =
      find_sample(p, {"pthread_create",
                      "std::thread::_M_start_thread(std::unique_ptr<std::thread::_State, "
                      "std::default_delete<std::thread::_State> >, void (*)())",
                      "WorkerPool::start(int)", "main"});
  REQUIRE(pool != nullptr);
  CHECK(pool->values == std::vector<long long>{7});
  const auto* task =
      find_sample(p, {"pthread_create",
                      "std::thread::_M_start_thread(std::unique_ptr<std::thread::_State, "
                      "std::default_delete<std::thread::_State> >, void (*)())",
                      "spawn_helper()", "lw::runtime::task_entry(void*)"});
  REQUIRE(task != nullptr);
  CHECK(task->values == std::vector<long long>{1});
  const auto* unknown = find_sample(p, {"[no creation stack]"});
  REQUIRE(unknown != nullptr);
  CHECK(unknown->values == std::vector<long long>{2});

  r = pprof("-top " + write_profile("threadcreate_tracked", threadcreate_pprof(s)));
  CHECK(r.output.find("WorkerPool::start(int)") != std::string::npos);
}
