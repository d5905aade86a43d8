#include "src/base/log.hpp"

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <algorithm>
#include <cstdio>
#include <unistd.h>

#include "src/base/check.hpp"

namespace lw::base {

bool write_all(int fd, const char* buf, std::size_t len) noexcept {
  while (len > 0) {
    ssize_t n = ::write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    buf += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

void log_write(const char* fmt, ...) noexcept {
  char line[kLogLineMax];
  static constexpr char kPrefix[] = "leakwatch: ";
  std::size_t used = sizeof(kPrefix) - 1;
  __builtin_memcpy(line, kPrefix, used);
  va_list args;
  va_start(args, fmt);
  int n = std::vsnprintf(line + used, sizeof(line) - used - 1, fmt, args);
  va_end(args);
  if (n > 0) used += std::min<std::size_t>(static_cast<std::size_t>(n), sizeof(line) - used - 2);
  line[used++] = '\n';
  (void)write_all(2, line, used);
}

[[noreturn]] void fatal(const char* what, const char* file, int line) noexcept {
  log_write("fatal: %s (%s:%d)", what, file, line);
  std::abort();
}

}  // namespace lw::base
