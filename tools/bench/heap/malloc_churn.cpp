// malloc_churn: the heap tracker's benchmark workload. Several threads allocate and free mixed
// sizes (16 B - 4 KiB, skewed small like real services), keep a sliding window of live blocks and
// retain one block in 256 for good (a slow leak). Prints one JSON line with the elapsed time.
// It links no allocator: run it under LD_PRELOAD of each allocator/profiler (run_heap_bench.sh).
//
//   malloc_churn [threads=2] [operations per thread=4000000] [seed=1]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

// Mostly small: 16-128 B half the time, up to 1 KiB most of the rest, up to 4 KiB sometimes.
std::size_t pick_size(Rng& r) {
  std::uint64_t x = r.next();
  switch (x & 7) {
    case 0: case 1: case 2: case 3: return 16 + (x >> 8) % 113;
    case 4: case 5: case 6: return 128 + (x >> 8) % 897;
    default: return 1024 + (x >> 8) % 3073;
  }
}

[[gnu::noinline]] void churn(int id, long ops, std::uint64_t seed, std::vector<void*>* retained) {
  Rng r{seed * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(id) + 1};
  constexpr std::size_t kWindow = 4096;
  std::vector<void*> window(kWindow, nullptr);
  retained->reserve(static_cast<std::size_t>(ops / 256 + 1));
  for (long i = 0; i < ops; ++i) {
    std::size_t slot = r.next() % kWindow;
    std::free(window[slot]);
    std::size_t size = pick_size(r);
    auto* p = static_cast<char*>(std::malloc(size));
    p[0] = static_cast<char>(i);  // touch it, as a real program would
    p[size - 1] = 1;
    if ((i & 255) == 0) {
      retained->push_back(p);
      window[slot] = nullptr;
    } else {
      window[slot] = p;
    }
  }
  for (void* p : window) std::free(p);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  long ops = argc > 2 ? std::atol(argv[2]) : 4000000;
  std::uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  std::vector<std::vector<void*>> retained(static_cast<std::size_t>(threads));
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back(churn, t, ops, seed, &retained[static_cast<std::size_t>(t)]);
  for (auto& t : ts) t.join();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  std::size_t kept = 0;
  for (auto& v : retained) kept += v.size();
  std::printf("{\"threads\": %d, \"ops_per_thread\": %ld, \"retained_blocks\": %zu, \"elapsed_ns\": %lld, "
              "\"ns_per_op\": %.2f}\n",
              threads, ops, kept, static_cast<long long>(ns),
              static_cast<double>(ns) / static_cast<double>(ops * threads));
  for (auto& v : retained)
    for (void* p : v) std::free(p);
  return 0;
}
