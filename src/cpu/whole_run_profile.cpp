// whole_run_profile.cpp: LEAKWATCH_CPUPROFILE=FILE, a CPU profile of the whole run (as gperftools'
// CPUPROFILE): a constructor starts the sampling before main at LEAKWATCH_CPU_HZ, and an atexit
// handler writes FILE when the program exits (exit() or a return from main). Nothing is written
// on _exit(), abort() or death by a signal: the counts live in memory until then. This object
// is in libleakwatch.so and in the preload library's companion, which the preload's start-up loads
// when this variable is set (src/server/preload_start.cpp), so linked and preloaded programs
// behave alike.
//
// Which process writes: the one that started the profile. A forked child inherits the atexit
// handler but not the sampling (cpu_sampler.cpp forgets it in the child), and must not overwrite
// its parent's file, so the handler compares pids. An exec'd program starts afresh and, like
// LEAKWATCH_HTTP, acts on the variable itself unless LEAKWATCH_SERVE_PID names another process
// (`leakwatch run` names the program it execs); "%p" in FILE becomes the pid, one file each.
//
// Why the file is opened at start-up: a path that cannot be written is said at once (and no
// sampling is paid for), not after an hour-long run. It is kept as an absolute path, because the
// program may chdir() before it exits. Rejected: keeping the descriptor open until exit (a daemon
// that closes every descriptor, or reuses the number, would make us write into its own file).
// Why atexit, registered from the constructor: it runs before the static destructors of the
// objects built before it (leakwatch's own among them) and before the debug server's handler is
// registered, so the server stops first and nothing the profile builder reads is torn down yet.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "src/base/log.hpp"
#include "src/base/self_scope.hpp"
#include "src/base/serve_env.hpp"
#include "src/cpu/cpu_hz_env.hpp"
#include "src/cpu/cpu_profile.hpp"
#include "src/cpu/cpu_sampler.hpp"

namespace lw::cpu {
namespace {

// Both written once by the constructor (before main, one thread), then only read.
const std::string* g_profile_file = nullptr;  // the absolute path the profile goes to
pid_t g_owner = 0;                    // the process that started the profile

// with_pid() is `pattern` with every "%p" replaced by this process's id.
std::string with_pid(std::string_view pattern) {
  std::string out;
  for (std::size_t at = 0; at < pattern.size(); ++at) {
    if (pattern.substr(at, 2) == "%p") {
      out += std::to_string(getpid());
      ++at;
    } else {
      out += pattern[at];
    }
  }
  return out;
}

std::string absolute(std::string path) {
  if (path.front() == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

void write_at_exit() {
  if (g_profile_file == nullptr || getpid() != g_owner) return;  // a forked child: the file is the parent's
  base::SelfScope self;
  auto sampled = stop_sampling();
  if (!sampled) {
    base::log_write("LEAKWATCH_CPUPROFILE: no CPU profile written: %s", sampled.error().message.c_str());
    return;
  }
  if (auto written = write_profile_file(*g_profile_file, *sampled); !written) {
    base::log_write("LEAKWATCH_CPUPROFILE: no CPU profile written: %s", written.error().message.c_str());
    return;
  }
  long long samples = 0;
  for (const auto& [key, n] : sampled->counts) samples += n;
  base::log_write("CPU profile written to %s: %lld samples at %d Hz", g_profile_file->c_str(), samples, sampled->hz);
}

__attribute__((constructor)) void start_whole_run_profile() {
  const char* pattern = base::cpu_profile_path_from_environment();
  if (pattern == nullptr) return;
  base::SelfScope self;
  std::string file = absolute(with_pid(pattern));
  const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    base::log_write("LEAKWATCH_CPUPROFILE=%s: cannot write %s: %s; no CPU profile", pattern, file.c_str(),
                    std::strerror(errno));
    return;
  }
  close(fd);
  if (auto started = start_sampling(configured_hz()); !started) {
    base::log_write("LEAKWATCH_CPUPROFILE=%s: no CPU profile: %s", pattern, started.error().message.c_str());
    return;
  }
  g_profile_file = new std::string(std::move(file));
  g_owner = getpid();
  std::atexit(write_at_exit);
}

}  // namespace
}  // namespace lw::cpu
