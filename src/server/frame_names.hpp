// frame_names.hpp: code addresses resolved for the live page, remembered so that a page that
// refreshes every second symbolizes each address once, not once a refresh. Bounded: past
// kMaxFrameNames entries the cache starts over. Thread-safe (one mutex); allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lw::server {

inline constexpr std::size_t kMaxFrameNames = 16384;

struct FrameName {
  std::string function;  // demangled; empty when unknown
  std::string file;
  int line = 0;
};

class FrameNames {
 public:
  // of() resolves a return address (as stacks hold them) to the call's function, file and line.
  FrameName of(std::uint64_t return_address);

 private:
  std::mutex mu_;
  std::unordered_map<std::uint64_t, FrameName> names_;  // Guarded by mu_.
};

}  // namespace lw::server
