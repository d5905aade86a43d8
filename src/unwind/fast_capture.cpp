// Frame-pointer walking on the allocation hot path.
//
// Why not libunwind everywhere: unw_backtrace costs ~140 ns for 20 frames here against ~15 ns for a
// frame-pointer walk, and recording every allocation (sample rate 1) must stay within a few times
// the cost of the allocation itself. Why not the walk alone: Debian's glibc and libstdc++ are built
// without frame pointers, so when libstdc++ (e.g. std::string's out-of-line _M_create) calls
// operator new, the walk jumps from libstdc++ straight to the caller's caller and loses the user's
// function, the one a heap profile must show. We detect that case from the first return address
// (it lies in a noted frameless module) and let unw_backtrace, which reads DWARF CFI, do it.
//
// Bounds: the walk reads only inside the current thread's stack, [current sp, stack top), and
// requires each next frame to lie strictly above the previous one, 8-byte aligned. A stack top is
// learned once per thread (pthread_getattr_np; __libc_stack_end for the main thread, whose
// pthread_getattr_np reads /proc and allocates heavily) and kept in initial-exec TLS. When the
// stack pointer is elsewhere (a runtime task's stack, sigaltstack) we do not know the bounds and
// use unw_backtrace. Rejected: probing each frame with mincore/process_vm_readv (a syscall per
// frame), and walking without bounds (a frameless function's rbp can hold any value).
#include "src/unwind/fast_capture.hpp"

#include <link.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cstring>

#include "src/unwind/capture.hpp"

extern "C" void* __libc_stack_end;  // glibc: top of the main thread's stack (exported by ld.so)

namespace lw::unwind {
namespace {

struct ThreadStack {
  std::uintptr_t lo = 0;
  std::uintptr_t hi = 0;  // 0: not learned yet
  bool learning = false;
  // The last first-frame return address found outside every frameless module, and the range
  // generation it was checked against: a hot allocation site repeats it, and one compare replaces
  // the scan of the module ranges.
  std::uintptr_t clean_pc = 0;
  std::uint32_t clean_generation = 0;
};
thread_local ThreadStack tls_stack __attribute__((tls_model("initial-exec")));

constexpr int kMaxRanges = 16;
struct Range {
  std::uintptr_t lo, hi;
};
// Written by note_frameless_modules() before publishing the count; read lock-free.
Range g_ranges[kMaxRanges];
std::atomic<int> g_range_count{0};
std::atomic<std::uint32_t> g_range_generation{1};  // bumped by note_frameless_modules()

std::atomic<std::uint64_t> g_fp_walks{0};
std::atomic<std::uint64_t> g_fallbacks{0};

// Walks shorter than this that end on a bad frame are redone with libunwind.
constexpr std::uint32_t kShortWalk = 3;

bool learn_stack(ThreadStack* s) noexcept {
  if (s->hi != 0) return true;
  if (s->learning) return false;  // re-entered from pthread_getattr_np's own allocation
  s->learning = true;
  if (gettid() == getpid()) {
    // The main thread's stack grows on demand; everything from its top down to the current sp
    // is mapped. rlimit bounds how far down it may go.
    s->hi = reinterpret_cast<std::uintptr_t>(__libc_stack_end);
    rlimit rl{};
    std::uintptr_t reach = std::uintptr_t{8} << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) reach = rl.rlim_cur;
    s->lo = s->hi > reach ? s->hi - reach : 0;
  } else {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      void* addr = nullptr;
      std::size_t size = 0;
      if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
        s->lo = reinterpret_cast<std::uintptr_t>(addr);
        s->hi = s->lo + size;
      }
      pthread_attr_destroy(&attr);
    }
  }
  s->learning = false;
  return s->hi != 0;
}

int collect_range(dl_phdr_info* info, std::size_t, void* data) {
  int* n = static_cast<int*>(data);
  const char* name = info->dlpi_name;
  if (name == nullptr || name[0] == '\0') return 0;
  const char* base = std::strrchr(name, '/');
  base = base ? base + 1 : name;
  static const char* const kFrameless[] = {"libc.so", "libstdc++.so", "libgcc_s.so", "libm.so",
                                           "ld-linux", "libpthread.so"};
  bool match = false;
  for (const char* prefix : kFrameless)
    if (std::strncmp(base, prefix, std::strlen(prefix)) == 0) match = true;
  if (!match) return 0;
  for (int i = 0; i < info->dlpi_phnum && *n < kMaxRanges; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    g_ranges[*n] = Range{lo, lo + ph.p_memsz};
    ++*n;
  }
  return 0;
}

}  // namespace

