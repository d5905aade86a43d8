// Scheduler, tasks and registry: run/go/yield/sleep, labels, exceptions, stack capture.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "leakwatch/blocking.hpp"
#include "leakwatch/chan.hpp"
#include "leakwatch/heap.hpp"
#include "leakwatch/runtime.hpp"
#include "leakwatch/sync.hpp"
#include "leakwatch/task_info.hpp"
#include "runtime/fiber.hpp"
#include "runtime/scheduler.hpp"
#include "src/unwind/symbolizer.hpp"
#include "tests/runtime/runtime_test_util.hpp"

using namespace std::chrono_literals;

TEST_CASE("run() runs main as task 1 and returns its status") {
  lw::TaskId seen{};
  CHECK(lw::run([&] { seen = lw::current_task(); }, {.workers = 2}) == 0);
  CHECK(static_cast<std::uint64_t>(seen) == 1);
  CHECK(lw::run([] { throw std::runtime_error("boom"); }, {.workers = 1}) == 1);
  CHECK(lw::current_task() == lw::TaskId{0});
}

TEST_CASE("go() runs tasks on the workers; parents and ids are recorded") {
  std::atomic<int> ran{0};
  lw::run([&] {
    lw::WaitGroup wg;
    wg.add(100);
    for (int i = 0; i < 100; ++i)
      lw::go([&] {
        ran.fetch_add(1);
        wg.done();
      });
    wg.wait();
  }, {.workers = 2});
  CHECK(ran.load() == 100);
}

TEST_CASE("an exception escaping a task ends only that task") {
  int after = 0;
  CHECK(lw::run([&] {
    lw::Chan<int> done(0);
    lw::go([] { throw std::runtime_error("task failure"); });
    lw::go([done] { done.send(7); });
    after = *done.recv();
  }) == 0);
  CHECK(after == 7);
}

TEST_CASE("yield lets other tasks run; sleep_for parks") {
  lw::run([] {
    std::atomic<int> turns{0};
    lw::WaitGroup wg;
    wg.add(2);
    for (int k = 0; k < 2; ++k)
      lw::go([&] {
        for (int i = 0; i < 50; ++i) {
          turns.fetch_add(1);
          lw::yield();
        }
        wg.done();
      });
    wg.wait();
    CHECK(turns.load() == 100);
    auto t0 = std::chrono::steady_clock::now();
    lw::sleep_for(5ms);
    CHECK(std::chrono::steady_clock::now() - t0 >= 5ms);
  }, {.workers = 1});
}

TEST_CASE("labels are inherited and merged") {
  lw::run([] {
    lw::Chan<lw::Labels> out(1);
    lw::go({{"region", "eu"}, {"svc", "a"}}, [out] {
      lw::go({{"svc", "b"}}, [out] {
        for (const auto& t : lw::tasks())
          if (t.id == lw::current_task()) out.send(t.labels);
      });
    });
    auto l = *out.recv();
    REQUIRE(l.size() == 2);
    CHECK(l[0] == std::pair<std::string, std::string>{"region", "eu"});
    CHECK(l[1] == std::pair<std::string, std::string>{"svc", "b"});
  });
}

namespace {
__attribute__((noinline)) void park_here_for_stack_test(lw::Chan<int> ch) {
  ch.recv();
  asm volatile("");
}
}  // namespace

TEST_CASE("a parked task's stack is walked from its saved context (Boost 1.74 offsets)") {
  lw::run([] {
    lw::Chan<int> ch(0);
    lw::TaskId id = lw::go([ch] { park_here_for_stack_test(ch); });
    auto info = lwtest::wait_for_state(id, lw::TaskState::kWaiting);
    REQUIRE(info.has_value());
    CHECK(info->wait_reason == "chan receive");
    CHECK(info->wait_object == reinterpret_cast<std::uint64_t>(ch.id()));
    CHECK(info->wait_since_unix_ns > 0);
    std::string frames = lwtest::symbolize(info->stack);
    CHECK(frames.find("park_here_for_stack_test") != std::string::npos);
    CHECK(frames.find("lw::detail::ChanHandle::recv_raw") != std::string::npos);
    // The creation stack starts in this test's lambda (go() is inlined into its caller).
    std::string created = lwtest::symbolize(info->create_stack);
    CHECK(created.find("DOCTEST_ANON_FUNC") != std::string::npos);
    CHECK(info->parent == lw::TaskId{1});
    ch.send(1);
  });
}

