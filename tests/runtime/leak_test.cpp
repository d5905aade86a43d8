// The classic goroutine-leak patterns, each with its fixed twin. A leaky one must show in the
// debug=2 dump with the right wait reason and creation site; a provable one must show in the
// goroutineleak view; no fixed twin may show there (no false positives).
#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <chrono>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "leakwatch/chan.hpp"
#include "leakwatch/runtime.hpp"
#include "leakwatch/select.hpp"
#include "leakwatch/sync.hpp"
#include "leakwatch/task_info.hpp"
#include "runtime/dump_signal.hpp"
#include "tests/runtime/runtime_test_util.hpp"

using namespace std::chrono_literals;

namespace {

std::string dump(int debug, bool leaks_only) {
  std::ostringstream os;
  if (leaks_only) lw::write_task_leak_dump(os, debug); else lw::write_task_dump(os, debug);
  return os.str();
}

// block_of() is the debug=2 record of goroutine `id` ("" when absent).
std::string block_of(const std::string& text, lw::TaskId id) {
  std::string head = "goroutine " + std::to_string(static_cast<std::uint64_t>(id)) + " [";
  std::size_t at = text.find(head);
  if (at == std::string::npos) return "";
  std::size_t end = text.find("\n\n", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// leaked_ids() are the goroutine ids listed in the goroutineleak debug=2 view.
std::vector<std::uint64_t> leaked_ids() {
  std::string text = dump(2, true);
  std::vector<std::uint64_t> ids;
  std::regex re(R"(^goroutine (\d+) \[)", std::regex::multiline);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    ids.push_back(std::stoull((*it)[1]));
  return ids;
}

// settle() waits until every task except the caller is parked (the pattern has played out).
void settle() {
  lwtest::wait_until([] {
    for (const auto& t : lw::tasks())
      if (t.id != lw::current_task() && t.state != lw::TaskState::kWaiting) return false;
    return true;
  });
}

bool is_leaked(lw::TaskId id) {
  auto t = lwtest::find_task(id);
  return t && t->leaked;
}

// expect_leak() checks one leaked task in both views.
void expect_leak(lw::TaskId id, const std::string& reason, const std::string& creator, bool provable) {
  if (provable) lwtest::wait_until([&] { return is_leaked(id); });
  settle();
  std::string all = dump(2, false);
  std::string block = block_of(all, id);
  INFO(all);
  REQUIRE_FALSE(block.empty());
  CHECK(block.find("[" + reason) != std::string::npos);
  CHECK(block.find("created by " + creator) != std::string::npos);
  CHECK(block.find(" in goroutine 1\n") != std::string::npos);
  auto ids = leaked_ids();
  bool listed = std::find(ids.begin(), ids.end(), static_cast<std::uint64_t>(id)) != ids.end();
  CHECK(listed == provable);
  if (provable) {
    CHECK(block.find("(leaked)") != std::string::npos);
    CHECK(block.find("# leaked: ") != std::string::npos);
    std::string d1 = dump(1, true);
    CHECK(d1.rfind("goroutineleak profile: total ", 0) == 0);
  }
}

void expect_no_leaks() {
  settle();
  INFO(dump(2, false));
  CHECK(leaked_ids().empty());
  CHECK(dump(1, true).rfind("goroutineleak profile: total 0\n", 0) == 0);
}

int compute() { return 42; }

// --- 1. Premature return / forgotten sender.
__attribute__((noinline)) lw::TaskId forgotten_sender(bool fixed) {
  lw::Chan<int> ch(fixed ? 1 : 0);
  lw::TaskId id = lw::go([ch] { ch.send(compute()); });
  return id;  // the caller never receives
}

// --- 2. Timeout leak: the caller gives up, the worker's send has no receiver.
__attribute__((noinline)) lw::TaskId timeout_leak(bool fixed) {
  lw::Chan<int> ch(fixed ? 1 : 0);
  lw::TaskId id = lw::go([ch] {
    lw::sleep_for(1ms);
    ch.send(compute());
  });
  lw::select(lw::recv_case(ch, [](std::optional<int>) {}), lw::timeout_case(10us));
  return id;
}

// --- 3. N senders, one receiver that takes the first answer.
__attribute__((noinline)) std::vector<lw::TaskId> first_answer(bool fixed) {
  constexpr int kN = 4;
  lw::Chan<int> ch(fixed ? kN : 0);
  std::vector<lw::TaskId> ids;
  for (int i = 0; i < kN; ++i) ids.push_back(lw::go([ch, i] { ch.send(i); }));
  ch.recv();
  return ids;
}

// --- 4. Double send: the worker sends its error and then its result.
__attribute__((noinline)) lw::TaskId double_send(bool fixed) {
  lw::Chan<int> ch(0);
  lw::TaskId id = lw::go([ch, fixed] {
    ch.send(-1);  // error
    if (!fixed) ch.send(compute());  // missing return after the error
  });
  ch.recv();
  return id;
}

// --- 5. Range without close.
__attribute__((noinline)) lw::TaskId range_without_close(bool fixed) {
  lw::Chan<int> ch(0);
  lw::TaskId id = lw::go([ch] {
    long sum = 0;
    for (int v : ch) sum += v;
    (void)sum;
  });
  for (int i = 0; i < 3; ++i) ch.send(i);
  if (fixed) ch.close();
  return id;
}

// --- 6. A worker started and never stopped.
__attribute__((noinline)) lw::TaskId never_stopped(bool fixed) {
  lw::Chan<int> jobs(0), quit(0);
  lw::TaskId id = lw::go([jobs, quit] {
    for (bool run = true; run;)
      lw::select(lw::recv_case(jobs, [](std::optional<int>) {}),
                 lw::recv_case(quit, [&](std::optional<int>) { run = false; }));
  });
  jobs.send(1);
  if (fixed) quit.close();
  return id;
}

// --- 7. Missing unlock: the holder returns without unlocking.
__attribute__((noinline)) lw::TaskId missing_unlock(lw::Mutex& mu, bool fixed) {
  lw::Chan<int> locked(0);
  lw::go([&mu, locked, fixed] {
    mu.lock();
    locked.send(1);
    if (fixed) mu.unlock();
  });
  locked.recv();
  return lw::go([&mu] {
    std::lock_guard<lw::Mutex> g(mu);
  });
}

// --- 8. WaitGroup misuse: add(2) for one worker. Not provable (anyone may call done()).
__attribute__((noinline)) lw::TaskId waitgroup_misuse(lw::WaitGroup& wg, bool fixed) {
  wg.add(fixed ? 1 : 2);
  lw::go([&wg] { wg.done(); });
  return lw::go([&wg] { wg.wait(); });
}

// --- 9. Lock-order deadlock: each task holds one mutex and waits for the next one's. The fixed
// twin takes them in one order.
__attribute__((noinline)) std::vector<lw::TaskId> lock_order_cycle(lw::Mutex* mu, int n, bool fixed) {
  lw::Chan<int> held(n), go_on(0);
  std::vector<lw::TaskId> ids;
  for (int i = 0; i < n; ++i) {
    lw::Mutex* first = &mu[i];
    lw::Mutex* second = &mu[(i + 1) % n];
    if (fixed && second < first) std::swap(first, second);
    ids.push_back(lw::go([first, second, held, go_on, fixed] {
      first->lock();
      if (!fixed) {
        held.send(1);
        go_on.recv();  // closed once every task holds its first mutex
      }
      second->lock();
      second->unlock();
      first->unlock();
    }));
  }
  if (!fixed) {
    for (int i = 0; i < n; ++i) held.recv();
    go_on.close();
  }
  return ids;
}

}  // namespace

TEST_CASE("leak: lock-order deadlock among tasks (two and three), each member leaked and naming the next") {
  static lw::Mutex two[2], three[3];  // static: leaked waiters are unwound at shutdown
  lw::run([] {
    for (auto [mu, n] : {std::pair{two, 2}, std::pair{three, 3}}) {
      std::vector<lw::TaskId> ids = lock_order_cycle(mu, n, false);
      for (lw::TaskId id : ids) {
        expect_leak(id, "sync.Mutex.Lock", "(anonymous namespace)::lock_order_cycle", true);
        auto t = lwtest::find_task(id);
        REQUIRE(t);
        CHECK(t->leak_reason.rfind("deadlock: ", 0) == 0);
        // Each member names another member as the holder it waits for.
        bool names_member = false;
        for (lw::TaskId other : ids)
          if (other != id && t->leak_reason.find("task " + std::to_string(static_cast<std::uint64_t>(other))) != std::string::npos)
            names_member = true;
        CHECK_MESSAGE(names_member, t->leak_reason);
      }
    }
  });
  lw::run([] {
    static lw::Mutex mu[3];
    lock_order_cycle(mu, 3, true);
    expect_no_leaks();
  });
}

TEST_CASE("no false positives: mutex hand-overs and waits on a busy owner while the registry is read") {
  lw::run([] {
    static lw::Mutex a, b;
    lw::Chan<int> done(8);
    // Eight tasks take a then b a thousand times each, while dumps run the cycle walk over them.
    for (int k = 0; k < 8; ++k)
      lw::go([done] {
        for (int i = 0; i < 1000; ++i) {
          std::lock_guard<lw::Mutex> ga(a);
          std::lock_guard<lw::Mutex> gb(b);
          if (i % 64 == 0) lw::yield();
        }
        done.send(1);
      });
    // A waiter on a mutex whose owner sleeps (it is not waiting on a mutex): no cycle.
    static lw::Mutex c;
    lw::Chan<int> c_held(1);
    lw::go([c_held] {
      std::lock_guard<lw::Mutex> g(c);
      c_held.send(1);
      lw::sleep_for(200ms);
    });
    c_held.recv();
    lw::go([] { std::lock_guard<lw::Mutex> g(c); });
    for (int i = 0; i < 200; ++i) {
      for (const auto& t : lw::tasks()) REQUIRE_MESSAGE(!t.leaked, t.leak_reason);
    }
    for (int k = 0; k < 8; ++k) done.recv();
    expect_no_leaks();
  });
}

TEST_CASE("leak: forgotten sender") {
  lw::run([] { expect_leak(forgotten_sender(false), "chan send", "(anonymous namespace)::forgotten_sender", true); });
  lw::run([] { forgotten_sender(true); expect_no_leaks(); });
}

TEST_CASE("leak: timeout leak") {
  lw::run([] { expect_leak(timeout_leak(false), "chan send", "(anonymous namespace)::timeout_leak", true); });
  lw::run([] { timeout_leak(true); lw::sleep_for(3ms); expect_no_leaks(); });
}

TEST_CASE("leak: N senders, one receiver") {
  lw::run([] {
    auto ids = first_answer(false);
    settle();
    int leaked = 0;
    for (auto id : ids) {
      lwtest::wait_until([&] { return !lwtest::find_task(id) || is_leaked(id); });
      if (lwtest::find_task(id)) {
        expect_leak(id, "chan send", "(anonymous namespace)::first_answer", true);
        ++leaked;
      }
    }
    CHECK(leaked == 3);
  });
  lw::run([] { first_answer(true); expect_no_leaks(); });
}

TEST_CASE("leak: double send") {
  lw::run([] { expect_leak(double_send(false), "chan send", "(anonymous namespace)::double_send", true); });
  lw::run([] { double_send(true); expect_no_leaks(); });
}

TEST_CASE("leak: range without close") {
  lw::run([] { expect_leak(range_without_close(false), "chan receive", "(anonymous namespace)::range_without_close", true); });
  lw::run([] { range_without_close(true); expect_no_leaks(); });
}

TEST_CASE("leak: worker never stopped") {
  lw::run([] { expect_leak(never_stopped(false), "select", "(anonymous namespace)::never_stopped", true); });
  lw::run([] { never_stopped(true); expect_no_leaks(); });
}

TEST_CASE("leak: missing unlock") {
  lw::run([] {
    // Static: the leaked waiter is unwound at shutdown, after main's frame is gone, and its
    // cancellation path still touches the mutex.
    static lw::Mutex mu;
    expect_leak(missing_unlock(mu, false), "sync.Mutex.Lock", "(anonymous namespace)::missing_unlock", true);
  });
  lw::run([] {
    lw::Mutex mu;
    missing_unlock(mu, true);
    expect_no_leaks();
  });
}

TEST_CASE("leak: WaitGroup misuse shows in the dump but is not provable") {
  lw::run([] {
    lw::WaitGroup wg;
    expect_leak(waitgroup_misuse(wg, false), "sync.WaitGroup.Wait", "(anonymous namespace)::waitgroup_misuse", false);
    wg.done();  // let it go before wg dies
  });
  lw::run([] {
    lw::WaitGroup wg;
    waitgroup_misuse(wg, true);
    expect_no_leaks();
  });
}

TEST_CASE("leak counter is monotonic and counts each leaked task once") {
  std::uint64_t before = lw::leaked_task_count();
  lw::run([] {
    auto id = forgotten_sender(false);
    lwtest::wait_until([&] { return is_leaked(id); });
    settle();
  });
  CHECK(lw::leaked_task_count() == before + 1);
}

TEST_CASE("no false positives: handles reachable from outside the blocked set") {
  // A handle in the heap (a global holder) can be used by anyone.
  static std::unique_ptr<lw::Chan<int>> global;
  lw::run([] {
    lw::Chan<int> ch(0);
    global = std::make_unique<lw::Chan<int>>(ch);
    lw::go([ch] { ch.send(1); });
    expect_no_leaks();
    global->recv();
  });
  global.reset();
  // The peer holding the other handle is sleeping (runnable later), not blocked forever.
  lw::run([] {
    lw::Chan<int> ch(0);
    lw::go([ch] { ch.send(1); });
    lw::go([ch] {
      lw::sleep_for(20ms);
      ch.recv();
    });
    expect_no_leaks();
  });
  // A select with a timeout is not blocked forever.
  lw::run([] {
    lw::Chan<int> ch(0);
    lw::go([ch] {
      for (;;) {
        if (lw::select(lw::recv_case(ch, [](std::optional<int>) {}), lw::timeout_case(50ms)) == 0) return;
      }
    });
    expect_no_leaks();
    ch.send(1);
  });
  // Two tasks that each hold the other's channel while one of them is runnable.
  lw::run([] {
    lw::Chan<int> a(0), b(0);
    lw::go([a, b] {
      a.recv();
      b.send(1);
    });
    lw::go([a] { a.send(1); });
    expect_no_leaks();  // the second task waits on b, which main (running) still holds
    b.recv();
  });
}

TEST_CASE("leak: two tasks blocked on each other's channels are both leaked") {
  lw::run([] {
    lw::TaskId x, y;
    {
      lw::Chan<int> a(0), b(0);
      x = lw::go([a, b] {
        a.recv();
        b.send(1);
      });
      y = lw::go([a, b] {
        b.recv();
        a.send(1);
      });
    }
    lwtest::wait_until([&] { return is_leaked(x) && is_leaked(y); });
    CHECK(is_leaked(x));
    CHECK(is_leaked(y));
  });
}

TEST_CASE("by-reference use of another task's handle is reported and disables the proof") {
  lw::run([] {
    lw::Chan<int> ch(0);
    lw::WaitGroup wg;
    wg.add(1);
    lw::TaskId id = lw::go([&ch, &wg] {  // by reference: the handle lives on task 1's stack
      wg.done();
      ch.recv();
    });
    wg.wait();
    settle();
    CHECK_FALSE(is_leaked(id));
    CHECK(leaked_ids().empty());
    ch.send(1);
  });
}

TEST_CASE("nil channel operations and empty selects are leaked at once") {
  lw::run([] {
    lw::TaskId a = lw::go([] { lw::Chan<int>().recv(); });
    lw::TaskId b = lw::go([] { lw::select(); });
    lwtest::wait_until([&] { return is_leaked(a) && is_leaked(b); });
    settle();
    std::string all = dump(2, false);
    CHECK(block_of(all, a).find("[chan receive (nil chan) (leaked)") != std::string::npos);
    CHECK(block_of(all, b).find("[select (no cases) (leaked)") != std::string::npos);
  });
}

namespace {
// The dump signal's settings are read once, at the first run(): set them before any test runs.
std::string dump_file_path() { return "/tmp/lw_runtime_test_dump_" + std::to_string(getpid()) + ".txt"; }
const bool kDumpEnv = [] {
  setenv("LEAKWATCH_DUMP_FILE", dump_file_path().c_str(), 1);
  return true;
}();
}  // namespace

TEST_CASE("SIGUSR1 writes the full dump to LEAKWATCH_DUMP_FILE without stopping the program") {
  REQUIRE(kDumpEnv);
  std::remove(dump_file_path().c_str());
  lw::run([] {
    lw::Chan<int> ch(0);
    lw::TaskId id = lw::go([ch] { ch.recv(); });
    REQUIRE(lwtest::wait_for_state(id, lw::TaskState::kWaiting));
    unsigned long before = lw::rt::dump_requests();
    REQUIRE(raise(SIGUSR1) == 0);
    lwtest::wait_until([&] { return lw::rt::dump_requests() > before; });
    std::ifstream in(dump_file_path());
    std::stringstream text;
    text << in.rdbuf();
    std::string block = block_of(text.str(), id);
    CHECK(block.find("[chan receive") != std::string::npos);
    CHECK(text.str().find("goroutine 1 [") != std::string::npos);
    ch.send(1);  // the program kept running
  });
  std::remove(dump_file_path().c_str());
}
