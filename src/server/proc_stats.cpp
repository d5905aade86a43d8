// One read(2) of /proc/self/stat into a stack buffer gives CPU time, thread count, start tick,
// virtual and resident size; an ifstream per figure would cost several times more per scrape.
// The boot time (/proc/stat btime) never changes, so it is read once.
#include "src/server/proc_stats.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "src/base/clock.hpp"

namespace lw::server {
namespace {

// read_small_file() reads up to size-1 bytes of `path` into buf, NUL-terminated. Returns the length
// read, or -1.
ssize_t read_small_file(const char* path, char* buf, std::size_t size) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t total = 0;
  while (static_cast<std::size_t>(total) + 1 < size) {
    ssize_t n = ::read(fd, buf + total, size - 1 - static_cast<std::size_t>(total));
    if (n < 0) {
      total = -1;
      break;
    }
    if (n == 0) break;
    total += n;
  }
  ::close(fd);
  if (total >= 0) buf[total] = '\0';
  return total;
}

double boot_time_seconds() {
  static const double kBoot = [] {
    // /proc/stat is a few KB per CPU; 64 KB covers large machines.
    static char buf[1 << 16];
    if (read_small_file("/proc/stat", buf, sizeof buf) <= 0) return 0.0;
    const char* p = std::strstr(buf, "\nbtime ");
    return p == nullptr ? 0.0 : std::strtod(p + 7, nullptr);
  }();
  return kBoot;
}

}  // namespace

ProcStats read_proc_stats() {
  ProcStats s;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  char buf[1024];
  if (read_small_file("/proc/self/stat", buf, sizeof buf) > 0) {
    // The command name (field 2) may hold spaces and ')': count fields after the last ')'.
    if (const char* close = std::strrchr(buf, ')'); close != nullptr) {
      const char* p = close + 1;
      for (int field = 3; field <= 24 && *p != '\0'; ++field) {
        while (*p == ' ') ++p;
        char* end = nullptr;
        unsigned long long v = std::strtoull(p, &end, 10);
        if (field == 14 || field == 15) s.cpu_seconds += static_cast<double>(v) / ticks;
        if (field == 20) s.threads = static_cast<std::int64_t>(v);
        if (field == 22) s.start_time_seconds = boot_time_seconds() + static_cast<double>(v) / ticks;
        if (field == 23) s.virtual_bytes = v;
        if (field == 24) s.resident_bytes = static_cast<std::uint64_t>(static_cast<double>(v) * page);
        if (end == p) {  // a non-numeric field (state): skip the word
          while (*p != ' ' && *p != '\0') ++p;
        } else {
          p = end;
        }
      }
    }
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(dir))
      if (e->d_name[0] != '.') ++s.open_fds;
    closedir(dir);
    --s.open_fds;  // the descriptor opendir() itself holds
  }
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) s.max_fds = static_cast<std::int64_t>(lim.rlim_cur);
  if (getrlimit(RLIMIT_AS, &lim) == 0) s.virtual_max_bytes = static_cast<double>(lim.rlim_cur);
  return s;
}

ProcStats recent_proc_stats(std::int64_t max_age_ns) {
  static std::mutex mu;
  static ProcStats cached;          // Guarded by mu.
  static base::Nanos read_at = 0;   // Guarded by mu; 0 = never read.
  std::lock_guard<std::mutex> lock(mu);
  base::Nanos now = base::now_ns();
  if (read_at == 0 || now - read_at > max_age_ns) {
    cached = read_proc_stats();
    read_at = now;
  }
  return cached;
}

}  // namespace lw::server
