#include "src/cpu/capture_custom_profiles.hpp"

#include "src/cpu/custom_profile_table.hpp"
#include "src/snapshot/stack_interner.hpp"

namespace lw::cpu {

void capture_custom_profiles(snapshot::Snapshot* s) {
  CustomProfileTable& table = process_profiles();
  snapshot::StackInterner stacks(s);
  for (CustomProfileRead& r : table.read()) {
    snapshot::CustomProfile p;
    p.name = std::move(r.name);
    p.count = r.count;
    p.dropped_adds = r.dropped_adds;
    p.samples.reserve(r.stacks.size());
    for (const auto& [pcs, n] : r.stacks) p.samples.push_back({stacks.intern(pcs), n});
    s->custom_profiles.push_back(std::move(p));
  }
  s->dropped_custom_profiles = table.dropped_profiles();
}

}  // namespace lw::cpu
