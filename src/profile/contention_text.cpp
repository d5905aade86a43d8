// The debug=1 text keeps Go's shape, which `go tool pprof` parses as a legacy contention profile:
// a "--- contention:" (or "--- mutex:") header, "name=value" lines, then "cycles count @ pcs"
// records. Frames are printed as in the other count profiles (profile_symbols.hpp).
#include "src/profile/contention_text.hpp"

#include <algorithm>
#include <vector>

#include "src/profile/profile_symbols.hpp"

namespace lw::profile {

void write_contention_text(std::ostream& os, const snapshot::Snapshot& s, base::ContentionProfile which) {
  const bool mutex = which == base::ContentionProfile::kMutex;
  const snapshot::ContentionProfile& profile = mutex ? s.mutex : s.block;
  SnapshotSymbols sym(s);
  std::vector<const snapshot::ContentionSite*> order;
  for (const snapshot::ContentionSite& r : profile.sites)
    if (r.count > 0) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(), [](const snapshot::ContentionSite* a, const snapshot::ContentionSite* b) {
    return a->delay_ns > b->delay_ns;
  });
  os << (mutex ? "--- mutex:\n" : "--- contention:\n") << "cycles/second=1000000000\n";
  if (mutex) os << "sampling period=" << profile.rate << '\n';
  for (const snapshot::ContentionSite* r : order) {
    os << r->delay_ns << ' ' << r->count << " @";
    const auto& pcs = sym.pcs(r->stack_id);
    for (std::uint64_t pc : pcs) os << ' ' << hex(pc);
    if (pcs.empty()) os << " 0x0";
    os << '\n';
    write_stack_record(os, sym, pcs, is_runtime_frame);
  }
}

}  // namespace lw::profile