// read_in_blocking_call_for_test() blocks its worker in read(2) inside a BlockingCall.
__attribute__((noinline)) long read_in_blocking_call_for_test(int fd) {
  char c = 0;
  long n = lw::blocking([&] { return ::read(fd, &c, 1); });
  asm volatile("" ::: "memory");  // keeps this frame (no tail call)
  return n;
}

TEST_CASE("a task in a blocking call shows as in a syscall, with its stack and since when") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  lw::run([&] {
    std::atomic<long> got{-2};
    lw::TaskId id = lw::go([&] { got = read_in_blocking_call_for_test(fds[0]); });
    auto info = lwtest::wait_for_state(id, lw::TaskState::kSyscall);
    REQUIRE(info.has_value());
    CHECK(info->wait_since_unix_ns > 0);
    std::string frames = lwtest::symbolize(info->stack);
    // No INFO here: doctest keeps it per thread, and this task may wake on another worker below.
    CHECK_MESSAGE(frames.find("read_in_blocking_call_for_test") != std::string::npos, frames);
    std::ostringstream dump;
    lw::write_task_dump(dump, 2);
    CHECK(dump.str().find("[syscall") != std::string::npos);
    REQUIRE(::write(fds[1], "x", 1) == 1);
    lwtest::wait_until([&] { return got.load() != -2; });
    CHECK(got.load() == 1);
  }, {.workers = 2});
  ::close(fds[0]);
  ::close(fds[1]);
  // Outside any task it is only the call.
  CHECK(lw::blocking([] { return 7; }) == 7);
}

TEST_CASE("MemStats count task stacks while a runtime runs") {
  lw::run([] {
    lw::Chan<int> gate(0);
    lw::WaitGroup started;
    started.add(100);
    for (int i = 0; i < 100; ++i)
      lw::go([gate, &started] {
        started.done();
        gate.recv();
      });
    started.wait();
    lw::MemStats m = lw::read_mem_stats();
    CHECK(m.num_tasks == 101);
    CHECK(m.stack_inuse >= 101 * 4096);  // every task has touched at least a page of its stack
    CHECK(m.stack_sys >= m.stack_inuse);
    CHECK(m.sys >= m.stack_sys);
    CHECK(m.heap_sys >= m.heap_inuse);
    CHECK(m.heap_sys < (std::uint64_t{1} << 40));  // a real figure, not a negative count wrapped
    gate.close();
  }, {.workers = 2});
  CHECK(lw::read_mem_stats().num_tasks == 0);
}

TEST_CASE("a parked task's wait stamp is the wall time of its park, the same in every snapshot") {
  lw::run([] {
    lw::Chan<int> ch(0);
    auto wall = [] { return std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count(); };
    std::int64_t before = wall();
    lw::TaskId id = lw::go([ch] { ch.recv(); });
    auto first = lwtest::wait_for_state(id, lw::TaskState::kWaiting);
    std::int64_t seen = wall();
    REQUIRE(first.has_value());
    // Between the spawn and the snapshot that saw it parked (with a little slack for the
    // conversion of a TSC stamp: the rate is measured over the run so far).
    CHECK(first->wait_since_unix_ns >= before - 1'000'000);
    CHECK(first->wait_since_unix_ns <= seen + 1'000'000);
    std::this_thread::sleep_for(20ms);  // the stamp must not drift as time passes
    for (int i = 0; i < 3; ++i) {
      auto again = lwtest::find_task(id);
      REQUIRE(again.has_value());
      CHECK(again->wait_since_unix_ns == first->wait_since_unix_ns);
    }
    ch.send(1);
  });
}

