// pprof profiles from a Snapshot.
//
// One pprof Location per distinct return address, its address being base::call_site() of it
// (pprof's convention: an address inside the call instruction), with one Line when the snapshot
// symbolized it. Functions are keyed by (name, file); name is the demangled name as the target
// gave it, system_name is left empty (see function_id()). Mappings are the snapshot's, in its order
// (the executable first, as /proc/self/maps lists it), each flagged has_functions /
// has_filenames / has_line_numbers when any of its locations carries them, so pprof does not try
// to symbolize again what the target already did. An address in no mapping gets mapping_id 0,
// which pprof accepts (it then shows the address and whatever Line we give it).
//
// Heap: the snapshot's site figures are already unbiased estimates (the tracker weighs each
// sample by 1/(1-e^(-size/rate))), so they are written as they are, where Go's writer scales raw
// sample counts here. Go's "bytes" label is the object size of a record, exact for Go because
// its records are per (stack, size); ours are per stack, so the label is the site's average
// object size (alloc_bytes / alloc_objects). Allocator and hook frames stay in the stacks and are
// named in drop_frames, which every pprof view applies on reading (tested: `-raw`, `-top`); the
// alternative, cutting them here, would hide from other readers what was captured, and a stack
// made only of such frames is kept whole by pprof's rule (it never prunes past the root).
//
// Goroutines: one sample per distinct (stack, labels) with the number of tasks as its value,
// largest count first (ties by stack id, then labels), labels as string labels. Dead tasks are left
// out, as Go leaves out dead goroutines.
//
// Threads: one sample per thread rather than per (stack, labels), because the thread's name, tid
// and state are labels and would split nearly every group anyway; pprof merges equal stacks in
// every view. threadcreate counts creation stacks (s.thread_creates, exited threads included), the
// profile Go has not filled since 2013; before the thread registry existed there were no creation
// stacks, and snapshots from such a target still get the per-thread form.
#include "src/profile/pprof_builder.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "src/base/call_site.hpp"
#include "src/profile/pprof_strings.hpp"
#include "src/profile/profile.pb.h"
#include "src/profile/profile_symbols.hpp"

namespace lw::profile {
namespace {

namespace pb = leakwatch::pprof;

// Builder accumulates one profile's tables.
class Builder {
 public:
  explicit Builder(const snapshot::Snapshot& s) : sym_(s), strings_(&p_) {
    p_.set_time_nanos(s.time_unix_ns);
    for (const auto& m : s.mappings) {
      pb::Mapping* pm = p_.add_mapping();
      pm->set_id(static_cast<std::uint64_t>(p_.mapping_size()));
      pm->set_memory_start(m.start);
      pm->set_memory_limit(m.limit);
      pm->set_file_offset(m.offset);
      pm->set_filename(strings_.index(m.file));
      pm->set_build_id(strings_.index(m.build_id));
      mapping_ids_.emplace(&m, pm->id());
    }
  }

  std::int64_t str(std::string_view s) { return strings_.index(s); }
  pb::Profile& profile() { return p_; }
  const SnapshotSymbols& symbols() const { return sym_; }

  void value_type(pb::ValueType* vt, std::string_view type, std::string_view unit) {
    vt->set_type(str(type));
    vt->set_unit(str(unit));
  }

  // location_id() returns the Location of `return_address`, adding it on first use.
  std::uint64_t location_id(std::uint64_t return_address) {
    auto it = location_ids_.find(return_address);
    if (it != location_ids_.end()) return it->second;
    pb::Location* l = p_.add_location();
    l->set_id(static_cast<std::uint64_t>(p_.location_size()));
    l->set_address(base::call_site(return_address));
    pb::Mapping* pm = nullptr;
    if (const auto* m = sym_.mapping(return_address)) {
      l->set_mapping_id(mapping_ids_.at(m));
      pm = p_.mutable_mapping(static_cast<int>(l->mapping_id() - 1));
    }
    if (const auto* loc = sym_.location(return_address); loc && !loc->function.empty()) {
      pb::Line* line = l->add_line();
      line->set_function_id(function_id(*loc));
      line->set_line(loc->line);
      if (pm) {
        pm->set_has_functions(true);
        if (!loc->file.empty()) pm->set_has_filenames(true);
        if (loc->line > 0) pm->set_has_line_numbers(true);
      }
    }
    location_ids_.emplace(return_address, l->id());
    return l->id();
  }

  // pseudo_location_id() returns a Location with no address whose one frame is `function`, for
  // samples that have no captured stack (pprof drops a sample without locations from every view).
  std::uint64_t pseudo_location_id(const std::string& function) {
    auto it = pseudo_ids_.find(function);
    if (it != pseudo_ids_.end()) return it->second;
    pb::Location* l = p_.add_location();
    l->set_id(static_cast<std::uint64_t>(p_.location_size()));
    l->add_line()->set_function_id(function_id(snapshot::Location{0, function, "", 0, 0}));
    pseudo_ids_.emplace(function, l->id());
    return l->id();
  }

