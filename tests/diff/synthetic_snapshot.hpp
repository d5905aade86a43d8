// synthetic_snapshot.hpp: builds Snapshot values by hand for the store, differ and CLI tests.
// For tests only; allocates.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "src/snapshot/model.hpp"

namespace lw::test {

class SnapshotBuilder {
 public:
  static constexpr std::int64_t kMinute = 60'000'000'000LL;

  SnapshotBuilder(std::int64_t time_unix_ns, std::string instance_id = "run-1", std::int64_t pid = 100) {
    s_.time_unix_ns = time_unix_ns;
    s_.process.pid = pid;
    s_.process.instance_id = std::move(instance_id);
    s_.process.start_time_unix_ns = 1'700'000'000'000'000'000LL;
    s_.process.executable = "/usr/bin/service";
    s_.heap.sample_rate = 1;
  }

  // stack() interns function names (innermost first); each name gets a fixed address.
  snapshot::StackId stack(const std::vector<std::string>& functions) {
    if (functions.empty()) return 0;
    std::vector<std::uint64_t> pcs;
    for (const std::string& f : functions) {
      std::uint64_t addr = 0x400000 + (std::hash<std::string>{}(f) & 0xffffff) * 16;
      pcs.push_back(addr);
      bool known = false;
      for (const auto& l : s_.locations) known = known || l.address == addr;
      if (!known) s_.locations.push_back({addr, f, "service.cpp", 10, 0});
    }
    for (const auto& st : s_.stacks)
      if (st.pcs == pcs) return st.id;
    snapshot::StackId id = s_.stacks.size() + 1;
    s_.stacks.push_back({id, pcs});
    return id;
  }

  SnapshotBuilder& sample_rate(std::int64_t rate) {
    s_.heap.sample_rate = rate;
    return *this;
  }
  SnapshotBuilder& site(const std::vector<std::string>& functions, std::int64_t inuse_bytes,
                        std::int64_t inuse_objects = 1) {
    s_.heap.sites.push_back({stack(functions), inuse_objects, inuse_bytes, inuse_objects, inuse_bytes});
    s_.mem.heap_alloc += static_cast<std::uint64_t>(inuse_bytes);
    s_.mem.alloc = s_.mem.heap_alloc;
    s_.mem.heap_objects += static_cast<std::uint64_t>(inuse_objects);
    return *this;
  }
  // custom() adds `count` live keys of custom profile `name` at stack `at`.
  SnapshotBuilder& custom(const std::string& name, const std::vector<std::string>& at, std::int64_t count) {
    snapshot::CustomProfile* p = nullptr;
    for (auto& c : s_.custom_profiles)
      if (c.name == name) p = &c;
    if (p == nullptr) {
      s_.custom_profiles.push_back({name, 0, 0, {}});
      p = &s_.custom_profiles.back();
    }
    p->samples.push_back({stack(at), count});
    p->count += count;
    return *this;
  }
  SnapshotBuilder& heap_alloc(std::uint64_t bytes) {
    s_.mem.heap_alloc = s_.mem.alloc = bytes;
    return *this;
  }
  // task() adds one task; a non-empty wait reason makes it waiting.
  SnapshotBuilder& task(std::uint64_t id, const std::string& wait_reason, std::uint64_t switch_count,
                        const std::vector<std::string>& at, const std::vector<std::string>& created_at,
                        bool leaked = false) {
    snapshot::TaskRecord t;
    t.id = id;
    t.parent_id = 1;
    t.state = wait_reason.empty() ? snapshot::TaskState::kRunnable : snapshot::TaskState::kWaiting;
    t.wait_reason = wait_reason;
    t.wait_since_unix_ns = wait_reason.empty() ? 0 : 1'700'000'000'000'000'000LL + static_cast<std::int64_t>(switch_count);
    t.switch_count = switch_count;
    t.stack_id = stack(at);
    t.create_stack_id = stack(created_at);
    t.leaked = leaked;
    if (leaked) t.leak_reason = "every handle of its channel is held by leaked tasks";
    s_.tasks.push_back(std::move(t));
    s_.mem.num_tasks = s_.tasks.size();
    return *this;
  }

