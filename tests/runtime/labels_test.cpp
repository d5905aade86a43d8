// lw::with_labels on tasks and plain threads: what lw::tasks(), lw::threads() and the Go-style
// dumps show inside and after it, inheritance by tasks started inside, and restoring on throw.
// Results are collected into plain variables and checked after run() (no doctest state across
// a park: the task may resume on another worker).
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "leakwatch/chan.hpp"
#include "leakwatch/labels.hpp"
#include "leakwatch/runtime.hpp"
#include "leakwatch/task_info.hpp"
#include "leakwatch/thread_info.hpp"
#include "tests/runtime/runtime_test_util.hpp"

using namespace std::chrono_literals;

namespace {

using Pair = std::pair<std::string, std::string>;

lw::Labels my_task_labels() {
  auto t = lwtest::find_task(lw::current_task());
  return t ? t->labels : lw::Labels{{"missing", "task"}};
}

std::optional<lw::ThreadInfo> find_thread(std::int64_t tid) {
  for (auto& t : lw::threads(false))
    if (t.tid == tid) return t;
  return std::nullopt;
}

}  // namespace

TEST_CASE("with_labels on a task: seen inside (across a park), gone after, nested keys replaced") {
  lw::Labels before, inside, after_park, nested, after, current_inside;
  int result = 0;
  lw::run([&] {
    before = my_task_labels();
    result = lw::with_labels({{"phase", "x"}, {"tenant", "a"}}, [&] {
      inside = my_task_labels();
      current_inside = lw::current_labels();
      for (int i = 0; i < 20; ++i) lw::sleep_for(100us);  // may resume on the other worker
      after_park = my_task_labels();
      lw::with_labels({{"tenant", "b"}}, [&] { nested = my_task_labels(); });
      return 7;
    });
    after = my_task_labels();
  }, {.workers = 2});
  CHECK(result == 7);
  CHECK(before.empty());
  CHECK(inside == lw::Labels{{"phase", "x"}, {"tenant", "a"}});
  CHECK(current_inside == inside);
  CHECK(after_park == inside);
  CHECK(nested == lw::Labels{{"phase", "x"}, {"tenant", "b"}});
  CHECK(after.empty());
}

TEST_CASE("with_labels restores the labels when fn throws") {
  lw::Labels after_task, after_thread;
  bool caught = false;
  lw::run([&] {
    lw::with_labels({{"outer", "1"}}, [&] {
      try {
        lw::with_labels({{"inner", "2"}}, [] { throw std::runtime_error("boom"); });
      } catch (const std::runtime_error&) {
        caught = true;
      }
      after_task = my_task_labels();
    });
  }, {.workers = 1});
  try {
    lw::with_labels({{"k", "v"}}, [] { throw std::runtime_error("boom"); });
  } catch (const std::runtime_error&) {
  }
  after_thread = lw::current_labels();
  CHECK(caught);
  CHECK(after_task == lw::Labels{{"outer", "1"}});
  CHECK(after_thread.empty());
}

TEST_CASE("tasks started inside with_labels inherit them; go(labels) adds to them") {
  lw::Labels child, grandchild, later;
  lw::run([&] {
    lw::Chan<int> done(3);
    lw::with_labels({{"req", "r1"}}, [&] {
      lw::go([&, done]() mutable {
        child = my_task_labels();
        lw::go({{"step", "2"}}, [&, done]() mutable {
          grandchild = my_task_labels();
          done.send(1);
        });
        done.send(1);
      });
    });
    lw::go([&, done]() mutable {
      later = my_task_labels();
      done.send(1);
    });
    for (int i = 0; i < 3; ++i) done.recv();
  }, {.workers = 2});
  CHECK(child == lw::Labels{{"req", "r1"}});
  CHECK(grandchild == lw::Labels{{"req", "r1"}, {"step", "2"}});
  CHECK(later.empty());
}

TEST_CASE("a task parked inside with_labels does not lend them to the tasks its worker runs meanwhile") {
  std::atomic<bool> leaked{false};
  lw::run([&] {
    lw::Chan<int> go_on(0), done(1);
    lw::go([go_on, done]() mutable {
      lw::with_labels({{"mine", "yes"}}, [&] { go_on.recv(); });
      done.send(1);
    });
    for (int i = 0; i < 50; ++i) {
      if (!lw::current_labels().empty()) leaked = true;
      lw::yield();
    }
    go_on.send(1);
    done.recv();
    if (!lw::current_labels().empty()) leaked = true;
  }, {.workers = 1});
  CHECK(!leaked);
}

TEST_CASE("with_labels on a plain thread: lw::threads() shows them inside, not after") {
  std::mutex mu;
  std::condition_variable cv;
  int stage = 0;  // guarded by mu
  std::int64_t tid = 0;
  std::thread worker([&] {
    tid = gettid();
    lw::with_labels({{"job", "import"}}, [&] {
      std::unique_lock<std::mutex> lock(mu);
      stage = 1;
      cv.notify_all();
      cv.wait(lock, [&] { return stage == 2; });
    });
    std::unique_lock<std::mutex> lock(mu);
    stage = 3;
    cv.notify_all();
    cv.wait(lock, [&] { return stage == 4; });
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return stage == 1; });
  auto inside = find_thread(tid);
  std::ostringstream dump;
  lw::write_thread_dump(dump, 1);
  stage = 2;
  cv.notify_all();
  cv.wait(lock, [&] { return stage == 3; });
  auto after = find_thread(tid);
  stage = 4;
  cv.notify_all();
  lock.unlock();
  worker.join();
  REQUIRE(inside);
  CHECK(inside->labels == lw::Labels{{"job", "import"}});
  CHECK(dump.str().find("\n# labels: {\"job\":\"import\"}\n") != std::string::npos);
  REQUIRE(after);
  CHECK(after->labels.empty());
}

TEST_CASE("the goroutine dump prints Go's \"# labels:\" line") {
  std::string debug1;
  lw::run([&] {
    lw::Chan<int> release(0);
    lw::Chan<int> started(1);
    lw::go([release, started]() mutable {
      lw::with_labels({{"tenant", "a\"b"}, {"phase", "x"}}, [&] {
        started.send(1);
        release.recv();
      });
    });
    started.recv();
    lwtest::wait_until([] {
      for (const auto& t : lw::tasks())
        if (t.state == lw::TaskState::kWaiting && !t.labels.empty()) return true;
      return false;
    });
    std::ostringstream one;
    lw::write_task_dump(one, 1);
    debug1 = one.str();
    release.send(1);
  }, {.workers = 2});
  INFO(debug1);
  CHECK(debug1.find("\n# labels: {\"phase\":\"x\", \"tenant\":\"a\\\"b\"}\n") != std::string::npos);
}