  // add_sample() adds a sample over `pcs` (innermost first) with `values`.
  pb::Sample* add_sample(const std::vector<std::uint64_t>& pcs,
                         std::initializer_list<std::int64_t> values) {
    pb::Sample* sample = p_.add_sample();
    for (std::uint64_t pc : pcs) sample->add_location_id(location_id(pc));
    for (std::int64_t v : values) sample->add_value(v);
    return sample;
  }

  void string_label(pb::Sample* sample, std::string_view key, std::string_view value) {
    pb::Label* l = sample->add_label();
    l->set_key(str(key));
    l->set_str(str(value));
  }

  void number_label(pb::Sample* sample, std::string_view key, std::int64_t value) {
    pb::Label* l = sample->add_label();
    l->set_key(str(key));
    l->set_num(value);
  }

  std::string serialize() const { return p_.SerializeAsString(); }

 private:
  std::uint64_t function_id(const snapshot::Location& loc) {
    auto key = std::make_pair(loc.function, loc.file);
    auto it = function_ids_.find(key);
    if (it != function_ids_.end()) return it->second;
    pb::Function* f = p_.add_function();
    f->set_id(static_cast<std::uint64_t>(p_.function_size()));
    f->set_name(str(loc.function));
    // system_name stays empty: the snapshot has no mangled name, and pprof re-"demangles" a
    // function whose system_name equals its name, stripping the parameters of C++-looking names
    // ("cache::Store::put"), which would make the default view differ from -symbolize=none.
    f->set_filename(str(loc.file));
    function_ids_.emplace(std::move(key), f->id());
    return f->id();
  }

  SnapshotSymbols sym_;
  pb::Profile p_;
  PprofStrings strings_;
  std::unordered_map<const snapshot::Mapping*, std::uint64_t> mapping_ids_;
  std::unordered_map<std::uint64_t, std::uint64_t> location_ids_;
  std::unordered_map<std::string, std::uint64_t> pseudo_ids_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> function_ids_;
};

// CountKey is one sample of a count profile: a stack and its sorted labels.
using CountKey = std::pair<snapshot::StackId, snapshot::Labels>;

// count_profile() writes Go's count-profile shape (period_type and sample type name/count,
// period 1, as runtime/pprof's printCountProfile) with one sample per key, largest count first.
std::string count_profile(const snapshot::Snapshot& s, std::string_view name,
                          const std::map<CountKey, std::int64_t>& counts) {
  Builder b(s);
  pb::Profile& p = b.profile();
  b.value_type(p.mutable_period_type(), name, "count");
  p.set_period(1);
  b.value_type(p.add_sample_type(), name, "count");
  std::vector<std::pair<const CountKey*, std::int64_t>> order;
  order.reserve(counts.size());
  for (const auto& [k, n] : counts) order.emplace_back(&k, n);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [key, n] : order) {
    pb::Sample* sample = b.add_sample(b.symbols().pcs(key->first), {n});
    for (const auto& [k, v] : key->second) b.string_label(sample, k, v);
  }
  return b.serialize();
}

}  // namespace

std::string heap_pprof(const snapshot::Snapshot& s, HeapView view) {
  Builder b(s);
  pb::Profile& p = b.profile();
  b.value_type(p.mutable_period_type(), "space", "bytes");
  p.set_period(s.heap.sample_rate);
  b.value_type(p.add_sample_type(), "alloc_objects", "count");
  b.value_type(p.add_sample_type(), "alloc_space", "bytes");
  b.value_type(p.add_sample_type(), "inuse_objects", "count");
  b.value_type(p.add_sample_type(), "inuse_space", "bytes");
  p.set_default_sample_type(b.str(view == HeapView::kInuse ? "inuse_space" : "alloc_space"));
  p.set_drop_frames(b.str(kAllocatorFrames));
  for (const auto& site : s.heap.sites) {
    if (site.alloc_objects == 0 && site.alloc_bytes == 0 && site.inuse_objects == 0 &&
        site.inuse_bytes == 0)
      continue;
    pb::Sample* sample =
        b.add_sample(b.symbols().pcs(site.stack_id),
                     {site.alloc_objects, site.alloc_bytes, site.inuse_objects, site.inuse_bytes});
    if (site.alloc_objects > 0 && site.alloc_bytes / site.alloc_objects != 0)
      b.number_label(sample, "bytes", site.alloc_bytes / site.alloc_objects);
    for (const auto& [k, v] : site.labels) b.string_label(sample, k, v);
  }
  return b.serialize();
}

std::string goroutine_pprof(const snapshot::Snapshot& s, TaskSelection which) {
  // Grouped by stack id (the interner gives equal stacks one id) and sorted labels.
  std::map<CountKey, std::int64_t> counts;
  for (const auto& t : s.tasks) {
    if (t.state == snapshot::TaskState::kDead) continue;
    if (which == TaskSelection::kLeaked && !t.leaked) continue;
    snapshot::Labels labels = t.labels;
    std::sort(labels.begin(), labels.end());
    ++counts[CountKey(t.stack_id, std::move(labels))];
  }
  return count_profile(s, which == TaskSelection::kLeaked ? "goroutineleak" : "goroutine", counts);
}

