#include "src/threads/proc_task.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace lw::os_threads {
namespace {

// read_small() reads a /proc file of at most `size - 1` bytes with one open and read.
std::size_t read_small(const char* path, char* buf, std::size_t size) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = ::read(fd, buf, size - 1);
  ::close(fd);
  if (n < 0) n = 0;
  buf[n] = '\0';
  return static_cast<std::size_t>(n);
}

struct SyscallName {
  long nr;
  const char* name;
};

// The x86-64 syscalls a thread is commonly found blocked in (arch/x86/entry/syscalls/syscall_64.tbl).
constexpr SyscallName kSyscalls[] = {
    {0, "read"},          {1, "write"},         {7, "poll"},           {17, "pread64"},
    {18, "pwrite64"},     {19, "readv"},        {20, "writev"},        {23, "select"},
    {24, "sched_yield"},  {34, "pause"},        {35, "nanosleep"},     {42, "connect"},
    {43, "accept"},       {44, "sendto"},       {45, "recvfrom"},      {46, "sendmsg"},
    {47, "recvmsg"},      {61, "wait4"},        {72, "fcntl"},         {74, "fsync"},
    {75, "fdatasync"},    {130, "rt_sigsuspend"}, {128, "rt_sigtimedwait"}, {202, "futex"},
    {230, "clock_nanosleep"}, {232, "epoll_wait"}, {247, "waitid"},   {270, "pselect6"},
    {271, "ppoll"},       {281, "epoll_pwait"},  {288, "accept4"},     {299, "recvmmsg"},
    {307, "sendmmsg"},    {318, "getrandom"},    {426, "io_uring_enter"}, {441, "epoll_pwait2"},
    {3, "close"},         {2, "open"},           {257, "openat"},      {9, "mmap"},
    {11, "munmap"},       {16, "ioctl"},         {56, "clone"},        {59, "execve"},
    {62, "kill"},         {228, "clock_gettime"}, {435, "clone3"},     {40, "sendfile"},
    {275, "splice"},      {276, "tee"},          {285, "fallocate"},   {162, "sync"},
    {306, "syncfs"},      {217, "getdents64"},   {4, "stat"},          {262, "newfstatat"},
    {73, "flock"},        {101, "ptrace"},       {209, "io_submit"},   {208, "io_getevents"},
};

}  // namespace

std::vector<int> list_thread_ids() {
  std::vector<int> out;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir))
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.push_back(std::atoi(e->d_name));
  closedir(dir);
  return out;
}

bool read_proc_thread(int tid, ProcThread* out, bool want_syscall) {
  char path[64];
  char buf[1024];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  if (read_small(path, buf, sizeof buf) == 0) return false;
  out->tid = tid;
  // "tid (comm) S ...": comm may hold spaces and parentheses, so it ends at the last ')'.
  char* open = std::strchr(buf, '(');
  char* close = std::strrchr(buf, ')');
  if (open == nullptr || close == nullptr || close < open || close[1] == '\0') return false;
  out->name.assign(open + 1, static_cast<std::size_t>(close - open - 1));
  out->state = close[2];
  // Fields after the state: ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  unsigned long long utime = 0, stime = 0;
  std::sscanf(close + 3, "%*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime);
  timespec ts{};
  if (clock_gettime(thread_cpu_clock(tid), &ts) == 0) {
    out->cpu_ns = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
  } else {
    const long hz = sysconf(_SC_CLK_TCK);
    out->cpu_ns = (utime + stime) * (1'000'000'000ull / static_cast<unsigned long long>(hz > 0 ? hz : 100));
  }
  out->syscall = -1;
  if (want_syscall && (out->state == 'S' || out->state == 'D')) {
    std::snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
    if (read_small(path, buf, sizeof buf) > 0 && buf[0] >= '0' && buf[0] <= '9') {
      unsigned long long a[6] = {};
      long nr = -1;
      if (std::sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]) >= 1) {
        out->syscall = nr;
        for (int i = 0; i < 6; ++i) out->args[i] = a[i];
      }
    }
  }
  return true;
}

clockid_t thread_cpu_clock(int tid) noexcept {
  // include/linux/posix-timers.h: MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED).
  return static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 4u | 2u);
}

std::uint64_t read_thread_cpu_ns(int tid) {
  timespec ts{};
  if (clock_gettime(thread_cpu_clock(tid), &ts) != 0) return 0;
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::string syscall_name(long nr) {
  for (const SyscallName& s : kSyscalls)
    if (s.nr == nr) return s.name;
  return "syscall " + std::to_string(nr);
}

int syscall_fd(long nr, const std::uint64_t args[6]) {
  switch (nr) {
    case 0: case 1: case 17: case 18: case 19: case 20: case 42: case 43: case 44: case 45:
    case 46: case 47: case 74: case 75: case 232: case 281: case 288: case 299: case 307:
    case 441: case 73: case 16: case 426:
      return args[0] <= 0x7fffffff ? static_cast<int>(args[0]) : -1;
    default:
      return -1;
  }
}

std::string DescriptorNames::describe(int fd) {
  char path[64];
  char target[512];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n <= 0) return {};
  std::string out(target, static_cast<std::size_t>(n));
  if (out.rfind("socket:[", 0) != 0) return out;
  if (!tcp_loaded_) {
    tcp_loaded_ = true;
    for (const char* table : {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
      std::ifstream in(table);
      std::string line;
      std::getline(in, line);  // header
      while (std::getline(in, line)) {
        char local[64] = {}, remote[64] = {};
        unsigned long long inode = 0;
        if (std::sscanf(line.c_str(), "%*d: %63s %63s %*x %*s %*s %*s %*d %*d %llu", local, remote, &inode) != 3)
          continue;
        auto pretty = [](const char* hexaddr) {
          // IPv4 "0100007F:1F90" is 127.0.0.1:8080 (the address in host byte order, little endian).
          std::string s(hexaddr);
          auto colon = s.find(':');
          if (colon == std::string::npos) return s;
          unsigned port = static_cast<unsigned>(std::strtoul(s.c_str() + colon + 1, nullptr, 16));
          if (colon == 8) {
            unsigned long a = std::strtoul(s.substr(0, 8).c_str(), nullptr, 16);
            char b[32];
            std::snprintf(b, sizeof b, "%lu.%lu.%lu.%lu:%u", a & 255, (a >> 8) & 255, (a >> 16) & 255, a >> 24, port);
            return std::string(b);
          }
          return "[" + s.substr(0, colon) + "]:" + std::to_string(port);
        };
        tcp_[inode] = pretty(local) + "->" + pretty(remote);
      }
    }
  }
  const std::uint64_t inode = std::strtoull(out.c_str() + 8, nullptr, 10);
  auto it = tcp_.find(inode);
  if (it != tcp_.end()) out += " " + it->second;
  return out;
}

}  // namespace lw::os_threads
