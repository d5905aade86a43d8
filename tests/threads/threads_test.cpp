// The thread registry in this process: real std::threads and pthreads blocked on real primitives,
// read back through lw::threads() and symbolized with the project's symbolizer.
#include <doctest/doctest.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "leakwatch/thread_info.hpp"
#include "src/base/clock.hpp"
#include "src/threads/stack_signal.hpp"
#include "src/threads/thread_list.hpp"
#include "src/unwind/symbolizer.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;

// ThreadSanitizer defers signal handlers, so that build takes no other thread's stack; and it does
// not support starting threads in the child of a multi-threaded fork.
#if defined(__SANITIZE_THREAD__)
constexpr bool kUnderTsan = true;
#else
constexpr bool kUnderTsan = false;
#endif
constexpr bool kSignalStacks = !kUnderTsan;
// Under AddressSanitizer (GCC 12's) a child forked while another thread is inside ASan's allocator
// can hang in its first malloc: that allocator's locks are not reset at fork, and a plain ASan
// program with no leakwatch in it does the same (docs/threads.md). The fork-during-capture test,
// whose capturing thread allocates all the time, runs in the other builds.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderAsan = true;
#else
constexpr bool kUnderAsan = false;
#endif

std::optional<lw::ThreadInfo> find_thread(std::int64_t tid, bool stacks = true) {
  for (auto& t : lw::threads(stacks))
    if (t.tid == tid) return t;
  return std::nullopt;
}

// wait_for() polls until thread `tid` is in `state` (bounded, 5 s).
std::optional<lw::ThreadInfo> wait_for(std::int64_t tid, lw::ThreadState state, bool stacks = true) {
  for (int i = 0; i < 500; ++i) {
    auto t = find_thread(tid, stacks);
    if (t && t->state == state) return t;
    std::this_thread::sleep_for(10ms);
  }
  return find_thread(tid, stacks);
}

std::vector<std::string> names(const std::vector<std::uintptr_t>& pcs) {
  std::vector<std::string> out;
  for (std::uintptr_t pc : pcs)
    out.push_back(lw::unwind::process_symbolizer().lookup(lw::unwind::call_site(pc)).function);
  return out;
}

bool has_frame(const std::vector<std::uintptr_t>& pcs, const std::string& function) {
  for (const std::string& n : names(pcs))
    if (n.find(function) != std::string::npos) return true;
  return false;
}

std::string frames_text(const std::vector<std::uintptr_t>& pcs) {
  std::string s;
  for (const std::string& n : names(pcs)) s += "  " + n + "\n";
  return s;
}

// Each test's threads report their tid here before blocking.
struct TidBox {
  std::atomic<std::int64_t> tid{0};
  void set() { tid.store(gettid()); }
  std::int64_t get() {
    while (tid.load() == 0) std::this_thread::sleep_for(1ms);
    return tid.load();
  }
};

std::mutex cv_mu;
std::condition_variable cv;
bool cv_go = false;

[[gnu::noinline]] void waits_on_condition(TidBox* box) {
  box->set();
  std::unique_lock<std::mutex> lock(cv_mu);
  cv.wait(lock, [] { return cv_go; });
}

// Not a tail call, so the creation stack keeps this frame.
[[gnu::noinline]] std::thread start_condition_waiter(TidBox* box) {
  std::thread t(waits_on_condition, box);
  asm volatile("" ::: "memory");
  return t;
}

}  // namespace

TEST_CASE("a thread in a condition wait: exact wait start, creator, creation site and current stack") {
  TidBox box;
  const std::int64_t before = lw::base::wall_now_ns();
  std::thread t = start_condition_waiter(&box);
  auto info = wait_for(box.get(), lw::ThreadState::kWaiting);
  REQUIRE(info);
  CHECK(info->wait_reason == "condition wait");
  CHECK(info->wait_object == reinterpret_cast<std::uintptr_t>(cv.native_handle()));
  CHECK(info->wait_since_unix_ns >= before);
  CHECK(info->wait_since_unix_ns <= lw::base::wall_now_ns());
  CHECK_FALSE(info->timed_wait);
  CHECK(info->creator_tid == gettid());
  CHECK(info->join == lw::ThreadJoin::kJoinable);
  CHECK(info->start_time_unix_ns >= before);
  INFO("stack:\n" << frames_text(info->stack) << "stack error: " << info->stack_error << "\ncreated at:\n"
                   << frames_text(info->create_stack));
  if (kSignalStacks) {
    CHECK(info->stack_error.empty());
    CHECK(has_frame(info->stack, "waits_on_condition"));
  }
  CHECK(has_frame(info->create_stack, "start_condition_waiter"));
  CHECK_FALSE(info->leaked);
  {
    std::lock_guard<std::mutex> lock(cv_mu);
    cv_go = true;
  }
  cv.notify_all();
  t.join();
  CHECK_FALSE(find_thread(box.tid.load(), false));  // joined: gone
}

