// runtime_bench: leakwatch runtime micro-benchmarks. Prints one line per result:
//   leakwatch <name> <value> <unit>
// Modes (argv[1]): pingpong N | spawn N | rss N | dump N DEPTH. run_bench.sh runs these next to
// the Go peer (bench.go) and prints the ratios.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "leakwatch/chan.hpp"
#include "leakwatch/runtime.hpp"
#include "leakwatch/sync.hpp"
#include "leakwatch/task_info.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double ns_since(Clock::time_point t0, long n) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / static_cast<double>(n);
}

long rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

void pingpong(long n) {
  lw::Chan<int> ping(0), pong(0);
  lw::go([ping, pong] {
    while (auto v = ping.recv()) pong.send(*v);
  });
  for (int i = 0; i < 1000; ++i) {
    ping.send(i);
    pong.recv();
  }
  auto t0 = Clock::now();
  for (long i = 0; i < n; ++i) {
    ping.send(1);
    pong.recv();
  }
  std::printf("leakwatch pingpong_roundtrip %.1f ns\n", ns_since(t0, n));
  ping.close();
}

void spawn(long n) {
  lw::WaitGroup wg;
  auto t0 = Clock::now();
  for (long i = 0; i < n; ++i) {
    wg.add(1);
    lw::go([&wg] { wg.done(); });
  }
  wg.wait();
  std::printf("leakwatch spawn_finish %.1f ns\n", ns_since(t0, n));
}

void rss(long n) {
  lw::Chan<int> gate(0);
  lw::WaitGroup started;
  started.add(n);
  long before = rss_bytes();
  for (long i = 0; i < n; ++i)
    lw::go([gate, &started] {
      started.done();
      gate.recv();
    });
  started.wait();
  long after = rss_bytes();
  std::printf("leakwatch rss_per_parked_task %.0f bytes\n", static_cast<double>(after - before) / static_cast<double>(n));
  gate.close();
}

// CountingBuf is a streambuf that only counts what is written to it.
struct CountingBuf : std::streambuf {
  long bytes = 0;
  char buf[1 << 16];
  CountingBuf() { setp(buf, buf + sizeof buf); }
  int overflow(int c) override {
    bytes += pptr() - pbase() + (c == EOF ? 0 : 1);
    setp(buf, buf + sizeof buf);
    return c == EOF ? 0 : c;
  }
  int sync() override {
    bytes += pptr() - pbase();
    setp(buf, buf + sizeof buf);
    return 0;
  }
};

__attribute__((noinline)) void deep(int depth, const lw::Chan<int>& gate, lw::WaitGroup& started) {
  if (depth <= 1) {
    started.done();
    gate.recv();
    return;
  }
  deep(depth - 1, gate, started);
  asm volatile("");
}

void dump(long n, int depth) {
  lw::Chan<int> gate(0);
  lw::WaitGroup started;
  started.add(n);
  for (long i = 0; i < n; ++i)
    lw::go([gate, &started, depth] {
      lw::Chan<int> g = gate;
      deep(depth, g, started);
    });
  started.wait();
  // Go writes into a buffer it already touched (the warm-up run); we write into a counting sink,
  // so neither side measures page faults of a growing output buffer.
  CountingBuf sink;
  std::ostream os(&sink);
  lw::write_task_dump(os, 2);  // symbolizer caches warm, as Go's are
  sink.bytes = 0;
  auto t0 = Clock::now();
  lw::write_task_dump(os, 2);
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  std::printf("leakwatch dump_all_tasks %.1f ms (%ld bytes)\n", ms, sink.bytes);
  gate.close();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: runtime_bench pingpong|spawn|rss|dump N [DEPTH]\n");
    return 2;
  }
  std::string mode = argv[1];
  long n = std::atol(argv[2]);
  int depth = argc > 3 ? std::atoi(argv[3]) : 16;
  lw::RuntimeOptions opt;
  if (const char* w = std::getenv("LW_WORKERS")) opt.workers = std::atoi(w);
  if (mode == "rss") opt.stack_size = 64 * 1024;
  return lw::run([&] {
    if (mode == "pingpong") pingpong(n);
    else if (mode == "spawn") spawn(n);
    else if (mode == "rss") rss(n);
    else if (mode == "dump") dump(n, depth);
  }, opt);
}
