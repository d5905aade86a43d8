// Why unwind in the handler: the capturer used to unwind each stopped thread's saved context with
// libunwind, which blocks and unblocks signals around its look-ups (about 16 sigprocmask calls for
// a 12-frame stack, each a system call), while the thread waited in its handler for the capturer:
// two hand-offs and one core doing every walk. The C++ runtime's own unwinder (libgcc's
// _Unwind_Backtrace, the one exceptions use) walks the same DWARF CFI, steps through the kernel's
// signal frame into the interrupted code, makes no system call, and on glibc 2.35+ finds each
// object's tables with _dl_find_object, which takes no lock. So each thread walks its own stack,
// on whatever core it runs, and the capturer only collects.
//
// Why not always: the unwinder takes a mutex when a program registered tables by hand
// (__register_frame*, which JITs do); the interrupted thread may hold it. Those calls are
// interposed here to note that, and the capturer's libunwind path is used from then on. Code
// without unwind tables stops the walk; the caller falls back then too.
#include "src/unwind/handler_unwind.hpp"

#include <dlfcn.h>
#include <ucontext.h>
#include <unwind.h>

#include <atomic>

namespace lw::unwind {
namespace {

std::atomic<bool> g_tables_registered{false};

struct Walk {
  StackTrace* out;
  std::uintptr_t interrupted_pc;
  bool found = false;
  bool error = false;
};

_Unwind_Reason_Code on_frame(_Unwind_Context* context, void* arg) {
  auto* walk = static_cast<Walk*>(arg);
  int before_insn = 0;
  const std::uintptr_t ip = _Unwind_GetIPInfo(context, &before_insn);
  if (ip == 0) return _URC_END_OF_STACK;
  if (!walk->found) {
    // The handler's own frames and the kernel's signal frame come first: skip to the interrupted
    // one, the signal frame's caller, whose ip is exact (before_insn).
    if (before_insn == 0 || ip != walk->interrupted_pc) return _URC_NO_REASON;
    walk->found = true;
    walk->out->pc[walk->out->depth++] = ip + 1;
    return _URC_NO_REASON;
  }
  if (walk->out->depth == kMaxFrames) return _URC_NORMAL_STOP;
  walk->out->pc[walk->out->depth++] = ip;
  return _URC_NO_REASON;
}

struct OwnWalk {
  StackTrace* out;
  int skip;  // frames still to skip: walk_own_stack's own first
};

_Unwind_Reason_Code on_own_frame(_Unwind_Context* context, void* arg) {
  auto* walk = static_cast<OwnWalk*>(arg);
  const std::uintptr_t ip = _Unwind_GetIP(context);
  if (ip == 0) return _URC_END_OF_STACK;
  if (walk->skip > 0) {
    --walk->skip;
    return _URC_NO_REASON;
  }
  if (walk->out->depth == kMaxFrames) return _URC_NORMAL_STOP;
  walk->out->pc[walk->out->depth++] = ip;
  return _URC_NO_REASON;
}

_Unwind_Reason_Code count_frame(_Unwind_Context*, void* arg) {
  ++*static_cast<int*>(arg);
  return _URC_NO_REASON;
}

bool lock_free_lookup() noexcept {
  static const bool kReady = [] {
    if (dlsym(RTLD_DEFAULT, "_dl_find_object") == nullptr) return false;
    int frames = 0;
    _Unwind_Backtrace(count_frame, &frames);  // the unwinder's one-time set-up, here
    return frames > 0;
  }();
  return kReady;
}

// note_registration() forwards a __register_frame* call to the next definition (the C++
// runtime's) after noting that the unwinder may lock from now on.
template <typename Fn, typename... Args>
void note_registration(const char* name, Args... args) {
  g_tables_registered.store(true, std::memory_order_release);
  static_assert(sizeof...(Args) > 0);
  if (auto next = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name))) next(args...);
}

}  // namespace

bool handler_unwind_ready() noexcept {
  return lock_free_lookup() && !g_tables_registered.load(std::memory_order_acquire);
}

bool handler_unwind(StackTrace* out, const void* ucontext) noexcept {
  out->depth = 0;
  if (!handler_unwind_ready()) return false;
  const auto* uc = static_cast<const ucontext_t*>(ucontext);
  Walk walk{out, static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP])};
  const _Unwind_Reason_Code end = _Unwind_Backtrace(on_frame, &walk);
  if (!walk.found) return false;
  const bool clean = end == _URC_END_OF_STACK || end == _URC_NORMAL_STOP;
  return clean || out->depth >= 3;
}

[[gnu::noinline]] bool walk_own_stack(StackTrace* out, int skip) noexcept {
  out->depth = 0;
  if (!handler_unwind_ready()) return false;
  // The first frame the unwinder reports is this function's own (ip inside it): skip it too.
  OwnWalk walk{out, skip + 1};
  _Unwind_Backtrace(on_own_frame, &walk);
  asm volatile("" ::: "memory");  // keep this frame, so skip stays right
  return out->depth > 0;
}

}  // namespace lw::unwind

// The C++ runtime's registration entry points, interposed only to note their use.
extern "C" {
void __register_frame(void* begin) { lw::unwind::note_registration<void (*)(void*)>("__register_frame", begin); }
void __register_frame_info(const void* begin, void* object) {
  lw::unwind::note_registration<void (*)(const void*, void*)>("__register_frame_info", begin, object);
}
void __register_frame_info_bases(const void* begin, void* object, void* tbase, void* dbase) {
  lw::unwind::note_registration<void (*)(const void*, void*, void*, void*)>("__register_frame_info_bases", begin,
                                                                            object, tbase, dbase);
}
void __register_frame_table(void* begin) {
  lw::unwind::note_registration<void (*)(void*)>("__register_frame_table", begin);
}
void __register_frame_info_table(void* begin, void* object) {
  lw::unwind::note_registration<void (*)(void*, void*)>("__register_frame_info_table", begin, object);
}
void __register_frame_info_table_bases(void* begin, void* object, void* tbase, void* dbase) {
  lw::unwind::note_registration<void (*)(void*, void*, void*, void*)>("__register_frame_info_table_bases", begin,
                                                                      object, tbase, dbase);
}
}