TEST_CASE("the thread's own walk in its handler and the capturer's walk of its context agree" *
          doctest::skip(!kSignalStacks)) {
  {
    std::lock_guard<std::mutex> lock(cv_mu);
    cv_go = false;
  }
  TidBox box;
  std::thread t = start_condition_waiter(&box);
  REQUIRE(wait_for(box.get(), lw::ThreadState::kWaiting));
  const int tid = static_cast<int>(box.get());
  auto walk = [&](bool in_handler) {
    lw::os_threads::use_handler_unwind(in_handler);
    lw::os_threads::StackResult r;
    lw::os_threads::capture_thread_stacks(&tid, 1, &r);
    REQUIRE_MESSAGE(r.ok, r.why);
    return std::vector<std::uintptr_t>(r.trace.pc, r.trace.pc + r.trace.depth);
  };
  const std::vector<std::uintptr_t> own = walk(true);
  const std::vector<std::uintptr_t> theirs = walk(false);
  lw::os_threads::use_handler_unwind(true);
  INFO("handler:\n" << frames_text(own) << "capturer:\n" << frames_text(theirs));
  CHECK(has_frame(own, "waits_on_condition"));
  CHECK(own.size() >= 4);
  // The two can differ only in the innermost frame (the thread may sit at the futex call or just
  // past it); every caller is the same.
  REQUIRE(own.size() == theirs.size());
  CHECK(std::equal(own.begin() + 1, own.end(), theirs.begin() + 1));
  {
    std::lock_guard<std::mutex> lock(cv_mu);
    cv_go = true;
  }
  cv.notify_all();
  t.join();
  cv_go = false;
}

TEST_CASE("a contended mutex: the wait names its owner; an uncontended lock publishes nothing") {
  static std::mutex m;
  m.lock();
  TidBox box;
  std::thread t([&] {
    box.set();
    std::lock_guard<std::mutex> g(m);
  });
  auto info = wait_for(box.get(), lw::ThreadState::kWaiting, false);
  REQUIRE(info);
  CHECK(info->wait_reason == "mutex lock");
  CHECK(info->wait_detail == "held by thread " + std::to_string(gettid()));
  CHECK_FALSE(info->leaked);  // the owner runs
  m.unlock();
  t.join();
  auto self = find_thread(gettid(), false);
  REQUIRE(self);
  CHECK(self->state != lw::ThreadState::kWaiting);
}

TEST_CASE("rwlock, semaphore, barrier and join waits carry their words") {
  static std::shared_mutex rw;
  static sem_t sem;
  static pthread_barrier_t barrier;
  sem_init(&sem, 0, 0);
  pthread_barrier_init(&barrier, nullptr, 2);
  rw.lock();
  TidBox reader, writer, sem_box, barrier_box, joiner;
  std::thread r([&] { reader.set(); std::shared_lock<std::shared_mutex> g(rw); });
  std::thread w([&] { writer.set(); std::unique_lock<std::shared_mutex> g(rw); });
  std::thread s([&] { sem_box.set(); sem_wait(&sem); });
  std::thread b([&] { barrier_box.set(); pthread_barrier_wait(&barrier); });
  std::thread j([&] { joiner.set(); s.join(); });
  auto ri = wait_for(reader.get(), lw::ThreadState::kWaiting, false);
  auto wi = wait_for(writer.get(), lw::ThreadState::kWaiting, false);
  auto si = wait_for(sem_box.get(), lw::ThreadState::kWaiting, false);
  auto bi = wait_for(barrier_box.get(), lw::ThreadState::kWaiting, false);
  auto ji = wait_for(joiner.get(), lw::ThreadState::kWaiting, false);
  REQUIRE((ri && wi && si && bi && ji));
  CHECK(ri->wait_reason == "rwlock read");
  CHECK(ri->wait_detail == "held by thread " + std::to_string(gettid()));
  CHECK(wi->wait_reason == "rwlock write");
  CHECK(si->wait_reason == "semaphore wait");
  CHECK(bi->wait_reason == "barrier wait");
  CHECK(ji->wait_reason == "thread join");
  CHECK(ji->wait_detail == "thread " + std::to_string(sem_box.get()));
  rw.unlock();
  sem_post(&sem);
  pthread_barrier_wait(&barrier);
  r.join();
  w.join();
  b.join();
  j.join();
  pthread_barrier_destroy(&barrier);
  sem_destroy(&sem);
}

