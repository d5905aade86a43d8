// frame_names.hpp: code addresses resolved for the live page, remembered as the JSON objects the
// page reads, so that a page that refreshes every second symbolizes and escapes each address
// once, not once a refresh. Bounded: past kMaxFrameNames entries or kMaxFrameNameBytes of text
// the cache starts over. Thread-safe (one mutex); allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lw::server {

inline constexpr std::size_t kMaxFrameNames = 16384;
inline constexpr std::size_t kMaxFrameNameBytes = 4 << 20;  // C++ names can run to kilobytes

class FrameNames {
 public:
  // append_json() appends a return address's frame (as stacks hold them: the call's function,
  // file and line) as {"function":...,"file":...,"line":N}.
  void append_json(std::uint64_t return_address, std::string* out);

 private:
  std::mutex mu_;
  std::unordered_map<std::uint64_t, std::string> json_;  // Guarded by mu_.
  std::size_t bytes_ = 0;                                // Guarded by mu_: the text in json_
};

}  // namespace lw::server