  // syscall_task() adds a task inside a blocking call (lw::BlockingCall) since `since`.
  SnapshotBuilder& syscall_task(std::uint64_t id, std::int64_t since, std::uint64_t switch_count,
                                const std::vector<std::string>& at, const std::vector<std::string>& created_at) {
    task(id, "", switch_count, at, created_at);
    s_.tasks.back().state = snapshot::TaskState::kSyscall;
    s_.tasks.back().wait_since_unix_ns = since;
    return *this;
  }

  // named_thread() adds one OS thread of the tracked thread table at stack `at`; a non-empty wait
  // reason makes it waiting since the snapshot's time minus `waited_ns`.
  SnapshotBuilder& named_thread(std::int64_t tid, const std::string& name, const std::string& wait_reason,
                                std::int64_t waited_ns, const std::vector<std::string>& at, bool leaked = false,
                                bool internal = false) {
    snapshot::ThreadRecord t = snapshot::thread_record(tid, name);
    t.state = wait_reason.empty() ? snapshot::ThreadState::kRunning : snapshot::ThreadState::kWaiting;
    t.wait_reason = wait_reason;
    t.wait_since_unix_ns = wait_reason.empty() ? 0 : s_.time_unix_ns - waited_ns;
    t.stack_id = stack(at);
    t.internal = internal;
    t.leaked = leaked;
    if (leaked) t.leak_reason = "deadlock";
    s_.threads.push_back(std::move(t));
    s_.threads_tracked = true;
    ++s_.threads_created;
    s_.mem.num_threads = s_.threads.size();
    return *this;
  }

  // thread() adds one OS thread, running and joinable, created by thread 1 at `created_at`, and
  // returns it for the test to set its state, wait and CPU time. The reference is valid until
  // the next thread() call.
  snapshot::ThreadRecord& thread(std::int64_t tid, const std::vector<std::string>& at,
                                 const std::vector<std::string>& created_at) {
    snapshot::ThreadRecord t = snapshot::thread_record(tid, "worker-" + std::to_string(tid));
    t.creator_tid = 1;
    t.start_time_unix_ns = 1'700'000'000'000'000'000LL;
    t.join = snapshot::JoinState::kJoinable;
    t.stack_id = stack(at);
    t.create_stack_id = stack(created_at);
    s_.threads.push_back(std::move(t));
    s_.threads_tracked = true;
    s_.mem.num_threads = s_.threads.size();
    return s_.threads.back();
  }
  // waiting_thread() adds a thread in an interposed wait (exact start `since`) on `object`.
  snapshot::ThreadRecord& waiting_thread(std::int64_t tid, const std::string& reason, std::int64_t since,
                                         std::uint64_t object, std::uint64_t cpu_ns,
                                         const std::vector<std::string>& at,
                                         const std::vector<std::string>& created_at) {
    snapshot::ThreadRecord& t = thread(tid, at, created_at);
    t.state = snapshot::ThreadState::kWaiting;
    t.wait_reason = reason;
    t.wait_since_unix_ns = since;
    t.wait_object = object;
    t.cpu_ns = cpu_ns;
    return t;
  }
  // syscall_thread() adds a thread blocked in system call `name` (no exact start known).
  snapshot::ThreadRecord& syscall_thread(std::int64_t tid, const std::string& name, std::uint64_t cpu_ns,
                                         const std::vector<std::string>& at,
                                         const std::vector<std::string>& created_at) {
    snapshot::ThreadRecord& t = thread(tid, at, created_at);
    t.state = snapshot::ThreadState::kSyscall;
    t.wait_reason = name;
    t.cpu_ns = cpu_ns;
    return t;
  }
  // thread_created() counts `n` threads ever created at `created_at` (Snapshot::thread_creates).
  SnapshotBuilder& thread_created(const std::vector<std::string>& created_at, std::int64_t n) {
    s_.thread_creates.push_back({stack(created_at), n});
    s_.threads_created += static_cast<std::uint64_t>(n);
    return *this;
  }

  const snapshot::Snapshot& get() const { return s_; }

 private:
  snapshot::Snapshot s_;
};

}  // namespace lw::test
