// The malloc/new interposer, linked into this test (the heap module's archive keeps its hooks).
// Only built into the test where the interposer is (not under ASan/TSan).
#include <doctest/doctest.h>

#if LW_HEAP_INTERPOSE

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "leakwatch/heap.hpp"
#include "src/heap/mi_blocks.hpp"
#include "tests/heap/heap_test_util.hpp"

namespace lw_test {

std::vector<char*>* g_retained = nullptr;
char* volatile g_sink = nullptr;

[[gnu::noinline]] void interpose_retain_blocks(int n, std::size_t size) {
  for (int i = 0; i < n; ++i) g_retained->push_back(new char[size]);
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void interpose_malloc_blocks(std::vector<void*>* out, int n, std::size_t size) {
  for (int i = 0; i < n; ++i) out->push_back(std::malloc(size));
  asm volatile("" ::: "memory");
}

// std::string's buffer comes from libstdc++'s out-of-line _M_create, built without frame pointers:
// this function must still be in the stack.
[[gnu::noinline]] std::string* interpose_string_site(std::size_t len) {
  auto* s = new std::string(len, 'x');
  s->append(len, 'y');  // grows through libstdc++'s _M_mutate -> _M_create -> operator new
  asm volatile("" ::: "memory");
  return s;
}

// strdup allocates inside libc.
[[gnu::noinline]] char* interpose_strdup_site() {
  char* p = strdup("leakwatch strdup test string, long enough");
  asm volatile("" ::: "memory");
  return p;
}

}  // namespace lw_test

using namespace lw_test;

TEST_CASE("N retained blocks of S bytes show exactly N and N*S at the function, at rate 1") {
  lw::set_heap_sample_rate(1);
  std::vector<char*> retained;
  retained.reserve(1000);
  g_retained = &retained;
  lw::MemStats before = lw::read_mem_stats();
  interpose_retain_blocks(100, 4096);
  lw::MemStats after = lw::read_mem_stats();
  SiteSum s = sum_sites_through("interpose_retain_blocks");
  CHECK(s.sites == 1);
  CHECK(s.innermost_match == 1);
  CHECK(s.inuse_objects == 100);
  CHECK(s.inuse_bytes == 100 * 4096);
  CHECK(after.heap_alloc - before.heap_alloc == 100 * 4096);
  CHECK(after.mallocs - before.mallocs == 100);
  CHECK(after.mallocs - after.frees == after.heap_objects);
  for (char* p : retained) delete[] p;
  s = sum_sites_through("interpose_retain_blocks");
  CHECK(s.inuse_objects == 0);
  CHECK(s.alloc_objects == 100);
  lw::MemStats freed = lw::read_mem_stats();
  CHECK(freed.frees - after.frees >= 100);  // the symbolizer above allocates and frees too
  lw::set_heap_sample_rate(524288);
}

TEST_CASE("malloc'd blocks are attributed to the caller of malloc") {
  lw::set_heap_sample_rate(1);
  std::vector<void*> blocks;
  blocks.reserve(64);
  interpose_malloc_blocks(&blocks, 50, 1024);
  SiteSum s = sum_sites_through("interpose_malloc_blocks");
  CHECK(s.innermost_match == 1);
  CHECK(s.inuse_bytes == 50 * 1024);
  for (void* p : blocks) std::free(p);
  CHECK(sum_sites_through("interpose_malloc_blocks").inuse_bytes == 0);
  lw::set_heap_sample_rate(524288);
}

TEST_CASE("allocations made inside libstdc++ and libc keep the user's function in the stack") {
  lw::set_heap_sample_rate(1);
  std::string* s = interpose_string_site(2000);
  char* d = interpose_strdup_site();
  SiteSum str = sum_sites_through("interpose_string_site");
  SiteSum dup = sum_sites_through("interpose_strdup_site");
  CHECK(str.sites >= 1);
  CHECK(str.inuse_bytes >= 4000);
  CHECK(dup.sites == 1);
  CHECK(dup.inuse_objects == 1);
  delete s;
  std::free(d);
  lw::set_heap_sample_rate(524288);
}

TEST_CASE("MemStats count exactly the usable size of every block, small to large") {
  std::vector<std::size_t> sizes;
  for (std::size_t n = 1; n < (std::size_t{1} << 21); n += (n < 4096 ? 1 : n / 5 + 1)) sizes.push_back(n);
  int wrong = 0;
  for (std::size_t n : sizes) {
    lw::MemStats before = lw::read_mem_stats();
    void* p = std::malloc(n);
    lw::MemStats after = lw::read_mem_stats();
    if (after.heap_alloc - before.heap_alloc != malloc_usable_size(p)) ++wrong;
    char* q = new char[n];
    lw::MemStats after_new = lw::read_mem_stats();
    if (after_new.heap_alloc - after.heap_alloc != malloc_usable_size(q)) ++wrong;
    delete[] q;
    std::free(p);
    if (lw::read_mem_stats().heap_alloc != before.heap_alloc) ++wrong;
  }
  CHECK(wrong == 0);
}

TEST_CASE("MemStats stay exact when aligned and plain blocks share pages") {
  // Plain blocks are counted without looking at the page's "has aligned blocks" flag, aligned
  // ones with it: both must agree with malloc_usable_size and cancel exactly at free.
  int wrong = 0;
  for (std::size_t n : {16u, 48u, 100u, 1000u, 5000u, 70000u}) {
    std::vector<void*> blocks;
    blocks.reserve(32);  // no allocation of ours between the two reads
    lw::MemStats before = lw::read_mem_stats();
    std::size_t usable = 0;
    for (int i = 0; i < 8; ++i) {
      void* a = nullptr;
      REQUIRE(posix_memalign(&a, 4096, n) == 0);  // alignment above the size: an inner pointer
      void* b = std::malloc(n);
      void* c = std::calloc(1, n);
      void* d = memalign(1024, n);
      for (void* p : {a, b, c, d}) {
        blocks.push_back(p);
        usable += malloc_usable_size(p);
      }
    }
    if (lw::read_mem_stats().heap_alloc - before.heap_alloc != usable) ++wrong;
    for (void* p : blocks) std::free(p);
    if (lw::read_mem_stats().heap_alloc != before.heap_alloc) ++wrong;
  }
  CHECK(wrong == 0);
}

TEST_CASE("edge cases of the malloc family") {
  std::free(nullptr);
  void* p = std::malloc(100);
  REQUIRE(p != nullptr);
  CHECK(malloc_usable_size(p) >= 100);
  CHECK(std::realloc(p, 0) == nullptr);
  p = std::realloc(nullptr, 50);
  REQUIRE(p != nullptr);
  std::memset(p, 7, 50);
  p = std::realloc(p, 5000);
  REQUIRE(p != nullptr);
  CHECK(static_cast<unsigned char*>(p)[49] == 7);
  std::free(p);
  errno = 0;
  volatile std::size_t half = SIZE_MAX / 2;
  CHECK(reallocarray(nullptr, half, 4) == nullptr);
  CHECK(errno == ENOMEM);
  void* a = nullptr;
  CHECK(posix_memalign(&a, 256, 1000) == 0);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 256 == 0);
  std::free(a);
  a = aligned_alloc(4096, 4096);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 4096 == 0);
  std::free(a);
  a = memalign(64, 10);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
  std::free(a);
  a = valloc(10);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 4096 == 0);
  std::free(a);
  a = pvalloc(10);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 4096 == 0);
  std::free(a);
  auto* c = static_cast<unsigned char*>(std::calloc(1000, 8));
  bool zero = true;
  for (int i = 0; i < 8000; ++i) zero = zero && c[i] == 0;
  CHECK(zero);
  std::free(c);
  struct alignas(128) Big {
    char x[200];
  };
  auto* b = new Big;
  CHECK(reinterpret_cast<std::uintptr_t>(b) % 128 == 0);
  delete b;
  auto* nb = new (std::nothrow) int[10];
  CHECK(nb != nullptr);
  delete[] nb;
  bool threw = false;
  try {
    volatile std::size_t huge = SIZE_MAX / 2;
    char* x = new char[huge];
    g_sink = x;  // keeps the compiler from eliding the new/delete pair
    delete[] x;
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw);
}