TEST_CASE("a pipe read is a syscall wait on a named descriptor") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  TidBox box;
  std::thread t([&] {
    box.set();
    char c;
    [[maybe_unused]] ssize_t n = read(fds[0], &c, 1);
  });
  std::optional<lw::ThreadInfo> info;
  for (int i = 0; i < 500; ++i) {
    info = find_thread(box.get(), false);
    if (info && info->wait_reason == "read") break;
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(info);
  CHECK(info->state == lw::ThreadState::kSyscall);
  CHECK(info->wait_reason == "read");
  CHECK(info->wait_detail.rfind("pipe:[", 0) == 0);
  CHECK(info->wait_object == static_cast<std::uint64_t>(fds[0]) + 1);
  REQUIRE(write(fds[1], "x", 1) == 1);
  t.join();
  close(fds[0]);
  close(fds[1]);
}

namespace {

std::mutex dl_a, dl_b;
std::atomic<int> dl_holding{0};

[[gnu::noinline]] void lock_a_then_b(TidBox* box) {
  box->set();
  std::lock_guard<std::mutex> a(dl_a);
  ++dl_holding;
  while (dl_holding.load() < 2) std::this_thread::sleep_for(1ms);
  std::lock_guard<std::mutex> b(dl_b);
}

[[gnu::noinline]] void lock_b_then_a(TidBox* box) {
  box->set();
  std::lock_guard<std::mutex> b(dl_b);
  ++dl_holding;
  while (dl_holding.load() < 2) std::this_thread::sleep_for(1ms);
  std::lock_guard<std::mutex> a(dl_a);
}

pthread_mutex_t orphan = PTHREAD_MUTEX_INITIALIZER;

}  // namespace

TEST_CASE("proofs: a lock-order deadlock, an orphaned mutex and a join on a leaked thread") {
  // These threads stay blocked for the life of the test process: their std::thread objects are
  // never destroyed (destroying a joinable one would end the process), and stay reachable.
  static TidBox a, b, waiter, joiner;
  static std::thread* kept[4];
  std::thread& ta = *(kept[0] = new std::thread(lock_a_then_b, &a));
  kept[1] = new std::thread(lock_b_then_a, &b);
  std::optional<lw::ThreadInfo> ia, ib;
  for (int i = 0; i < 500 && !(ia && ia->leaked && ib && ib->leaked); ++i) {
    std::this_thread::sleep_for(10ms);
    ia = find_thread(a.get(), false);
    ib = find_thread(b.get(), false);
  }
  REQUIRE((ia && ib));
  CHECK(ia->leaked);
  CHECK(ib->leaked);
  INFO(ia->leak_reason);
  CHECK(ia->leak_reason.rfind("deadlock: ", 0) == 0);
  CHECK(ia->leak_reason.find("thread " + std::to_string(a.get())) != std::string::npos);
  CHECK(ia->leak_reason.find("thread " + std::to_string(b.get())) != std::string::npos);

  // A join on a deadlocked thread can never return either.
  kept[2] = new std::thread([&] {
    joiner.set();
    ta.join();
  });
  std::optional<lw::ThreadInfo> ij;
  for (int i = 0; i < 500 && !(ij && ij->leaked); ++i) {
    std::this_thread::sleep_for(10ms);
    ij = find_thread(joiner.get(), false);
  }
  REQUIRE(ij);
  CHECK(ij->wait_reason == "thread join");
  CHECK(ij->leaked);
  CHECK(ij->leak_reason.find("can never wake") != std::string::npos);

  // The owner exits holding the mutex.
  std::thread owner([] { pthread_mutex_lock(&orphan); });
  owner.join();
  kept[3] = new std::thread([] {
    waiter.set();
    pthread_mutex_lock(&orphan);
  });
  std::optional<lw::ThreadInfo> iw;
  for (int i = 0; i < 500 && !(iw && iw->leaked); ++i) {
    std::this_thread::sleep_for(10ms);
    iw = find_thread(waiter.get(), false);
  }
  REQUIRE(iw);
  CHECK(iw->leaked);
  INFO(iw->leak_reason);
  CHECK(iw->leak_reason.find("exited without unlocking") != std::string::npos);
}

