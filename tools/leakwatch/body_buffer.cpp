// A growing std::string was the first choice and was rejected: its last doubling holds the old
// and the new copy at once (a body near a 256 MiB cap peaked at ~384 MiB), and its capacity
// overshoots the cap. A mapping reserved at the cap costs address space only; the kernel backs
// the pages as they are written, and unmaps all of it at once when the body is dropped.
#include "tools/leakwatch/body_buffer.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace lw::cli {

Result<BodyBuffer> BodyBuffer::reserve(std::size_t cap) {
  BodyBuffer b;
  auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::size_t len = (cap + page) / page * page;  // at least one page, even for a cap of 0
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return make_error("cannot reserve " + std::to_string(cap) + " bytes for a body: " + std::strerror(errno));
  b.base_ = static_cast<char*>(p);
  b.mapped_ = len;
  b.cap_ = cap;
  return b;
}

BodyBuffer::~BodyBuffer() {
  if (base_ != nullptr) munmap(base_, mapped_);
}

bool BodyBuffer::append(const char* data, std::size_t n) {
  if (n > cap_ - size_) return false;
  if (n != 0) std::memcpy(base_ + size_, data, n);
  size_ += n;
  return true;
}

void BodyBuffer::shrink_to_fit() {
  if (base_ == nullptr) return;
  auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::size_t keep = (size_ + page) / page * page;
  if (keep < mapped_ && munmap(base_ + keep, mapped_ - keep) == 0) mapped_ = keep;
  cap_ = size_;
}

void BodyBuffer::swap(BodyBuffer& o) noexcept {
  std::swap(base_, o.base_);
  std::swap(mapped_, o.mapped_);
  std::swap(size_, o.size_);
  std::swap(cap_, o.cap_);
}

}  // namespace lw::cli