TEST_CASE("a foreign pointer (not from mimalloc) is neither freed nor fatal") {
  // A fake glibc chunk: size field 48 with PREV_INUSE, then 40 usable bytes.
  alignas(16) static std::size_t chunk[8] = {0, 48 | 1, 0, 0, 0, 0, 0, 0};
  void* volatile launder = &chunk[2];  // hides the non-heap origin from the compiler
  void* foreign = launder;
  std::memcpy(foreign, "abcdefgh", 8);
  CHECK(malloc_usable_size(foreign) == 40);
  std::free(foreign);  // ignored
  void* again = launder;
  void* moved = std::realloc(again, 16);
  REQUIRE(moved != nullptr);
  CHECK(std::memcmp(moved, "abcdefgh", 8) == 0);
  std::free(moved);
}

TEST_CASE("blocks come from the reserved arena: the fast range holds them") {
  lw::heap::FastBlocksInfo info = lw::heap::fast_blocks_info();
  REQUIRE(info.inline_size);
  REQUIRE(info.size >= (std::uintptr_t{4} << 30));
  auto inside = [&](const void* p) {
    return reinterpret_cast<std::uintptr_t>(p) - info.lo < info.size;
  };
  // The main thread's blocks (its first segment was made after the reservation) and a new
  // thread's, small to large; a foreign pointer is outside.
  std::vector<void*> blocks;
  for (std::size_t size : {8u, 100u, 5000u, 70000u, 600000u, 5u << 20}) blocks.push_back(std::malloc(size));
  std::thread([&] { blocks.push_back(std::malloc(64)); }).join();
  blocks.push_back(new std::string(300, 'a'));
  for (void* p : blocks) CHECK(inside(p));
  static char not_heap[64];
  CHECK_FALSE(inside(not_heap));
  // The reservation is address space, not memory: the process's resident size stays small.
  CHECK(lw::read_mem_stats().rss < (std::uint64_t{1} << 30));
  delete static_cast<std::string*>(blocks.back());
  blocks.pop_back();
  for (void* p : blocks) std::free(p);
}