FpWalkEnd fp_walk(StackTrace* out, std::uintptr_t fp, std::uintptr_t lo, std::uintptr_t hi,
                  int skip) noexcept {
  out->depth = 0;
  if (fp == 0) return FpWalkEnd::kOutermost;
  constexpr std::uintptr_t kWord = sizeof(std::uintptr_t);
  constexpr std::uintptr_t kRecord = 2 * kWord;
  lo = (lo + kWord - 1) & ~(kWord - 1);  // a valid (aligned) record address is >= lo rounded up
  if (hi < lo || hi - lo < kRecord) return FpWalkEnd::kBadFrame;
  // A record at fp fits in [lo, hi) and is aligned iff (fp - lo) is a multiple of 8 and at most
  // hi - lo - kRecord. Rotating (fp - lo) right by 3 moves misaligned low bits to the top, so one
  // unsigned compare checks both bounds and the alignment, with no wrap-around (a frameless
  // function's rbp may hold any value, e.g. -16, for which fp + kRecord > hi would wrap and pass).
  const std::uintptr_t last = (hi - lo - kRecord) / kWord;
  while (true) {
    if (std::rotr(fp - lo, 3) > last) return FpWalkEnd::kBadFrame;
    const auto* record = reinterpret_cast<const std::uintptr_t*>(fp);
    const std::uintptr_t next = record[0];
    const std::uintptr_t ret = record[1];
    if (ret == 0) return FpWalkEnd::kOutermost;
    if (skip > 0) [[unlikely]] {
      --skip;
    } else {
      if (out->depth == kMaxFrames) return FpWalkEnd::kFull;
      out->pc[out->depth++] = ret;
    }
    // Frames only move up; a null frame pointer is the outermost frame.
    if (next <= fp) return next == 0 ? FpWalkEnd::kOutermost : FpWalkEnd::kBadFrame;
    fp = next;
  }
}

[[gnu::noinline]] std::uint32_t capture_stack_fast(StackTrace* out, int skip) noexcept {
  auto fp = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  ThreadStack* s = &tls_stack;
  bool trusted = learn_stack(s) && fp >= s->lo && fp < s->hi;
  if (trusted) {
    FpWalkEnd end = fp_walk(out, fp, fp, s->hi, skip);
    if (end == FpWalkEnd::kBadFrame && out->depth < kShortWalk) trusted = false;
    if (trusted && out->depth > 0) {
      const std::uint32_t gen = g_range_generation.load(std::memory_order_acquire);
      if (out->pc[0] != s->clean_pc || s->clean_generation != gen) {
        if (in_frameless_module(out->pc[0])) {
          trusted = false;
        } else {
          s->clean_pc = out->pc[0];
          s->clean_generation = gen;
        }
      }
    }
    if (trusted) {
      g_fp_walks.fetch_add(1, std::memory_order_relaxed);
      return out->depth;
    }
  }
  g_fallbacks.fetch_add(1, std::memory_order_relaxed);
#if defined(__SANITIZE_THREAD__)
  // No libunwind under ThreadSanitizer (capture.cpp says why): keep what the walk found.
  return out->depth;
#endif
  // One more frame to skip: capture_stack's frame 0 is this function.
  std::uint32_t n = capture_stack(out, skip + 1);
  asm volatile("" ::: "memory");  // keep this frame (no tail call), so skip stays right
  return n;
}

void note_frameless_modules() noexcept {
  int n = 0;
  g_range_count.store(0, std::memory_order_release);
  dl_iterate_phdr(collect_range, &n);
  g_range_count.store(n, std::memory_order_release);
  g_range_generation.fetch_add(1, std::memory_order_acq_rel);
}

bool in_frameless_module(std::uintptr_t pc) noexcept {
  int n = g_range_count.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i)
    if (pc >= g_ranges[i].lo && pc < g_ranges[i].hi) return true;
  return false;
}

FastCaptureCounters fast_capture_counters() noexcept {
  return {g_fp_walks.load(std::memory_order_relaxed), g_fallbacks.load(std::memory_order_relaxed)};
}

}  // namespace lw::unwind