__attribute__((noinline)) void echo_for_capture_test(lw::Chan<int> in, lw::Chan<int> out) {
  while (auto v = in.recv()) out.send(*v);
  asm volatile("");
}

TEST_CASE("snapshots taken while tasks switch constantly report whole stacks") {
  // The capture walks a parked or runnable task's saved context while holding its ctx_busy (try
  // only: a task being switched in is reported running). Under constant switching on both
  // workers, echo tasks must still be captured (a capture that always lost the race would report
  // them running and capture none) with stacks reaching the echo function; the sanitizer builds
  // run the same concurrent captures.
  lw::run([] {
    lw::Chan<int> a(0), b(0), c(0), d(0);
    std::set<std::uint64_t> echo_ids;
    echo_ids.insert(static_cast<std::uint64_t>(lw::go([a, b] { echo_for_capture_test(a, b); })));
    echo_ids.insert(static_cast<std::uint64_t>(lw::go([c, d] { echo_for_capture_test(c, d); })));
    // A second pair, driven from its own task, so switches happen on both workers.
    lw::Chan<int> done(1);
    lw::go([c, d, done] {
      for (int i = 0; i < 20000; ++i) {
        c.send(i);
        d.recv();
      }
      done.send(1);
    });
    std::set<std::vector<std::uintptr_t>> stacks;
    int captured = 0;
    for (int i = 0; i < 20000; ++i) {
      a.send(i);
      b.recv();
      if (i % 50 == 0) {
        for (const auto& t : lw::tasks()) {
          if (!echo_ids.count(static_cast<std::uint64_t>(t.id))) continue;
          if (t.state != lw::TaskState::kWaiting && t.state != lw::TaskState::kRunnable) continue;
          if (t.switch_count == 0) continue;  // never ran: shown by its entry function
          CHECK(!t.stack.empty());
          stacks.insert(t.stack);
          ++captured;
        }
      }
    }
    done.recv();
    a.close();
    c.close();
    CHECK(captured > 0);
    for (const auto& st : stacks) {
      std::string frames = lwtest::symbolize(st);
      CHECK_MESSAGE(frames.find("echo_for_capture_test") != std::string::npos, frames);
    }
  });
}

TEST_CASE("100k concurrent tasks") {
#if defined(__SANITIZE_THREAD__)
  constexpr int kTasks = 4'000;  // TSan counts each fiber as a thread (limit 8128)
#else
  constexpr int kTasks = 100'000;
#endif
  lw::run([] {
    lw::Chan<int> gate(0);
    lw::WaitGroup started, done;
    started.add(kTasks);
    done.add(kTasks);
    for (int i = 0; i < kTasks; ++i)
      lw::go([gate, &started, &done] {
        started.done();
        gate.recv();
        done.done();
      });
    started.wait();
    CHECK(lw::tasks().size() == kTasks + 1);
    gate.close();
    done.wait();
  }, {.workers = 2, .stack_size = 64 * 1024});
}

TEST_CASE("a ping-pong pair does not starve the other runnable tasks") {
  constexpr long kMaxRounds = 2'000'000;
  long rounds = 0;
  lw::run([&] {
    std::atomic<bool> stop{false};
    lw::Chan<int> ping(0), pong(0);
    lw::WaitGroup done;
    done.add(2);
    lw::go([&] {
      while (rounds < kMaxRounds && !stop.load(std::memory_order_acquire)) {
        ping.send(1);
        pong.recv();
        ++rounds;
      }
      ping.close();
      done.done();
    });
    lw::go([&, ping, pong] {
      while (auto v = ping.recv()) pong.send(*v);
      done.done();
    });
    lw::yield();  // from here on the pair keeps readying each other into run-next
    stop.store(true, std::memory_order_release);
    done.wait();
  }, {.workers = 1});
  CHECK(rounds < kMaxRounds);  // main got the worker back long before the pair was done
}