TEST_CASE("never proven: a timed wait on a held lock, a trylock loop, a condition nobody signals") {
  static std::timed_mutex held;
  static std::mutex spun;
  static std::mutex quiet_mu;
  static std::condition_variable quiet;
  held.lock();
  spun.lock();
  std::atomic<bool> stop{false};
  TidBox timed, trier, sleeper;
  std::thread t1([&] {
    timed.set();
    while (!stop && !held.try_lock_for(50ms)) {
    }
  });
  std::thread t2([&] {
    trier.set();
    while (!stop && !spun.try_lock()) std::this_thread::sleep_for(1ms);
  });
  std::thread t3([&] {
    sleeper.set();
    std::unique_lock<std::mutex> l(quiet_mu);
    quiet.wait(l, [&] { return stop.load(); });
  });
  timed.get();
  trier.get();
  sleeper.get();
  std::this_thread::sleep_for(100ms);
  for (int round = 0; round < 5; ++round) {
    for (const auto& t : lw::threads(false)) {
      if (t.tid != timed.get() && t.tid != trier.get() && t.tid != sleeper.get()) continue;
      CHECK_FALSE(t.leaked);
      if (t.tid == timed.get() && t.state == lw::ThreadState::kWaiting) CHECK(t.timed_wait);
    }
    std::this_thread::sleep_for(20ms);
  }
  stop = true;
  held.unlock();
  spun.unlock();
  {
    std::lock_guard<std::mutex> g(quiet_mu);
  }
  quiet.notify_all();
  t1.join();
  t2.join();
  t3.join();
}

TEST_CASE("join states: joinable threads that exit unjoined stay listed; joined and detached ones go") {
  std::atomic<std::int64_t> unjoined_tid{0}, detached_tid{0};
  pthread_t unjoined;
  REQUIRE(pthread_create(&unjoined, nullptr, [](void* p) -> void* {
    static_cast<std::atomic<std::int64_t>*>(p)->store(gettid());
    return nullptr;
  }, &unjoined_tid) == 0);
  std::thread detached([&] { detached_tid = gettid(); });
  detached.detach();
  while (unjoined_tid.load() == 0 || detached_tid.load() == 0) std::this_thread::sleep_for(1ms);
  auto u = wait_for(unjoined_tid.load(), lw::ThreadState::kExited, false);
  REQUIRE(u);
  CHECK(u->state == lw::ThreadState::kExited);
  CHECK(u->join == lw::ThreadJoin::kJoinable);
  CHECK(u->exit_time_unix_ns >= u->start_time_unix_ns);
  CHECK(u->creator_tid == gettid());
  std::this_thread::sleep_for(20ms);
  CHECK_FALSE(find_thread(detached_tid.load(), false));
  // Detaching after the exit releases it as well.
  REQUIRE(pthread_detach(unjoined) == 0);
  CHECK_FALSE(find_thread(unjoined_tid.load(), false));
  CHECK(lw::threads_created() >= 2);
}

TEST_CASE("a thread that blocks every signal is listed with its state and why its stack is missing") {
  TidBox box;
  std::atomic<bool> stop{false};
  std::thread t([&] {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    box.set();
    while (!stop) std::this_thread::sleep_for(5ms);
  });
  box.get();
  std::this_thread::sleep_for(20ms);
  const auto start = std::chrono::steady_clock::now();
  auto info = find_thread(box.get());
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  REQUIRE(info);
  CHECK(info->stack.empty());
  if (kSignalStacks) CHECK(info->stack_error.find("blocks signal") != std::string::npos);
  // It sleeps in a loop: caught asleep (nearly always) or between two sleeps.
  CHECK((info->state == lw::ThreadState::kSyscall || info->state == lw::ThreadState::kRunning));
  if (info->state == lw::ThreadState::kSyscall) CHECK(info->wait_reason == "clock_nanosleep");
  stop = true;
  t.join();
}

namespace {

std::atomic<int> in_handler{0};  // lock-free atomics are async-signal-safe
std::atomic<int> leave_handler{0};

[[gnu::noinline]] void sleepy_handler(int) {
  const int saved_errno = errno;
  in_handler = 1;
  while (!leave_handler) {
    timespec ts{0, 1'000'000};
    nanosleep(&ts, nullptr);  // async-signal-safe
  }
  in_handler = 0;
  errno = saved_errno;
}

}  // namespace

