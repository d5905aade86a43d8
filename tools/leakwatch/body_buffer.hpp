// body_buffer.hpp: the bytes of one HTTP body, up to a fixed cap, in address space reserved once
// (an anonymous mapping of the cap), so growing never copies and never holds two copies: memory
// in use is the bytes received, however close to the cap they come. Not thread-safe (one per
// request); allocates the mapping at reserve() and nothing after.
#pragma once

#include <cstddef>
#include <string_view>

#include "leakwatch/result.hpp"

namespace lw::cli {

class BodyBuffer {
 public:
  BodyBuffer() = default;
  // reserve() maps `cap` bytes of address space (pages are only backed once written).
  static Result<BodyBuffer> reserve(std::size_t cap);
  BodyBuffer(BodyBuffer&& o) noexcept { swap(o); }
  BodyBuffer& operator=(BodyBuffer&& o) noexcept {
    swap(o);
    return *this;
  }
  BodyBuffer(const BodyBuffer&) = delete;
  BodyBuffer& operator=(const BodyBuffer&) = delete;
  ~BodyBuffer();

  // append() adds `n` bytes; false (and nothing added) when they would pass the cap.
  bool append(const char* data, std::size_t n);
  // shrink_to_fit() gives back the address space past the bytes kept (no more appends after it):
  // a body kept for a while (watch's write queue) then holds its size, not the cap.
  void shrink_to_fit();
  std::string_view view() const { return {base_, size_}; }
  std::size_t size() const { return size_; }
  std::size_t cap() const { return cap_; }

 private:
  void swap(BodyBuffer& o) noexcept;
  char* base_ = nullptr;
  std::size_t mapped_ = 0;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

}  // namespace lw::cli
