// Channel, select, Mutex, WaitGroup, timer and fd-wait semantics (Go's), including close races.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "leakwatch/chan.hpp"
#include "leakwatch/runtime.hpp"
#include "leakwatch/select.hpp"
#include "leakwatch/sync.hpp"
#include "leakwatch/task_info.hpp"
#include "runtime/scheduler.hpp"
#include "src/base/clock.hpp"
#include "tests/runtime/runtime_test_util.hpp"

using namespace std::chrono_literals;

TEST_CASE("unbuffered channel: send meets recv, values in order") {
  lw::run([] {
    lw::Chan<int> ch(0);
    lw::go([ch] {
      for (int i = 0; i < 1000; ++i) ch.send(i);
      ch.close();
    });
    int expect = 0;
    for (int v : ch) CHECK(v == expect++);
    CHECK(expect == 1000);
    CHECK_FALSE(ch.recv().has_value());
  });
}

TEST_CASE("buffered channel: capacity, size, FIFO, drain after close") {
  lw::run([] {
    lw::Chan<std::string> ch(3);
    CHECK(ch.capacity() == 3);
    ch.send("a");
    ch.send("b");
    ch.send("c");
    CHECK(ch.size() == 3);
    ch.close();
    CHECK(*ch.recv() == "a");
    CHECK(*ch.recv() == "b");
    CHECK(*ch.recv() == "c");
    CHECK_FALSE(ch.recv());
  });
}

TEST_CASE("send on closed and double close are errors the caller sees") {
  lw::run([] {
    lw::Chan<int> ch(1);
    ch.close();
    CHECK_THROWS_AS(ch.send(1), lw::ChanError);
    CHECK_THROWS_AS(ch.close(), lw::ChanError);
    lw::Chan<int> nil;
    CHECK_THROWS_AS(nil.close(), lw::ChanError);
  });
}

TEST_CASE("close wakes blocked receivers (nullopt) and blocked senders (ChanError)") {
  lw::run([] {
    lw::Chan<int> ch(0);
    std::atomic<int> receivers_done{0}, senders_failed{0};
    lw::WaitGroup wg;
    wg.add(8);
    for (int i = 0; i < 4; ++i)
      lw::go([ch, &wg, &receivers_done] {
        if (!ch.recv()) receivers_done++;
        wg.done();
      });
    lw::Chan<int> ch2(0);
    for (int i = 0; i < 4; ++i)
      lw::go([ch2, &wg, &senders_failed] {
        try {
          ch2.send(1);
        } catch (const lw::ChanError&) {
          senders_failed++;
        }
        wg.done();
      });
    lw::sleep_for(2ms);
    ch.close();
    ch2.close();
    wg.wait();
    CHECK(receivers_done == 4);
    CHECK(senders_failed == 4);
  });
}

TEST_CASE("close races with many senders and receivers: nothing lost, nothing duplicated") {
  lw::run([] {
    for (int round = 0; round < 20; ++round) {
      lw::Chan<int> ch(round % 3);
      std::atomic<long> sent{0}, received{0};
      lw::WaitGroup senders, receivers;
      senders.add(4);
      receivers.add(4);
      for (int s = 0; s < 4; ++s)
        lw::go([ch, &sent, &senders, s] {
          try {
            for (int i = 1;; ++i) {
              ch.send(s * 100000 + i);
              sent += s * 100000 + i;
            }
          } catch (const lw::ChanError&) {
          }
          senders.done();
        });
      for (int r = 0; r < 4; ++r)
        lw::go([ch, &received, &receivers] {
          while (auto v = ch.recv()) received += *v;
          receivers.done();
        });
      lw::sleep_for(200us);
      ch.close();
      senders.wait();
      receivers.wait();
      CHECK(sent.load() == received.load());
    }
  }, {.workers = 2});
}

