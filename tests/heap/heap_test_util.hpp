// heap_test_util.hpp: helpers for the heap tests: sum the site table's figures over the sites
// whose stack passes through a named function. Allocates (under an UntrackedScope).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "src/heap/hook_guard.hpp"
#include "src/heap/tracker.hpp"
#include "src/unwind/symbolizer.hpp"

namespace lw_test {

struct SiteSum {
  double alloc_objects = 0, alloc_bytes = 0, inuse_objects = 0, inuse_bytes = 0;
  int sites = 0;
  int innermost_match = 0;  // sites whose first frame is the function itself
};

// function_at() symbolizes once per address (the symbolizer is slow under TSan).
inline const std::string& function_at(std::uintptr_t pc) {
  static std::map<std::uintptr_t, std::string> cache;
  auto it = cache.find(pc);
  if (it == cache.end())
    it = cache.emplace(pc, lw::unwind::process_symbolizer().lookup(lw::unwind::call_site(pc)).function).first;
  return it->second;
}

// sum_sites_through() looks at the innermost kFramesLooked frames of each site: the functions the
// tests look for are the allocating function or close to it.
inline SiteSum sum_sites_through(const std::string& function) {
  constexpr std::uint32_t kFramesLooked = 6;
  lw::heap::UntrackedScope untracked;
  SiteSum sum;
  lw::heap::site_table().for_each([&](const lw::unwind::StackTrace& t, std::uint32_t, const lw::heap::SiteFigures& f) {
    for (std::uint32_t i = 0; i < t.depth && i < kFramesLooked; ++i) {
      if (function_at(t.pc[i]).find(function) == std::string::npos) continue;
      ++sum.sites;
      if (i == 0) ++sum.innermost_match;
      const double unit = static_cast<double>(lw::heap::kObjectUnit);
      sum.alloc_objects += static_cast<double>(f.alloc_units) / unit;
      sum.alloc_bytes += static_cast<double>(f.alloc_bytes);
      sum.inuse_objects += (static_cast<double>(f.alloc_units) - static_cast<double>(f.free_units)) / unit;
      sum.inuse_bytes += static_cast<double>(f.alloc_bytes) - static_cast<double>(f.free_bytes);
      break;
    }
  });
  return sum;
}

}  // namespace lw_test
