// Building the profile goes through a Snapshot that holds only mappings and stacks, so the CPU
// profile is symbolized, and its mappings written, by the very code the heap profile uses.
// Labels: each sample carries the id of the label set current when it was taken (the task's or
// the plain thread's, with_labels included), turned into labels here, so they are right even when
// the task or the with_labels scope ended before the profile is built; a thread's name is the one
// seen when its timer was made.
#include "src/cpu/cpu_profile.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>

#include "leakwatch/cpu_profile.hpp"
#include "src/base/label_sets.hpp"
#include "src/base/self_scope.hpp"
#include "src/profile/gzip.hpp"
#include "src/profile/pprof_builder.hpp"
#include "src/snapshot/capture.hpp"
#include "src/snapshot/stack_interner.hpp"

namespace lw::cpu {

std::string build_profile(const Sampled& sampled) {
  base::SelfScope self;
  snapshot::Snapshot s;
  s.time_unix_ns = sampled.start_unix_ns;
  s.process = snapshot::read_process_info();
  s.mappings = snapshot::read_mappings();
  snapshot::StackInterner stacks(&s);
  std::vector<profile::CpuSampleRecord> records;
  records.reserve(sampled.counts.size());
  for (const auto& [key, n] : sampled.counts) {
    profile::CpuSampleRecord r;
    r.stack_id = stacks.intern(key.pcs);
    r.count = n;
    r.labels = base::label_set(base::LabelSetId{key.label_set});
    if (auto it = sampled.thread_names.find(key.tid); it != sampled.thread_names.end())
      r.labels.emplace_back("thread", it->second);
    records.push_back(std::move(r));
  }
  snapshot::symbolize_stacks(&s);
  return profile::cpu_pprof(s, records, 1'000'000'000 / sampled.hz, sampled.duration_ns);
}

Result<void> write_profile_file(const std::string& path, const Sampled& sampled) {
  base::SelfScope self;
  const std::string data = profile::gzip(build_profile(sampled));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error("cannot write " + path + ": " + std::strerror(errno));
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return make_error("cannot write " + path);
  return {};
}

Result<std::string> profile_for(std::int64_t seconds, int hz, const std::function<bool(std::int64_t)>& wait) {
  if (auto started = start_sampling(hz); !started) return started.error();
  const bool waited = wait(seconds);
  auto sampled = stop_sampling();
  if (!sampled) return sampled.error();
  if (!waited) return make_error("the CPU profile was cut short");
  return build_profile(*sampled);
}

}  // namespace lw::cpu

namespace lw {
namespace {

std::mutex g_file_mu;
std::string g_file;  // guarded by g_file_mu: where stop_cpu_profile() writes

}  // namespace

Result<void> start_cpu_profile(const std::string& path, int hz) {
  if (path.empty()) return make_error("start_cpu_profile: empty path");
  std::lock_guard<std::mutex> lock(g_file_mu);
  if (auto started = cpu::start_sampling(hz); !started) return started.error();
  g_file = path;
  return {};
}

Result<void> stop_cpu_profile() {
  std::lock_guard<std::mutex> lock(g_file_mu);
  if (g_file.empty()) return make_error("stop_cpu_profile: no profile was started with start_cpu_profile");
  auto sampled = cpu::stop_sampling();
  const std::string path = std::move(g_file);
  g_file.clear();
  if (!sampled) return sampled.error();
  return cpu::write_profile_file(path, *sampled);
}

}  // namespace lw
