// log.hpp: diagnostics that never allocate.
// Thread-safe. log_write() formats into a fixed stack buffer and emits it with one write(2), so a
// line from one thread is never interleaved with another's. Usable from malloc hooks and signal
// handlers (vsnprintf with the plain %d/%s/%x/%p conversions does not allocate in glibc).
#pragma once

#include <cstddef>

namespace lw::base {

inline constexpr std::size_t kLogLineMax = 512;

// log_write() writes "leakwatch: " + the formatted text + "\n" to fd 2. Long lines are cut.
void log_write(const char* fmt, ...) noexcept __attribute__((format(printf, 1, 2)));

// write_all() writes all of buf to fd, retrying on EINTR and short writes. Returns false on error.
bool write_all(int fd, const char* buf, std::size_t len) noexcept;

}  // namespace lw::base