TEST_CASE("select: ready case, default, timeout, send case") {
  lw::run([] {
    lw::Chan<int> a(1), b(1);
    b.send(5);
    int got = 0;
    std::size_t i = lw::select(lw::recv_case(a, [&](std::optional<int> v) { got = v.value_or(-1); }),
                               lw::recv_case(b, [&](std::optional<int> v) { got = v.value_or(-1); }));
    CHECK(i == 1);
    CHECK(got == 5);
    CHECK(lw::select(lw::recv_case(a, [](std::optional<int>) {}), lw::default_case()) == 1);
    auto t0 = std::chrono::steady_clock::now();
    CHECK(lw::select(lw::recv_case(a, [](std::optional<int>) {}), lw::timeout_case(3ms)) == 1);
    CHECK(std::chrono::steady_clock::now() - t0 >= 3ms);
    CHECK(lw::select(lw::send_case(a, 9), lw::default_case()) == 0);
    CHECK(*a.recv() == 9);
    // A blocked select is completed by a sender in another task.
    lw::Chan<int> c(0);
    lw::go([c] { c.send(11); });
    int v = 0;
    CHECK(lw::select(lw::recv_case(a, [](std::optional<int>) {}),
                     lw::recv_case(c, [&](std::optional<int> x) { v = *x; })) == 1);
    CHECK(v == 11);
    // A closed channel's receive case is ready with nullopt.
    c.close();
    bool closed = false;
    lw::select(lw::recv_case(c, [&](std::optional<int> x) { closed = !x; }));
    CHECK(closed);
    // A send case on a closed channel throws.
    CHECK_THROWS_AS(lw::select(lw::send_case(c, 1)), lw::ChanError);
  });
}

TEST_CASE("select chooses fairly among ready cases") {
  lw::run([] {
    lw::Chan<int> a(1), b(1), c(1);
    int counts[3] = {};
    constexpr int kRounds = 3000;
    for (int r = 0; r < kRounds; ++r) {
      a.send(0);
      b.send(1);
      c.send(2);
      std::size_t i = lw::select(lw::recv_case(a, [](std::optional<int>) {}), lw::recv_case(b, [](std::optional<int>) {}),
                                 lw::recv_case(c, [](std::optional<int>) {}));
      counts[i]++;
      // Drain the other two.
      for (auto* ch : {&a, &b, &c})
        if (ch->size() > 0) ch->recv();
    }
    for (int k = 0; k < 3; ++k) {
      CHECK(counts[k] > kRounds / 3 - 250);
      CHECK(counts[k] < kRounds / 3 + 250);
    }
  });
}

TEST_CASE("select with both send and recv blocked, woken by either side, never both") {
  lw::run([] {
    for (int round = 0; round < 200; ++round) {
      lw::Chan<int> in(0), out(0);
      std::atomic<int> took{0};
      lw::go([in] { in.send(1); });
      lw::go([out, &took] {
        if (out.recv()) took++;
      });
      int n = 0;
      for (int k = 0; k < 2; ++k)
        lw::select(lw::recv_case(in, [&](std::optional<int>) { ++n; }), lw::send_case(out, 2, [&] { ++n; }));
      CHECK(n == 2);
      lwtest::wait_until([&] { return took.load() == 1; });
      CHECK(took.load() == 1);
    }
  }, {.workers = 2});
}

TEST_CASE("Mutex: mutual exclusion across workers, FIFO hand-over, try_lock") {
  lw::run([] {
    lw::Mutex mu;
    long counter = 0;
    lw::WaitGroup wg;
    wg.add(8);
    for (int t = 0; t < 8; ++t)
      lw::go([&] {
        for (int i = 0; i < 2000; ++i) {
          std::lock_guard<lw::Mutex> g(mu);
          ++counter;
          if (i % 100 == 0) lw::yield();
        }
        wg.done();
      });
    wg.wait();
    CHECK(counter == 16000);
    CHECK(mu.try_lock());
    CHECK_FALSE(mu.try_lock());
    mu.unlock();
  }, {.workers = 2});
}