std::string custom_pprof(const snapshot::Snapshot& s, const snapshot::CustomProfile& profile) {
  std::map<CountKey, std::int64_t> counts;
  for (const auto& sample : profile.samples)
    if (sample.count > 0) counts[CountKey(sample.stack_id, {})] += sample.count;
  return count_profile(s, profile.name, counts);
}

std::string threads_pprof(const snapshot::Snapshot& s, ThreadSelection which,
                          bool include_internal) {
  Builder b(s);
  pb::Profile& p = b.profile();
  const char* name = which == ThreadSelection::kLeaked ? "threadleak" : "threads";
  b.value_type(p.mutable_period_type(), name, "count");
  p.set_period(1);
  b.value_type(p.add_sample_type(), name, "count");
  for (const auto& t : s.threads) {
    if (!thread_selected(t, which, include_internal)) continue;
    const auto& pcs = b.symbols().pcs(t.stack_id);
    pb::Sample* sample = b.add_sample(pcs, {1});
    if (pcs.empty())
      sample->add_location_id(b.pseudo_location_id("[" + thread_state_name(t) + "]"));
    b.string_label(sample, "thread", t.name);
    b.string_label(sample, "state", snapshot::to_string(t.state));
    if (!t.wait_reason.empty()) b.string_label(sample, "wait_reason", t.wait_reason);
    for (const auto& [k, v] : t.labels) b.string_label(sample, k, v);
    b.number_label(sample, "tid", t.tid);
  }
  return b.serialize();
}

std::string cpu_pprof(const snapshot::Snapshot& s, const std::vector<CpuSampleRecord>& samples, std::int64_t period_ns,
                      std::int64_t duration_ns) {
  Builder b(s);
  pb::Profile& p = b.profile();
  b.value_type(p.mutable_period_type(), "cpu", "nanoseconds");
  p.set_period(period_ns);
  p.set_duration_nanos(duration_ns);
  b.value_type(p.add_sample_type(), "samples", "count");
  b.value_type(p.add_sample_type(), "cpu", "nanoseconds");
  for (const CpuSampleRecord& r : samples) {
    if (r.count <= 0) continue;
    const auto& pcs = b.symbols().pcs(r.stack_id);
    pb::Sample* sample = b.add_sample(pcs, {r.count, r.count * period_ns});
    if (pcs.empty()) sample->add_location_id(b.pseudo_location_id("[unknown]"));
    for (const auto& [k, v] : r.labels) b.string_label(sample, k, v);
  }
  return b.serialize();
}

std::string contention_pprof(const snapshot::Snapshot& s, base::ContentionProfile which) {
  Builder b(s);
  pb::Profile& p = b.profile();
  b.value_type(p.mutable_period_type(), "contentions", "count");
  p.set_period(1);
  b.value_type(p.add_sample_type(), "contentions", "count");
  b.value_type(p.add_sample_type(), "delay", "nanoseconds");
  for (const snapshot::ContentionSite& r : (which == base::ContentionProfile::kMutex ? s.mutex : s.block).sites) {
    if (r.count <= 0) continue;
    const auto& pcs = b.symbols().pcs(r.stack_id);
    pb::Sample* sample = b.add_sample(pcs, {r.count, r.delay_ns});
    if (pcs.empty()) sample->add_location_id(b.pseudo_location_id("[unknown]"));
    for (const auto& [k, v] : r.labels) b.string_label(sample, k, v);
  }
  return b.serialize();
}

std::string threadcreate_pprof(const snapshot::Snapshot& s) {
  Builder b(s);
  pb::Profile& p = b.profile();
  b.value_type(p.mutable_period_type(), "threadcreate", "count");
  p.set_period(1);
  b.value_type(p.add_sample_type(), "threadcreate", "count");
  if (s.threads_tracked) {
    for (const auto& site : s.thread_creates) {
      if (site.count <= 0) continue;
      const auto& pcs = b.symbols().pcs(site.stack_id);
      pb::Sample* sample = b.add_sample(pcs, {site.count});
      if (pcs.empty()) sample->add_location_id(b.pseudo_location_id("[no creation stack]"));
    }
    return b.serialize();
  }
  // No creation stacks (a snapshot taken without the thread registry): each thread's stack is one
  // pseudo-frame naming it ("thread lw-worker-0"), with tid and name labels.
  for (const auto& t : s.threads) {
    pb::Sample* sample = b.add_sample({}, {1});
    sample->add_location_id(
        b.pseudo_location_id(t.name.empty() ? std::string("thread") : "thread " + t.name));
    b.number_label(sample, "tid", t.tid);
    if (!t.name.empty()) b.string_label(sample, "thread", t.name);
    if (t.runtime_worker) b.string_label(sample, "role", "runtime worker");
  }
  return b.serialize();
}

}  // namespace lw::profile