TEST_CASE("registry reads in batches list every long-lived task once while others come and go") {
  constexpr int kParked = 2'000;  // several batches of the reader
  lw::run([] {
    lw::Chan<int> gate(0);
    lw::WaitGroup started;
    started.add(kParked);
    std::vector<lw::TaskId> parked(kParked);
    for (int i = 0; i < kParked; ++i)
      parked[i] = lw::go([gate, &started] {
        started.done();
        gate.recv();
      });
    started.wait();
    // done() comes just before recv(): let the last one reach its park.
    REQUIRE(lwtest::wait_for_state(parked[kParked - 1], lw::TaskState::kWaiting).has_value());
    // Churn: tasks start and end all through the reads.
    std::atomic<bool> stop{false};
    lw::WaitGroup churners;
    churners.add(2);
    for (int c = 0; c < 2; ++c)
      lw::go([&] {
        while (!stop.load(std::memory_order_acquire)) {
          lw::WaitGroup one;
          one.add(1);
          lw::go([&one] { one.done(); });
          one.wait();
        }
        churners.done();
      });
    // Two readers at once: each must skip the other's marker.
    lw::WaitGroup readers;
    readers.add(2);
    for (int r = 0; r < 2; ++r)
      lw::go([&] {
        for (int round = 0; round < 5; ++round) {
          std::int64_t longest = -1;
          std::vector<lw::TaskInfo> seen = lw::rt::registry_snapshot(&longest);
          std::map<std::uint64_t, int> times;
          for (const auto& t : seen) ++times[static_cast<std::uint64_t>(t.id)];
          CHECK(times.count(0) == 0);  // no reader's marker
          int twice = 0, missing = 0;
          for (const auto& [id, n] : times) twice += n > 1;
          for (lw::TaskId id : parked) missing += times.count(static_cast<std::uint64_t>(id)) == 0;
          CHECK(twice == 0);
          CHECK(missing == 0);
          CHECK(longest >= 0);
          for (const auto& t : seen) {
            if (t.id != parked[kParked - 1]) continue;  // a record from the last batches is whole
            CHECK(t.state == lw::TaskState::kWaiting);
            CHECK(t.wait_reason == "chan receive");
            CHECK_FALSE(t.stack.empty());
            CHECK_FALSE(t.create_stack.empty());
          }
        }
        readers.done();
      });
    readers.wait();
    stop.store(true, std::memory_order_release);
    churners.wait();
    gate.close();
  }, {.workers = 2, .stack_size = 64 * 1024});
}

TEST_CASE("remaining tasks are unwound when main returns") {
  static std::atomic<int> destroyed{0};
  struct Guard {
    ~Guard() { destroyed.fetch_add(1); }
  };
  destroyed = 0;
  lw::run([] {
    lw::Chan<int> never(0);
    for (int i = 0; i < 10; ++i)
      lw::go([never] {
        Guard g;
        never.recv();
      });
    lw::go([] {
      Guard g;
      lw::sleep_for(1h);
    });
    lw::sleep_for(1ms);
  });
  CHECK(destroyed.load() == 11);
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
namespace {
// Uses about `depth` KiB of stack, then returns.
__attribute__((noinline)) int use_stack(int depth) {
  volatile char frame[1024];
  for (auto& c : frame) c = static_cast<char>(depth);
  int below = depth > 1 ? use_stack(depth - 1) : 0;
  return frame[depth % 1024] + below;
}
}  // namespace

TEST_CASE("a task that overflows its stack is detected at its next switch, not silently") {
  int err[2];
  REQUIRE(pipe(err) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(err[1], 2);
    lw::run([] {
      // Park 300 tasks first so the next one gets a slot without a guard page (canary only).
      lw::Chan<int> gate(0);
      for (int i = 0; i < 300; ++i) lw::go([gate] { gate.recv(); });
      lw::go([] {
        use_stack(80);  // 80 KiB on a 64 KiB stack: runs into the gap and the slot below
        lw::yield();
      });
      lw::sleep_for(std::chrono::seconds(5));
    }, {.workers = 1, .stack_size = 64 * 1024});
    _exit(0);
  }
  close(err[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(err[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  close(err[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(text.find("stack overflow in task") != std::string::npos);
}
#endif