TEST_CASE("WaitGroup: wait at zero returns, negative counter throws") {
  lw::run([] {
    lw::WaitGroup wg;
    wg.wait();
    CHECK_THROWS_AS(wg.done(), lw::SyncError);
    wg.add(3);
    std::atomic<int> woke{0};
    lw::WaitGroup finished;
    finished.add(2);
    for (int i = 0; i < 2; ++i)
      lw::go([&] {
        wg.wait();
        woke++;
        finished.done();
      });
    lw::sleep_for(1ms);
    CHECK(woke == 0);
    wg.add(-3);
    finished.wait();
    CHECK(woke == 2);
  });
}

namespace {
// base::ManualClock is for single-threaded tests; the runtime's poller reads the clock from its own
// thread, so this one keeps its time in atomics.
class SharedManualClock final : public lw::base::Clock {
 public:
  lw::base::Nanos monotonic_ns() const noexcept override { return mono_.load(); }
  lw::base::Nanos wall_ns() const noexcept override { return wall_.load(); }
  void advance(lw::base::Nanos d) noexcept {
    mono_ += d;
    wall_ += d;
  }

 private:
  std::atomic<lw::base::Nanos> mono_{lw::base::kNanosPerSecond};
  std::atomic<lw::base::Nanos> wall_{1'700'000'000 * lw::base::kNanosPerSecond};
};
}  // namespace

TEST_CASE("timers follow the injected clock") {
  SharedManualClock clock;
  lw::base::set_clock_for_testing(&clock);
  lw::run([&] {
    std::atomic<bool> woke{false};
    lw::TaskId id = lw::go([&] {
      lw::sleep_for(10min);
      woke = true;
    });
    auto info = lwtest::wait_for_state(id, lw::TaskState::kWaiting);
    REQUIRE(info);
    CHECK(info->wait_reason == "sleep");
    CHECK(info->wait_since_unix_ns == clock.wall_ns());
    // Real time passes, the clock does not: still asleep.
    std::this_thread::sleep_for(5ms);
    CHECK_FALSE(woke.load());
    clock.advance(9 * 60 * lw::base::kNanosPerSecond);
    lw::rt::kick_timers();
    std::this_thread::sleep_for(5ms);
    CHECK_FALSE(woke.load());
    clock.advance(61 * lw::base::kNanosPerSecond);
    lw::rt::kick_timers();
    lwtest::wait_until([&] { return woke.load(); });
    CHECK(woke.load());
  });
  lw::base::set_clock_for_testing(nullptr);
}

TEST_CASE("fd waits: a task parks in IO wait until the pipe is readable") {
  lw::run([] {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    std::atomic<bool> readable{false};
    lw::TaskId id = lw::go([&] {
      auto r = lw::wait_readable(fds[0]);
      CHECK(r.ok());
      char c;
      CHECK(read(fds[0], &c, 1) == 1);
      readable = true;
    });
    auto info = lwtest::wait_for_state(id, lw::TaskState::kWaiting);
    REQUIRE(info);
    CHECK(info->wait_reason == "IO wait");
    CHECK_FALSE(readable.load());
    CHECK(write(fds[1], "x", 1) == 1);
    lwtest::wait_until([&] { return readable.load(); });
    CHECK(readable.load());
    CHECK(lw::wait_writable(fds[1]).ok());
    close(fds[0]);
    close(fds[1]);
    // A regular file cannot be polled: a clear error.
    char path[] = "/tmp/lw_fd_testXXXXXX";
    int f = mkstemp(path);
    auto r = lw::wait_readable(f);
    CHECK_FALSE(r.ok());
    close(f);
    unlink(path);
  });
  CHECK_FALSE(lw::wait_readable(0).ok());  // not in a task
}

TEST_CASE("channels work between a plain thread and tasks") {
  lw::Chan<int> ch(0);
  std::thread feeder;
  lw::run([&] {
    feeder = std::thread([ch] {
      for (int i = 0; i < 100; ++i) ch.send(i);
      ch.close();
    });
    int sum = 0;
    for (int v : ch) sum += v;
    CHECK(sum == 4950);
  });
  feeder.join();
}
