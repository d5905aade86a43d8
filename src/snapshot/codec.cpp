#include "src/snapshot/codec.hpp"

#include "src/snapshot/snapshot.pb.h"

namespace lw::snapshot {
namespace pb = ::leakwatch::snapshot::v1;

#define LW_MEMSTATS_FIELDS(X)                                                              \
  X(alloc) X(total_alloc) X(sys) X(mallocs) X(frees) X(heap_alloc) X(heap_sys) X(heap_idle) \
  X(heap_inuse) X(heap_released) X(heap_objects) X(stack_inuse) X(stack_sys) X(num_tasks)  \
  X(num_threads) X(rss) X(max_rss) X(self_bytes)

namespace {

// Task and thread records and heap sites carry their labels alike.
template <typename Record>
void add_labels(Record* r, const Labels& labels) {
  for (const auto& [k, v] : labels) {
    pb::Label* l = r->add_labels();
    l->set_key(k);
    l->set_value(v);
  }
}

template <typename Record>
Labels read_labels(const Record& r) {
  Labels out;
  for (const pb::Label& l : r.labels()) out.emplace_back(l.key(), l.value());
  return out;
}

}  // namespace

std::string encode(const Snapshot& s) {
  pb::Snapshot m;
  m.set_format_version(s.format_version);
  m.set_time_unix_ns(s.time_unix_ns);
  m.set_capture_pause_ns(s.capture_pause_ns);
  m.set_leaked_tasks(s.leaked_tasks);

  pb::ProcessInfo* p = m.mutable_process();
  p->set_pid(s.process.pid);
  p->set_start_time_unix_ns(s.process.start_time_unix_ns);
  p->set_instance_id(s.process.instance_id);
  p->set_executable(s.process.executable);
  for (const std::string& arg : s.process.cmdline) p->add_cmdline(arg);

  pb::MemStats* mem = m.mutable_mem();
#define X(f) mem->set_##f(s.mem.f);
  LW_MEMSTATS_FIELDS(X)
#undef X

  pb::HeapProfile* heap = m.mutable_heap();
  heap->set_sample_rate(s.heap.sample_rate);
  heap->set_dropped_samples(s.heap.dropped_samples);
  for (const HeapSite& site : s.heap.sites) {
    pb::HeapSite* h = heap->add_sites();
    h->set_stack_id(site.stack_id);
    h->set_alloc_objects(site.alloc_objects);
    h->set_alloc_bytes(site.alloc_bytes);
    h->set_inuse_objects(site.inuse_objects);
    h->set_inuse_bytes(site.inuse_bytes);
    add_labels(h, site.labels);
  }

  for (auto [from, to] : {std::pair{&s.block, m.mutable_block()}, std::pair{&s.mutex, m.mutable_mutex()}}) {
    to->set_rate(from->rate);
    to->set_dropped_events(from->dropped_events);
    for (const ContentionSite& site : from->sites) {
      pb::ContentionSite* c = to->add_sites();
      c->set_stack_id(site.stack_id);
      c->set_count(site.count);
      c->set_delay_ns(site.delay_ns);
      add_labels(c, site.labels);
    }
  }

  for (const TaskRecord& t : s.tasks) {
    pb::TaskRecord* r = m.add_tasks();
    r->set_id(t.id);
    r->set_parent_id(t.parent_id);
    r->set_state(static_cast<pb::TaskState>(t.state));
    r->set_wait_reason(t.wait_reason);
    r->set_wait_since_unix_ns(t.wait_since_unix_ns);
    r->set_wait_object(t.wait_object);
    r->set_switch_count(t.switch_count);
    r->set_stack_id(t.stack_id);
    r->set_create_stack_id(t.create_stack_id);
    add_labels(r, t.labels);
    r->set_leaked(t.leaked);
    r->set_leak_reason(t.leak_reason);
  }
  for (const ThreadRecord& t : s.threads) {
    pb::ThreadRecord* r = m.add_threads();
    r->set_tid(t.tid);
    r->set_name(t.name);
    r->set_runtime_worker(t.runtime_worker);
    r->set_internal(t.internal);
    r->set_state(static_cast<pb::ThreadState>(t.state));
    r->set_wait_reason(t.wait_reason);
    r->set_wait_since_unix_ns(t.wait_since_unix_ns);
    r->set_wait_object(t.wait_object);
    r->set_wait_detail(t.wait_detail);
    r->set_timed_wait(t.timed_wait);
    r->set_creator_tid(t.creator_tid);
    r->set_creator_task(t.creator_task);
    r->set_start_time_unix_ns(t.start_time_unix_ns);
    r->set_exit_time_unix_ns(t.exit_time_unix_ns);
    r->set_join(static_cast<pb::JoinState>(t.join));
    r->set_cpu_ns(t.cpu_ns);
    r->set_stack_id(t.stack_id);
    r->set_stack_error(t.stack_error);
    r->set_create_stack_id(t.create_stack_id);
    add_labels(r, t.labels);
    r->set_leaked(t.leaked);
    r->set_leak_reason(t.leak_reason);
  }
  for (const ThreadCreateSite& c : s.thread_creates) {
    pb::ThreadCreateSite* r = m.add_thread_creates();
    r->set_stack_id(c.stack_id);
    r->set_count(c.count);
  }
  m.set_threads_created(s.threads_created);
  m.set_leaked_threads(s.leaked_threads);
  m.set_threads_tracked(s.threads_tracked);
  m.set_dropped_label_sets(s.dropped_label_sets);
  for (const CustomProfile& cp : s.custom_profiles) {
    pb::CustomProfile* r = m.add_custom_profiles();
    r->set_name(cp.name);
    r->set_count(cp.count);
    r->set_dropped_adds(cp.dropped_adds);
    for (const CustomSample& c : cp.samples) {
      pb::CustomSample* sample = r->add_samples();
      sample->set_stack_id(c.stack_id);
      sample->set_count(c.count);
    }
  }
  m.set_dropped_custom_profiles(s.dropped_custom_profiles);
  for (const Stack& st : s.stacks) {
    pb::Stack* r = m.add_stacks();
    r->set_id(st.id);
    for (std::uint64_t pc : st.pcs) r->add_pcs(pc);
  }
  for (const Location& l : s.locations) {
    pb::Location* r = m.add_locations();
    r->set_address(l.address);
    r->set_function(l.function);
    r->set_file(l.file);
    r->set_line(l.line);
    r->set_mapping_start(l.mapping_start);
  }
  for (const Mapping& mp : s.mappings) {
    pb::Mapping* r = m.add_mappings();
    r->set_start(mp.start);
    r->set_limit(mp.limit);
    r->set_offset(mp.offset);
    r->set_file(mp.file);
    r->set_build_id(mp.build_id);
  }
  return m.SerializeAsString();
}

Result<Snapshot> decode(std::string_view bytes) {
  pb::Snapshot m;
  if (bytes.empty()) return make_error("snapshot is empty");
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return make_error("snapshot is truncated or not a leakwatch snapshot (" +
                      std::to_string(bytes.size()) + " bytes)");
  if (m.format_version() == 0 || m.format_version() > kFormatVersion)
    return make_error("snapshot format version " + std::to_string(m.format_version()) +
                      " is not supported (this build reads 1.." + std::to_string(kFormatVersion) + ")");
  Snapshot s;
  s.format_version = m.format_version();
  s.time_unix_ns = m.time_unix_ns();
  s.capture_pause_ns = m.capture_pause_ns();
  s.leaked_tasks = m.leaked_tasks();

  const pb::ProcessInfo& p = m.process();
  s.process.pid = p.pid();
  s.process.start_time_unix_ns = p.start_time_unix_ns();
  s.process.instance_id = p.instance_id();
  s.process.executable = p.executable();
  s.process.cmdline.assign(p.cmdline().begin(), p.cmdline().end());

  const pb::MemStats& mem = m.mem();
#define X(f) s.mem.f = mem.f();
  LW_MEMSTATS_FIELDS(X)
#undef X

  s.heap.sample_rate = m.heap().sample_rate();
  s.heap.dropped_samples = m.heap().dropped_samples();
  s.heap.sites.reserve(static_cast<std::size_t>(m.heap().sites_size()));
  for (const pb::HeapSite& h : m.heap().sites())
    s.heap.sites.push_back({h.stack_id(), h.alloc_objects(), h.alloc_bytes(), h.inuse_objects(),
                            h.inuse_bytes(), read_labels(h)});

  for (auto [from, to] : {std::pair{&m.block(), &s.block}, std::pair{&m.mutex(), &s.mutex}}) {
    to->rate = from->rate();
    to->dropped_events = from->dropped_events();
    to->sites.reserve(static_cast<std::size_t>(from->sites_size()));
    for (const pb::ContentionSite& c : from->sites())
      to->sites.push_back({c.stack_id(), c.count(), c.delay_ns(), read_labels(c)});
  }

  s.tasks.reserve(static_cast<std::size_t>(m.tasks_size()));
  for (const pb::TaskRecord& r : m.tasks()) {
    TaskRecord t;
    t.id = r.id();
    t.parent_id = r.parent_id();
    if (r.state() < pb::TASK_STATE_RUNNABLE || r.state() > pb::TASK_STATE_DEAD)
      return make_error("snapshot has a task with an unknown state " + std::to_string(r.state()));
    t.state = static_cast<TaskState>(r.state());
    t.wait_reason = r.wait_reason();
    t.wait_since_unix_ns = r.wait_since_unix_ns();
    t.wait_object = r.wait_object();
    t.switch_count = r.switch_count();
    t.stack_id = r.stack_id();
    t.create_stack_id = r.create_stack_id();
    t.labels = read_labels(r);
    t.leaked = r.leaked();
    t.leak_reason = r.leak_reason();
    s.tasks.push_back(std::move(t));
  }
  s.threads.reserve(static_cast<std::size_t>(m.threads_size()));
  for (const pb::ThreadRecord& r : m.threads()) {
    ThreadRecord t;
    t.tid = r.tid();
    t.name = r.name();
    t.runtime_worker = r.runtime_worker();
    t.internal = r.internal();
    if (r.state() < pb::THREAD_STATE_RUNNING || r.state() > pb::THREAD_STATE_EXITED)
      return make_error("snapshot has a thread with an unknown state " + std::to_string(r.state()));
    t.state = static_cast<ThreadState>(r.state());
    t.wait_reason = r.wait_reason();
    t.wait_since_unix_ns = r.wait_since_unix_ns();
    t.wait_object = r.wait_object();
    t.wait_detail = r.wait_detail();
    t.timed_wait = r.timed_wait();
    t.creator_tid = r.creator_tid();
    t.creator_task = r.creator_task();
    t.start_time_unix_ns = r.start_time_unix_ns();
    t.exit_time_unix_ns = r.exit_time_unix_ns();
    if (r.join() < pb::JOIN_STATE_JOINABLE || r.join() > pb::JOIN_STATE_UNKNOWN)
      return make_error("snapshot has a thread with an unknown join state " + std::to_string(r.join()));
    t.join = static_cast<JoinState>(r.join());
    t.cpu_ns = r.cpu_ns();
    t.stack_id = r.stack_id();
    t.stack_error = r.stack_error();
    t.create_stack_id = r.create_stack_id();
    t.labels = read_labels(r);
    t.leaked = r.leaked();
    t.leak_reason = r.leak_reason();
    s.threads.push_back(std::move(t));
  }
  for (const pb::ThreadCreateSite& r : m.thread_creates()) s.thread_creates.push_back({r.stack_id(), r.count()});
  s.threads_created = m.threads_created();
  s.leaked_threads = m.leaked_threads();
  s.threads_tracked = m.threads_tracked();
  s.dropped_label_sets = m.dropped_label_sets();
  for (const pb::CustomProfile& r : m.custom_profiles()) {
    CustomProfile cp{r.name(), r.count(), r.dropped_adds(), {}};
    for (const pb::CustomSample& c : r.samples()) cp.samples.push_back({c.stack_id(), c.count()});
    s.custom_profiles.push_back(std::move(cp));
  }
  s.dropped_custom_profiles = m.dropped_custom_profiles();
  s.stacks.reserve(static_cast<std::size_t>(m.stacks_size()));
  for (const pb::Stack& r : m.stacks())
    s.stacks.push_back({r.id(), std::vector<std::uint64_t>(r.pcs().begin(), r.pcs().end())});
  s.locations.reserve(static_cast<std::size_t>(m.locations_size()));
  for (const pb::Location& r : m.locations())
    s.locations.push_back({r.address(), r.function(), r.file(), r.line(), r.mapping_start()});
  for (const pb::Mapping& r : m.mappings())
    s.mappings.push_back({r.start(), r.limit(), r.offset(), r.file(), r.build_id()});
  return s;
}

}  // namespace lw::snapshot
