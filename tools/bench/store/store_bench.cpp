// store_bench: what a watcher pays per snapshot on the analysis side, and what a diff costs.
//
//   store_bench [--tasks N] [--sites N] [--threads N] [--series N] [--series-tasks N] [--series-sites N]
//
// 1. One big snapshot (default 100k tasks, 10k heap sites, 200 OS threads, ~20-frame stacks): encode, decode
//    (what the CLI does with the HTTP body), and Store::add_snapshot, beside two peers measured in
//    the same run: inserting only the blob into SQLite (the floor for "store it as is") and writing
//    the blob to a plain file with fsync.
// 2. A diff over a series (default 100 snapshots of 2k tasks and 1k sites): the CLI's analyze()
//    (tables -> series -> verdicts), beside the peer of decoding the 100 blobs it avoids.
// Each result is one JSON line.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "src/snapshot/codec.hpp"
#include "src/store/store.hpp"
#include "tools/leakwatch/analysis.hpp"

using namespace lw;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// cpu_ms() is this process's CPU time: on a shared machine it moves less with other load.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// make_snapshot() builds a snapshot shaped like a big service: `tasks` tasks over 500 distinct
// stacks (a third waiting on channels), `sites` heap sites each with its own stack, `threads` OS
// threads on the task stacks (half in a condition wait, a quarter in epoll_wait), 20 frames deep,
// every address symbolized.
snapshot::Snapshot make_snapshot(int tasks, int sites, int index, const std::string& run, int threads) {
  snapshot::Snapshot s;
  s.time_unix_ns = 1'700'000'000'000'000'000LL + static_cast<std::int64_t>(index) * 60'000'000'000LL;
  s.process.pid = 4242;
  s.process.instance_id = run;
  s.heap.sample_rate = 512 * 1024;
  auto add_stack = [&](std::uint64_t seed) {
    snapshot::Stack st;
    st.id = s.stacks.size() + 1;
    for (int f = 0; f < 20; ++f) st.pcs.push_back(0x400000 + ((seed * 131 + static_cast<std::uint64_t>(f) * 7919) % 200'000) * 16);
    s.stacks.push_back(std::move(st));
    return s.stacks.back().id;
  };
  std::vector<snapshot::StackId> task_stacks;
  for (int k = 0; k < 500; ++k) task_stacks.push_back(add_stack(static_cast<std::uint64_t>(k)));
  for (int k = 0; k < sites; ++k) {
    snapshot::HeapSite h;
    h.stack_id = add_stack(static_cast<std::uint64_t>(1000 + k));
    h.inuse_bytes = 4096 + (k % 97) * 512 + (k == 0 ? index * 100'000 : 0);
    h.inuse_objects = 1 + k % 13;
    h.alloc_bytes = h.inuse_bytes * 3;
    h.alloc_objects = h.inuse_objects * 3;
    s.heap.sites.push_back(h);
  }
  for (const auto& st : s.stacks)
    for (std::uint64_t pc : st.pcs)
      if (s.locations.empty() || s.locations.back().address != pc) s.locations.push_back({pc, "", "svc.cpp", 1, 0});
  std::sort(s.locations.begin(), s.locations.end(), [](auto& a, auto& b) { return a.address < b.address; });
  s.locations.erase(std::unique(s.locations.begin(), s.locations.end(),
                                [](auto& a, auto& b) { return a.address == b.address; }),
                    s.locations.end());
  for (auto& l : s.locations) l.function = "ns::Function" + std::to_string(l.address % 100'003) + "(int, std::string const&)";
  for (int k = 0; k < tasks; ++k) {
    snapshot::TaskRecord t;
    t.id = static_cast<std::uint64_t>(k + 1);
    t.state = k % 3 == 0 ? snapshot::TaskState::kWaiting : snapshot::TaskState::kRunnable;
    if (t.state == snapshot::TaskState::kWaiting) {
      t.wait_reason = "chan receive";
      t.wait_since_unix_ns = s.time_unix_ns - 1'000'000'000;
    }
    t.switch_count = static_cast<std::uint64_t>(k) * 3 + static_cast<std::uint64_t>(index);
    t.stack_id = task_stacks[static_cast<std::size_t>(k) % task_stacks.size()];
    t.create_stack_id = task_stacks[static_cast<std::size_t>(k * 7) % task_stacks.size()];
    s.tasks.push_back(std::move(t));
  }
  for (int k = 0; k < threads; ++k) {
    snapshot::ThreadRecord t = snapshot::thread_record(10'000 + k, "worker-" + std::to_string(k % 16));
    t.state = k % 2 == 0 ? snapshot::ThreadState::kWaiting
              : k % 4 == 1 ? snapshot::ThreadState::kSyscall : snapshot::ThreadState::kRunning;
    if (t.state == snapshot::ThreadState::kWaiting) {
      t.wait_reason = "condition wait";
      t.wait_since_unix_ns = s.time_unix_ns - 1'000'000'000 + k;
      t.wait_object = 0x7f0000000000ULL + static_cast<std::uint64_t>(k % 8) * 64;
    } else if (t.state == snapshot::ThreadState::kSyscall) {
      t.wait_reason = "epoll_wait";
      t.wait_object = 5;
      t.wait_detail = "anon_inode:[eventpoll]";
    }
    t.creator_tid = 4242;
    t.start_time_unix_ns = s.time_unix_ns - 60'000'000'000LL;
    t.join = snapshot::JoinState::kJoinable;
    t.cpu_ns = static_cast<std::uint64_t>(k + index) * 1'000'000;
    t.stack_id = task_stacks[static_cast<std::size_t>(k * 3) % task_stacks.size()];
    t.create_stack_id = task_stacks[static_cast<std::size_t>(k % 10)];
    s.threads.push_back(std::move(t));
  }
  for (int k = 0; k < std::min(threads, 10); ++k)
    s.thread_creates.push_back({task_stacks[static_cast<std::size_t>(k)], 1 + threads / 10});
  s.threads_created = static_cast<std::uint64_t>(threads);
  s.threads_tracked = true;
  s.mem.num_threads = static_cast<std::uint64_t>(threads);
  s.mem.num_tasks = static_cast<std::uint64_t>(tasks);
  s.mem.heap_alloc = 100'000'000;
  return s;
}

std::string temp_db(const char* name) {
  std::string p = "/tmp/lw_store_bench_" + std::to_string(getpid()) + "_" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((p + suffix).c_str());
  return p;
}

void remove_db(const std::string& p) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((p + suffix).c_str());
}

int arg(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int tasks = arg(argc, argv, "--tasks", 100'000);
  const int sites = arg(argc, argv, "--sites", 10'000);
  const int threads = arg(argc, argv, "--threads", 200);
  const int series = arg(argc, argv, "--series", 100);
  const int series_tasks = arg(argc, argv, "--series-tasks", 2'000);
  const int series_sites = arg(argc, argv, "--series-sites", 1'000);
  constexpr int kRepeats = 3;

  // 1. One big snapshot.
  snapshot::Snapshot big = make_snapshot(tasks, sites, 0, "run-1", threads);
  auto t0 = Clock::now();
  std::string bytes = snapshot::encode(big);
  double encode_ms = ms_since(t0);
  t0 = Clock::now();
  auto decoded = snapshot::decode(bytes);
  double decode_ms = ms_since(t0);
  if (!decoded) return std::fprintf(stderr, "decode: %s\n", decoded.error().message.c_str()), 1;

  double store_ms = 1e300, blob_ms = 1e300, file_ms = 1e300, store_warm_ms = 1e300;
  double store_cpu_ms = 1e300, store_warm_cpu_ms = 1e300, blob_cpu_ms = 1e300;
  for (int r = 0; r < kRepeats; ++r) {
    std::string path = temp_db("big.db");
    auto st = store::Store::open(path).value();
    t0 = Clock::now();
    double c0 = cpu_ms();
    if (!st->add_snapshot("http://127.0.0.1:6060", *decoded, bytes)) return 1;
    store_ms = std::min(store_ms, ms_since(t0));
    store_cpu_ms = std::min(store_cpu_ms, cpu_ms() - c0);
    // A second snapshot of the same process: stacks are already interned.
    auto next = make_snapshot(tasks, sites, 1, "run-1", threads);
    std::string next_bytes = snapshot::encode(next);
    t0 = Clock::now();
    c0 = cpu_ms();
    if (!st->add_snapshot("http://127.0.0.1:6060", next, next_bytes)) return 1;
    store_warm_ms = std::min(store_warm_ms, ms_since(t0));
    store_warm_cpu_ms = std::min(store_warm_cpu_ms, cpu_ms() - c0);
    st.reset();
    remove_db(path);

    std::string peer = temp_db("blob.db");
    auto db = store::Database::open(peer).value();
    (void)db->exec("CREATE TABLE blobs(id INTEGER PRIMARY KEY, blob BLOB NOT NULL)");
    t0 = Clock::now();
    c0 = cpu_ms();
    (void)db->exec("BEGIN IMMEDIATE");
    auto ins = store::Statement::prepare(*db, "INSERT INTO blobs(blob) VALUES(?)").value();
    (void)ins.bind_blob(1, bytes).run();
    (void)db->exec("COMMIT");
    blob_ms = std::min(blob_ms, ms_since(t0));
    blob_cpu_ms = std::min(blob_cpu_ms, cpu_ms() - c0);
    db.reset();
    remove_db(peer);

    std::string file = temp_db("blob.bin");
    t0 = Clock::now();
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) return 1;
    fsync(fd);
    close(fd);
    file_ms = std::min(file_ms, ms_since(t0));
    std::remove(file.c_str());
  }
  std::printf(
      "{\"bench\":\"store.snapshot\",\"tasks\":%d,\"sites\":%d,\"threads\":%d,\"bytes\":%zu,\"encode_ms\":%.1f,"
      "\"decode_ms\":%.1f,\"add_snapshot_ms\":%.1f,\"add_snapshot_warm_ms\":%.1f,"
      "\"peer_sqlite_blob_only_ms\":%.1f,\"peer_file_fsync_ms\":%.1f,\"ratio_vs_blob_only\":%.2f,"
      "\"add_snapshot_cpu_ms\":%.1f,\"add_snapshot_warm_cpu_ms\":%.1f,\"peer_sqlite_blob_only_cpu_ms\":%.1f}\n",
      tasks, sites, threads, bytes.size(), encode_ms, decode_ms, store_ms, store_warm_ms, blob_ms, file_ms,
      store_ms / blob_ms, store_cpu_ms, store_warm_cpu_ms, blob_cpu_ms);

  // 2. A diff over a series.
  std::string path = temp_db("series.db");
  auto st = store::Store::open(path).value();
  std::vector<std::string> blobs;
  t0 = Clock::now();
  for (int i = 0; i < series; ++i) {
    auto s = make_snapshot(series_tasks, series_sites, i, "run-1", threads);
    blobs.push_back(snapshot::encode(s));
    if (!st->add_snapshot("http://127.0.0.1:6060", s, blobs.back())) return 1;
  }
  double fill_ms = ms_since(t0);
  double diff_ms = 1e300, peer_decode_ms = 1e300;
  std::size_t findings = 0;
  for (int r = 0; r < kRepeats; ++r) {
    cli::AnalysisRequest req;
    req.window_ns = 1'000'000'000'000'000LL;
    t0 = Clock::now();
    auto a = cli::analyze(*st, req);
    diff_ms = std::min(diff_ms, ms_since(t0));
    if (!a) return std::fprintf(stderr, "analyze: %s\n", a.error().message.c_str()), 1;
    findings = a->findings.size();
    t0 = Clock::now();
    for (auto& b : blobs)
      if (!snapshot::decode(b)) return 1;
    peer_decode_ms = std::min(peer_decode_ms, ms_since(t0));
  }
  std::printf(
      "{\"bench\":\"diff.series\",\"snapshots\":%d,\"tasks\":%d,\"sites\":%d,\"threads\":%d,\"store_fill_ms\":%.0f,"
      "\"diff_ms\":%.1f,\"findings\":%zu,\"peer_decode_blobs_ms\":%.1f,\"ratio_vs_decode\":%.2f}\n",
      series, series_tasks, series_sites, threads, fill_ms, diff_ms, findings, peer_decode_ms, diff_ms / peer_decode_ms);
  st.reset();
  remove_db(path);
  return 0;
}
