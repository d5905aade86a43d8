// synthetic_snapshot.hpp: a hand-built Snapshot for the profile writer tests: two mappings, heap
// sites behind allocator and hook frames, tasks in every state with labels, leaked and not, an
// address in no mapping and one with no symbol. For tests only; allocates.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "src/snapshot/model.hpp"
#include "tests/integration/run_command.hpp"

namespace lw::test {

inline constexpr std::int64_t kSnapshotTime = 1'700'000'000'000'000'000;  // Unix ns
inline constexpr std::uint64_t kUnmapped = 0x900010;  // in no mapping, no symbol
inline constexpr std::uint64_t kUnknown = 0x4ffff0;   // in the executable, no symbol

// Return addresses of the synthetic program (symbolized at address - 1).
enum Pc : std::uint64_t {
  kHook = 0x401010,
  kMalloc = 0x7f0000001010,
  kNew = 0x401110,
  kPut = 0x401310,
  kHandle = 0x401410,
  kMain = 0x401510,
  kWorker = 0x401610,
  kPark = 0x402010,
  kRecv = 0x402020,
  kConsume = 0x402030,
  kEntry = 0x402040,
  kSend = 0x402050,
  kProduce = 0x402060,
  kGo = 0x402070,
  kPipeline = 0x402080,
  kWait = 0x402090,
  kRunMain = 0x4020a0,
  kCompute = 0x4020b0,
};

inline snapshot::Snapshot synthetic_snapshot(std::int64_t rate = 1) {
  using namespace snapshot;
  Snapshot s;
  s.time_unix_ns = kSnapshotTime;
  s.process.pid = 4242;
  s.mappings = {
      {0x400000, 0x500000, 0, "/usr/bin/svc", "b1d0"},
      {0x7f0000000000, 0x7f0000100000, 0x1000, "/usr/lib/x86_64-linux-gnu/libc.so.6", ""}};
  auto loc = [&](std::uint64_t a, std::string f, std::string file, std::int64_t line) {
    std::uint64_t start = a >= 0x7f0000000000 ? 0x7f0000000000 : 0x400000;
    s.locations.push_back({a, std::move(f), std::move(file), line, start});
  };
  loc(kHook, "lw::heap::(anonymous namespace)::record_sample(unsigned long)", "/src/heap/hook.cpp",
      51);
  loc(kMalloc, "malloc", "", 0);
  loc(kNew, "operator new(unsigned long)", "", 0);
  loc(kPut, "cache::Store::put(std::string const&)", "/src/cache.cpp", 42);
  loc(kHandle, "handle_request(Request const&)", "/src/server.cpp", 88);
  loc(kMain, "main", "/src/main.cpp", 10);
  loc(kWorker, "leaky_worker()", "/src/worker.cpp", 17);
  loc(kPark, "lw::runtime::park(lw::WaitReason)", "/src/runtime/park.cpp", 30);
  loc(kRecv, "lw::Chan<int>::recv()", "/include/leakwatch/chan.hpp", 120);
  loc(kConsume, "consume(lw::Chan<int>)", "/src/consumer.cpp", 21);
  loc(kEntry, "lw::runtime::task_entry(void*)", "/src/runtime/task.cpp", 77);
  loc(kSend, "lw::Chan<int>::send(int)", "/include/leakwatch/chan.hpp", 98);
  loc(kProduce, "produce(lw::Chan<int>, int)", "/src/producer.cpp", 33);
  loc(kGo, "lw::TaskId lw::go<start_pipeline()::{lambda()#1}>(start_pipeline()::{lambda()#1}&&)",
      "/include/leakwatch/go.hpp", 60);
  loc(kPipeline, "start_pipeline()", "/src/pipeline.cpp", 12);
  loc(kWait, "lw::WaitGroup::wait()", "/src/runtime/waitgroup.cpp", 44);
  loc(kRunMain, "run_main()", "/src/main.cpp", 30);
  loc(kCompute, "compute(int)", "/src/compute.cpp", 5);

  s.stacks = {
      {1, {kHook, kMalloc, kNew, kPut, kHandle, kMain}},
      {2, {kHook, kMalloc, kWorker, kMain}},
      {3, {kUnmapped, kUnknown, kMain}},
      {4, {kPark, kRecv, kConsume, kEntry}},
      {5, {kPark, kSend, kProduce, kEntry}},
      {6, {kGo, kPipeline, kRunMain, kMain}},
      {7, {kPark, kWait, kRunMain, kMain}},
      {8, {kCompute, kEntry}},
  };

  s.heap.sample_rate = rate;
  s.heap.sites = {
      // stack, alloc objects/bytes, inuse objects/bytes
      {1, 10, 640, 4, 256},
      {2, 3, 3072, 3, 3072},
      {3, 1, 100, 0, 0},
  };

  constexpr std::int64_t kSec = 1'000'000'000;
  auto task = [&](std::uint64_t id, TaskState st, std::string reason, std::int64_t waited_s,
                  StackId stack, StackId create, Labels labels, bool leaked) {
    TaskRecord t;
    t.id = id;
    t.parent_id = id == 1 ? 0 : 1;
    t.state = st;
    t.wait_reason = std::move(reason);
    t.wait_since_unix_ns = st == TaskState::kWaiting ? kSnapshotTime - waited_s * kSec : 0;
    t.stack_id = stack;
    t.create_stack_id = create;
    t.labels = std::move(labels);
    t.leaked = leaked;
    if (leaked) t.leak_reason = "no other handle of the channel remains";
    s.tasks.push_back(std::move(t));
  };
  const Labels consume = {{"stage", "consume"}};
  const Labels produce = {{"stage", "produce"}, {"req", "42"}};
  task(1, TaskState::kWaiting, "sync.WaitGroup.Wait", 90, 7, 0, {}, false);
  task(2, TaskState::kWaiting, "chan receive", 5 * 60 + 7, 4, 6, consume, false);
  task(3, TaskState::kWaiting, "chan receive", 5 * 60 + 7, 4, 6, consume, false);
  task(4, TaskState::kWaiting, "chan receive", 5 * 60 + 7, 4, 6, consume, true);
  task(5, TaskState::kWaiting, "chan send", 3, 5, 6, produce, true);
  task(6, TaskState::kWaiting, "chan send", 3, 5, 6, {{"req", "42"}, {"stage", "produce"}}, true);
  task(7, TaskState::kRunning, "", 0, 8, 6, {}, false);
  task(8, TaskState::kDead, "", 0, 8, 6, {}, false);

  s.threads = {thread_record(4242, "svc"), thread_record(4243, "lw-worker-0", true),
               thread_record(4244, "lw-worker-1", true)};

  s.mem.alloc = s.mem.heap_alloc = 3328;
  s.mem.total_alloc = 3812;
  s.mem.sys = 8 << 20;
  s.mem.mallocs = 14;
  s.mem.frees = 7;
  s.mem.heap_sys = 4 << 20;
  s.mem.heap_idle = 1 << 20;
  s.mem.heap_inuse = 3 << 20;
  s.mem.heap_released = 512 << 10;
  s.mem.heap_objects = 7;
  s.mem.stack_inuse = 65536;
  s.mem.stack_sys = 1 << 20;
  s.mem.num_tasks = 7;
  s.mem.num_threads = 3;
  s.mem.rss = 12 << 20;
  s.mem.max_rss = 13 << 20;
  return s;
}

// temp_dir() is one directory for this test run's files, removed when the run ends.
inline const std::string& temp_dir() {
  struct Dir {
    std::string path = make_temp_dir("profile");
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

// write_file() writes `data` to `path`.
inline void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

// pprof() runs `go tool pprof ARGS` offline and returns its standard output; the exit code and
// standard error go to `*exit_code` / are appended to the output on failure.
inline CommandResult pprof(const std::string& args) {
  // GOCACHE/HOME: the go command wants a writable cache directory; PPROF_TMPDIR keeps pprof's
  // own files out of $HOME. -symbolize=none keeps it from looking for binaries or the network.
  return run_command(
      "cd /tmp && HOME=/tmp GOCACHE=/tmp/lw_gocache PPROF_TMPDIR=/tmp "
      "go tool pprof -symbolize=none " +
      args + " 2>/dev/null");
}

}  // namespace lw::test
