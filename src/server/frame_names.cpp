#include "src/server/frame_names.hpp"

#include "src/base/json_text.hpp"
#include "src/unwind/stack_trace.hpp"
#include "src/unwind/symbolizer.hpp"

namespace lw::server {

void FrameNames::append_json(std::uint64_t return_address, std::string* out) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = json_.find(return_address); it != json_.end()) {
      *out += it->second;
      return;
    }
  }
  // Resolved outside the lock: the symbolizer has its own, and may read DWARF for a while.
  unwind::Symbol s = unwind::process_symbolizer().lookup(unwind::call_site(return_address));
  std::string json = "{\"function\":";
  base::json_escape(s.function, &json);
  json += ",\"file\":";
  base::json_escape(s.file, &json);
  json += ",\"line\":" + std::to_string(s.line) + "}";
  *out += json;
  std::lock_guard<std::mutex> lock(mu_);
  if (json_.size() >= kMaxFrameNames || bytes_ + json.size() > kMaxFrameNameBytes) {
    json_.clear();
    bytes_ = 0;
  }
  if (json_.emplace(return_address, json).second) bytes_ += json.size();
}

}  // namespace lw::server