TEST_CASE("a thread inside its own signal handler: its stack runs through the handler" *
          doctest::skip(!kSignalStacks)) {
  struct sigaction sa {};
  sa.sa_handler = sleepy_handler;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGUSR2, &sa, nullptr) == 0);
  TidBox box;
  std::atomic<bool> stop{false};
  std::thread t([&] {
    box.set();
    while (!stop) std::this_thread::sleep_for(1ms);
  });
  box.get();
  pthread_kill(t.native_handle(), SIGUSR2);
  while (!in_handler) std::this_thread::sleep_for(1ms);
  auto info = find_thread(box.get());
  REQUIRE(info);
  INFO(frames_text(info->stack) << info->stack_error);
  CHECK(has_frame(info->stack, "sleepy_handler"));
  leave_handler = 1;
  stop = true;
  t.join();
  signal(SIGUSR2, SIG_DFL);
}

TEST_CASE("20 captures racing each other while threads come and go") {
  std::atomic<bool> stop{false};
  std::vector<std::thread> churn;
  for (int i = 0; i < 2; ++i)
    churn.emplace_back([&] {
      while (!stop) std::thread([] { std::this_thread::sleep_for(100us); }).join();
    });
  cv_go = false;
  TidBox box;
  std::thread waiter = start_condition_waiter(&box);
  REQUIRE(wait_for(box.get(), lw::ThreadState::kWaiting, false));
  std::atomic<int> saw{0}, with_stack{0};
  std::mutex errors_mu;
  std::string errors;
  std::vector<std::thread> capturers;
  // A generous answer timeout: 20 capturers and the churn on a loaded machine may keep a signalled
  // thread off the CPU past the default 50 ms (which other tests cover); this one is about races.
  lw::os_threads::ListOptions options;
  options.stacks = true;
  options.stack_timeout_ns = 2'000'000'000;
  for (int i = 0; i < 20; ++i)
    capturers.emplace_back([&] {
      for (const auto& t : lw::os_threads::list_threads(options))
        if (t.tid == box.tid.load()) {
          ++saw;
          if (has_frame(t.stack, "waits_on_condition")) {
            ++with_stack;
          } else {
            std::lock_guard<std::mutex> g(errors_mu);
            errors += t.stack_error + "|" + frames_text(t.stack) + "\n";
          }
        }
    });
  for (auto& c : capturers) c.join();
  stop = true;
  for (auto& c : churn) c.join();
  CHECK(saw.load() == 20);
  INFO(errors);
  if (kSignalStacks) CHECK(with_stack.load() == 20);
  {
    std::lock_guard<std::mutex> lock(cv_mu);
    cv_go = true;
  }
  cv.notify_all();
  waiter.join();
  CHECK(lw::os_threads::stack_signal_counters().longest_stop_ns < lw::os_threads::kHandlerMaxStopNs);
}

TEST_CASE("fork: the child keeps working (threads, captures); exec and posix_spawn run" *
          doctest::skip(kUnderTsan)) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::atomic<bool> ran{false};
    std::thread t([&] { ran = true; });
    t.join();
    auto all = lw::threads();
    bool self = false;
    for (const auto& th : all) self = self || th.tid == gettid();
    _exit(ran && self && all.size() == 1 ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", "exit 7", static_cast<char*>(nullptr));
    _exit(1);
  }
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WEXITSTATUS(status) == 7);

  char arg0[] = "true";
  char* argv[] = {arg0, nullptr};
  REQUIRE(posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) == 0);
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a signalfd program: every thread blocks every signal, and a dump still completes" *
          doctest::skip(kUnderTsan)) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    int sfd = signalfd(-1, &all, SFD_CLOEXEC);
    std::atomic<bool> stop{false};
    std::thread t([&] {
      while (!stop) std::this_thread::sleep_for(1ms);
    });
    std::this_thread::sleep_for(20ms);
    auto all_threads = lw::threads();
    int without_stack = 0;
    for (const auto& th : all_threads)
      if (th.tid != gettid() && th.stack_error.find("blocks signal") != std::string::npos) ++without_stack;
    stop = true;
    t.join();
    close(sfd);
    _exit(without_stack == 1 || !kSignalStacks ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("fork while another thread captures: the child's captures still work" *
          doctest::skip(kUnderTsan || kUnderAsan)) {
  std::atomic<bool> stop{false};
  std::thread capturer([&] {
    while (!stop) lw::threads();
  });
  for (int i = 0; i < 10; ++i) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(lw::threads().size() == 1 ? 0 : 1);
    int status = -1;
    for (int waited = 0; waited < 1000 && waitpid(pid, &status, WNOHANG) == 0; ++waited)
      std::this_thread::sleep_for(10ms);
    if (status == -1) kill(pid, SIGKILL), waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  stop = true;
  capturer.join();
}
