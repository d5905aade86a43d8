// preload_start.cpp: the start-up of libleakwatch_preload.so, and the only object of src/server in
// it. Linked into the preload library alone (not into the server module's archive nor into
// libleakwatch.so, whose auto_start.cpp starts the server directly).
//
// The preload library goes into every process of a tree (LD_PRELOAD is inherited), most of which
// never serve: a shell loop's children, a build's compilers. So it holds only the capture side
// (base, unwind's capture, heap, threads: mimalloc and libunwind), and the server with what only
// the server needs (capture, profiles, the protobuf codec, the libdw symbolizer, zlib, the task
// runtime) is a companion, libleakwatch_server.so, installed beside it and loaded here only when
// this process is to serve (src/base/serve_env.hpp), to write heap profiles on a signal
// (LEAKWATCH_HEAP_PROFILE_SIGNAL: the writer encodes pprof) or to take the whole-run CPU profile
// (LEAKWATCH_CPUPROFILE: the sampler and the profile builder are there). Its constructors then do
// what they do in libleakwatch.so: auto_start.cpp starts the server, capture_heap_profile.cpp arms
// the signal, whole_run_profile.cpp starts the CPU profile. Measured on /bin/true (docs/benchmarks.md): relocating libprotobuf and running its,
// libdw's and our server's constructors was most of what preloading cost a process.
//
// Rejected: loading the companion from a thread so that start-up does not wait for it. exit()
// takes the loader's lock (_dl_fini), so a short program would wait for the load anyway, and the
// port would no longer be bound (nor the "listening" line printed) by the time main runs, which
// scripts and `leakwatch run` users count on. Tracking does not depend on it either way: the
// capture side is in this library and records from the first allocation.
//
// The companion is found beside this library, by the path the loader gives us (dladdr), not by
// the library search path: a build tree and an installed tree each use their own pair. When the
// program links libleakwatch.so itself (a linked program under `leakwatch run`), the server is
// already in the process (lw_debug_server_anchor) and nothing is loaded.
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

#include "src/base/log.hpp"
#include "src/base/serve_env.hpp"

namespace lw {
namespace {

constexpr char kCompanion[] = "libleakwatch_server.so";

// companion_wanted() says whether this process needs anything the companion holds.
bool companion_wanted() noexcept {
  if (base::serve_plan_from_environment().address != nullptr) return true;
  if (base::cpu_profile_path_from_environment() != nullptr) return true;  // LEAKWATCH_CPUPROFILE
  const char* heap_profile_signal = std::getenv("LEAKWATCH_HEAP_PROFILE_SIGNAL");
  return heap_profile_signal != nullptr && *heap_profile_signal != '\0';
}

// Runs after the heap tracker's constructor (priority 101) and the thread registry's (default
// priority, earlier in link order: cmake/LeakwatchUmbrella.cmake links this object last), so the
// companion's constructors find both started.
__attribute__((constructor)) void load_server_companion() {
  if (!companion_wanted()) return;
  if (dlsym(RTLD_DEFAULT, "lw_debug_server_anchor") != nullptr) return;  // libleakwatch.so serves
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&load_server_companion), &self) == 0 || self.dli_fname == nullptr) {
    base::log_write("debug server not started: cannot find where libleakwatch_preload.so was loaded from");
    return;
  }
  // The companion's path: this library's directory + kCompanion, in a fixed buffer.
  char path[4096];
  const char* slash = std::strrchr(self.dli_fname, '/');
  std::size_t dir = slash == nullptr ? 0 : static_cast<std::size_t>(slash - self.dli_fname) + 1;
  if (dir + sizeof kCompanion > sizeof path) {
    base::log_write("debug server not started: the path of libleakwatch_preload.so is too long");
    return;
  }
  if (dir == 0) {
    std::memcpy(path, "./", 2);
    dir = 2;
  } else {
    std::memcpy(path, self.dli_fname, dir);
  }
  std::memcpy(path + dir, kCompanion, sizeof kCompanion);
  // RTLD_NOW: a missing symbol is reported here, not as a crash in the middle of a request.
  if (dlopen(path, RTLD_NOW | RTLD_LOCAL) == nullptr) {
    const char* why = dlerror();
    base::log_write("debug server, heap and CPU profiles off: cannot load %s: %s", path, why ? why : "?");
  }
}

}  // namespace
}  // namespace lw
