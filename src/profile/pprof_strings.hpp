// pprof_strings.hpp: private to src/profile. Interns strings into a pprof Profile's string_table
// (entry 0 is ""). Not thread-safe; allocates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "src/profile/profile.pb.h"

namespace lw::profile {

class PprofStrings {
 public:
  // PprofStrings() starts `p`'s string table, which must be empty, with "".
  explicit PprofStrings(leakwatch::pprof::Profile* p) : p_(p) { index(""); }

  // index() returns the table index of `s`, adding it on first use.
  std::int64_t index(std::string_view s) {
    auto it = ids_.find(std::string(s));
    if (it != ids_.end()) return it->second;
    auto id = static_cast<std::int64_t>(p_->string_table_size());
    p_->add_string_table(std::string(s));
    ids_.emplace(std::string(s), id);
    return id;
  }

 private:
  leakwatch::pprof::Profile* p_;
  std::unordered_map<std::string, std::int64_t> ids_;
};

}  // namespace lw::profile
