// Capture reads each part under that part's own lock, one part after the other, rather than
// stopping the world: stopping every worker and every allocating thread would stall the target for
// the whole symbolization (milliseconds) and risks deadlock with a thread inside malloc. The cost is
// that parts are consistent each in itself, not with one another (stated in capture.hpp).
#include "src/snapshot/capture.hpp"

#include <elf.h>
#include <link.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

#include "src/base/clock.hpp"
#include "src/base/label_sets.hpp"
#include "src/snapshot/capture_heap.hpp"
#include "src/snapshot/capture_tasks.hpp"
#include "src/snapshot/capture_threads.hpp"
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

// LoadedObject is one ELF object loaded in the process: its PT_LOAD address ranges and build id.
struct LoadedObject {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;  // [start, limit)
  std::string build_id;  // lowercase hex, empty if none
};

// build_id_of() reads NT_GNU_BUILD_ID from the object's PT_NOTE segments, already in memory.
std::string build_id_of(const dl_phdr_info* info) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    auto* p = reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
    const unsigned char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const unsigned char* name = p + sizeof(ElfW(Nhdr));
      const unsigned char* desc = name + ((note->n_namesz + 3) & ~3u);
      const unsigned char* next = desc + ((note->n_descsz + 3) & ~3u);
      if (next > end) break;
      if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        std::string hex;
        for (unsigned j = 0; j < note->n_descsz; ++j) {
          hex += kHex[desc[j] >> 4];
          hex += kHex[desc[j] & 15];
        }
        return hex;
      }
      p = next;
    }
  }
  return {};
}

// loaded_objects() lists every loaded ELF object (dl_iterate_phdr holds the loader's lock, so the
// list is consistent with itself).
std::vector<LoadedObject> loaded_objects() {
  std::vector<LoadedObject> out;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        LoadedObject o;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type == PT_LOAD)
            o.ranges.emplace_back(info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_memsz);
        }
        o.build_id = build_id_of(info);
        if (!o.build_id.empty()) static_cast<std::vector<LoadedObject>*>(data)->push_back(std::move(o));
        return 0;
      },
      &out);
  return out;
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

std::vector<Mapping> read_mappings() {
  std::vector<Mapping> out;
  const std::vector<LoadedObject> objects = loaded_objects();
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
    // The build id comes from the loaded object whose segments hold this region: matching by
    // address, not by path, since the loader's path and /proc's may differ (/lib vs /usr/lib).
    for (const LoadedObject& o : objects)
      for (const auto& [lo, hi] : o.ranges)
        if (start < hi && lo < limit && m.build_id.empty()) m.build_id = o.build_id;
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
  // One capture at a time: concurrent requests would each hold a full snapshot and compete for
  // the symbolizer's lock anyway; serializing bounds the memory and CPU a burst of requests takes.
  static std::mutex capture_mu;
  std::lock_guard<std::mutex> lock(capture_mu);
  Snapshot s;
  s.time_unix_ns = base::wall_now_ns();
  StackInterner stacks(&s);
  if (options.heap) capture_heap(&s, &stacks);
  if (options.tasks) capture_tasks(&s, &stacks);
  if (options.threads) capture_threads(&s, &stacks);
  s.dropped_label_sets = base::label_set_stats().dropped_label_sets;
  s.process = read_process_info();
  fill_resident_sizes(&s.mem);
  s.mappings = read_mappings();
  if (options.symbolize) symbolize_stacks(&s);
  return s;
}

}  // namespace lw::snapshot
