// Capture reads each part under that part's own lock, one part after the other, rather than
// stopping the world: stopping every worker and every allocating thread would stall the target for
// the whole symbolization (milliseconds) and risks deadlock with a thread inside malloc. The cost is
// that parts are consistent each in itself, not with one another (stated in capture.hpp).
#include "src/snapshot/capture.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "src/base/clock.hpp"
#include "src/snapshot/capture_heap.hpp"
#include "src/snapshot/capture_tasks.hpp"
#include "src/snapshot/stack_interner.hpp"
#include "src/unwind/stack_trace.hpp"
#include "src/unwind/symbolizer.hpp"

namespace lw::snapshot {
namespace {

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Seconds since the epoch at which the machine booted (/proc/stat "btime").
std::int64_t boot_time_unix() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      std::int64_t t = 0;
      in >> t;
      return t;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

void fill_resident_sizes(MemStats* mem) {
  long page = sysconf(_SC_PAGESIZE);
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  if (statm >> size >> resident) mem->rss = resident * static_cast<std::uint64_t>(page);
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) mem->max_rss = static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
}

}  // namespace

ProcessInfo read_process_info() {
  ProcessInfo p;
  p.pid = getpid();
  std::string cmdline = read_file("/proc/self/cmdline");
  for (std::size_t start = 0; start < cmdline.size();) {
    std::size_t end = cmdline.find('\0', start);
    if (end == std::string::npos) end = cmdline.size();
    p.cmdline.push_back(cmdline.substr(start, end - start));
    start = end + 1;
  }
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) p.executable.assign(exe, static_cast<std::size_t>(n));
  // Field 22 of /proc/self/stat is the start time in clock ticks after boot. The command name
  // (field 2) may hold spaces and parentheses, so count fields after its closing ')'.
  std::string stat = read_file("/proc/self/stat");
  std::uint64_t start_ticks = 0;
  if (auto close = stat.rfind(')'); close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    for (int i = 3; i <= 22 && fields >> f; ++i)
      if (i == 22) start_ticks = std::stoull(f);
  }
  long hz = sysconf(_SC_CLK_TCK);
  p.start_time_unix_ns = boot_time_unix() * base::kNanosPerSecond +
                         static_cast<std::int64_t>(start_ticks) * (base::kNanosPerSecond / hz);
  // pid + start tick identify one run of one program: a restart (even reusing the pid) differs.
  p.instance_id = std::to_string(p.pid) + "-" + std::to_string(start_ticks) + "-" +
                  std::to_string(boot_time_unix());
  return p;
}

std::vector<ThreadRecord> read_threads() {
  std::vector<ThreadRecord> out;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    ThreadRecord t;
    t.tid = std::atoll(e->d_name);
    std::string comm = read_file(("/proc/self/task/" + std::string(e->d_name) + "/comm").c_str());
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    t.name = comm;
    t.runtime_worker = comm.rfind("lw-worker", 0) == 0;
    out.push_back(std::move(t));
  }
  closedir(dir);
  return out;
}

std::vector<Mapping> read_mappings() {
  std::vector<Mapping> out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // start-limit perms offset dev inode path
    unsigned long long start = 0, limit = 0, offset = 0;
    char perms[8] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &start, &limit, perms, &offset,
                    &path_at) < 4)
      continue;
    if (perms[2] != 'x') continue;  // pprof only needs code
    Mapping m{start, limit, offset, path_at > 0 ? line.substr(static_cast<std::size_t>(path_at)) : "", ""};
    out.push_back(std::move(m));
  }
  return out;
}

void symbolize_stacks(Snapshot* s) {
  std::set<std::uint64_t> known;
  for (const Location& l : s->locations) known.insert(l.address);
  unwind::Symbolizer& sym = unwind::process_symbolizer();
  for (const Stack& st : s->stacks) {
    for (std::uint64_t pc : st.pcs) {
      if (!known.insert(pc).second) continue;
      unwind::Symbol r = sym.lookup(unwind::call_site(pc));
      Location l;
      l.address = pc;
      l.function = std::move(r.function);
      l.file = std::move(r.file);
      l.line = r.line;
      for (const Mapping& m : s->mappings)
        if (pc >= m.start && pc < m.limit) l.mapping_start = m.start;
      s->locations.push_back(std::move(l));
    }
  }
}

Snapshot capture_snapshot(const CaptureOptions& options) {
  Snapshot s;
  s.time_unix_ns = base::wall_now_ns();
  base::Nanos began = base::now_ns();
  StackInterner stacks(&s);
  if (options.heap) capture_heap(&s, &stacks);
  if (options.tasks) capture_tasks(&s, &stacks);
  s.capture_pause_ns = base::now_ns() - began;
  s.process = read_process_info();
  s.threads = read_threads();
  s.mem.num_threads = s.threads.size();
  fill_resident_sizes(&s.mem);
  s.mappings = read_mappings();
  if (options.symbolize) symbolize_stacks(&s);
  return s;
}

}  // namespace lw::snapshot
