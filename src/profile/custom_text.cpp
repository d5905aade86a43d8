// The records are the goroutine profile's (CountRecords), so both sort and print alike; leading
// frames of leakwatch's own code are hidden as Go hides runtime frames there.
#include "src/profile/custom_text.hpp"

#include "src/profile/dump_text.hpp"

namespace lw::profile {

void write_custom_text(std::ostream& os, const snapshot::Snapshot& s, const snapshot::CustomProfile& profile) {
  SnapshotSymbols sym(s);
  CountRecords records;
  for (const auto& sample : profile.samples)
    if (sample.count > 0) records.add(sample.stack_id, {}, {}, sample.count);
  records.write(os, profile.name, sym, is_runtime_frame);
}

}  // namespace lw::profile