TEST_CASE("counts of threads that exit are kept") {
  lw::MemStats before = lw::read_mem_stats();
  std::vector<void*> leaked(20);
  std::thread t([&] {
    for (auto& p : leaked) p = std::malloc(512);
  });
  t.join();
  lw::MemStats after = lw::read_mem_stats();
  CHECK(after.mallocs - before.mallocs >= 20);
  CHECK(after.heap_alloc >= before.heap_alloc + 20 * 512 - 4096);  // other frees may interleave
  for (void* p : leaked) std::free(p);
  // Many short threads: slots are reused, nothing is lost.
  lw::MemStats b2 = lw::read_mem_stats();
  for (int i = 0; i < 200; ++i) std::thread([] { std::free(std::malloc(64)); }).join();
  lw::MemStats a2 = lw::read_mem_stats();
  CHECK(a2.mallocs - b2.mallocs >= 200);
  CHECK(a2.frees - b2.frees >= 200);
  CHECK(a2.mallocs - a2.frees == a2.heap_objects);
}

TEST_CASE("a fork child keeps allocating and sampling") {
  lw::set_heap_sample_rate(1);
  // Another thread allocates while we fork, so locks may be held at the fork.
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop.load()) std::free(std::malloc(100));
  });
  for (int round = 0; round < 10; ++round) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::vector<void*> v;
      for (int i = 0; i < 1000; ++i) v.push_back(std::malloc(static_cast<std::size_t>(16 + i)));
      for (void* p : v) std::free(p);
      std::string* s = new std::string(500, 'c');
      delete s;
      _exit(lw::read_mem_stats().mallocs > 1000 ? 0 : 3);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  stop = true;
  busy.join();
  lw::set_heap_sample_rate(524288);
}

namespace {
std::atomic<int> g_handled{0};
void allocating_handler(int) {
  void* p = std::malloc(256);
  std::free(p);
  delete new int(3);
  g_handled.fetch_add(1);
}
}  // namespace

TEST_CASE("signal handlers that allocate, interrupting allocation") {
  lw::set_heap_sample_rate(1);
  struct sigaction sa {};
  sa.sa_handler = allocating_handler;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGUSR1, &sa, nullptr) == 0);
  std::atomic<bool> stop{false};
  pthread_t self = pthread_self();
  std::thread signaller([&] {
    while (!stop.load()) {
      pthread_kill(self, SIGUSR1);
      std::this_thread::yield();
    }
  });
  std::vector<void*> v;
  v.reserve(64);
  while (g_handled.load() < 2000) {
    for (int i = 0; i < 64; ++i) v.push_back(std::malloc(static_cast<std::size_t>(8 + i * 8)));
    for (void* p : v) std::free(p);
    v.clear();
  }
  stop = true;
  signaller.join();
  signal(SIGUSR1, SIG_DFL);
  CHECK(g_handled.load() >= 2000);
  lw::set_heap_sample_rate(524288);
}

#endif  // LW_HEAP_INTERPOSE
