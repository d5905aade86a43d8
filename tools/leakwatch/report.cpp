#include "tools/leakwatch/report.hpp"

#include "src/base/json_text.hpp"

#include <cmath>
#include <cstdio>

namespace lw::cli {
namespace {

constexpr std::size_t kTextFrames = 8;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

void json_string(std::string& out, const std::string& s) { base::json_escape(s, &out); }

void json_frames(std::string& out, const std::vector<std::string>& frames) {
  out += '[';
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (i) out += ',';
    json_string(out, frames[i]);
  }
  out += ']';
}

constexpr const char* kAllocatorPrefixes[] = {
    "malloc", "calloc", "realloc", "free", "posix_memalign", "aligned_alloc", "memalign", "valloc",
    "operator new", "operator delete", "mi_", "_mi_", "lw::heap::", "__libc_", "std::allocator",
    "__gnu_cxx::new_allocator", "std::__new_allocator", "std::allocator_traits"};

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Frames every thread stack starts or ends with: the pthread and C++ library machinery of waits
// (a condition wait is pthread_cond_wait -> __futex_abstimed_wait_common -> ...), thread start-up
// and thread creation, and leakwatch's own thread interposer.
constexpr const char* kThreadMachineryPrefixes[] = {
    "pthread_", "__pthread_", "__GI_", "__futex", "__lll_", "futex_wait", "std::condition_variable::",
    "std::condition_variable_any::", "std::__condvar::", "std::mutex::", "std::unique_lock<", "std::thread::",
    "std::__invoke", "execute_native_thread_routine", "lw::os_threads::", "__clone"};

// Frames of the leakwatch runtime itself (the park/switch machinery, channel internals, the task
// trampoline), which every task stack starts or ends with, and the thread machinery above.
bool is_runtime_frame(const std::string& f) {
  for (const char* p : kThreadMachineryPrefixes)
    if (starts_with(f, p)) return true;
  return starts_with(f, "lw::rt::") || starts_with(f, "lw::detail::") || starts_with(f, "lw::Chan<") ||
         starts_with(f, "lw::Mutex::") || starts_with(f, "lw::WaitGroup::") || starts_with(f, "lw::select") ||
         starts_with(f, "lw::sleep_for") || starts_with(f, "lw::go<") || starts_with(f, "lw::go(") ||
         f == "make_fcontext" || f == "jump_fcontext" ||
         starts_with(f, "start_thread") || f == "clone" || f == "clone3";
}

bool is_thread_kind(diff::FindingKind k) {
  return k == diff::FindingKind::kLeakedThreads || k == diff::FindingKind::kStuckThreads ||
         k == diff::FindingKind::kThreadGrowth || k == diff::FindingKind::kUnjoinedThreads;
}

void frames_text(std::string& out, const std::vector<std::string>& all, const char* indent, const Palette& palette,
                 const char* first_colour, std::string_view syscall = {}) {
  std::vector<std::string> frames = display_frames(all, syscall);
  for (std::size_t i = 0; i < frames.size() && i < kTextFrames; ++i)
    out += indent + (i == 0 ? paint(palette, first_colour, frames[i]) : frames[i]) + "\n";
  if (frames.size() > kTextFrames)
    out += indent + std::string("... ") + std::to_string(frames.size() - kTextFrames) + " more\n";
}

}  // namespace

bool is_allocator_frame(const std::string& function) {
  for (const char* p : kAllocatorPrefixes)
    if (starts_with(function, p)) return true;
  return false;
}

bool is_syscall_wrapper(const std::string& f, std::string_view syscall) {
  if (syscall.empty()) return false;
  std::string_view name = f;
  for (std::string_view prefix : {"__GI___libc_", "__libc_", "__GI___", "__"})
    if (f.rfind(prefix, 0) == 0) {
      name.remove_prefix(prefix.size());
      break;
    }
  if (name.size() < syscall.size() || name.substr(0, syscall.size()) != syscall) return false;
  name.remove_prefix(syscall.size());
  return name.empty() || name[0] == '@';
}

std::vector<std::string> display_frames(const std::vector<std::string>& frames, std::string_view syscall) {
  std::size_t begin = 0, end = frames.size();
  while (begin < end && (is_allocator_frame(frames[begin]) || is_runtime_frame(frames[begin]) ||
                         is_syscall_wrapper(frames[begin], syscall)))
    ++begin;
  // At the outer end also drop unnamed frames ("0x7f..."): the thread start-up code of a stripped
  // C++ library (libstdc++'s execute_native_thread_routine has no symbol).
  while (end > begin && (is_runtime_frame(frames[end - 1]) || starts_with(frames[end - 1], "0x"))) --end;
  if (begin == end) return frames;  // nothing but runtime code: show it as it is
  return {frames.begin() + static_cast<std::ptrdiff_t>(begin), frames.begin() + static_cast<std::ptrdiff_t>(end)};
}

std::string format_bytes(double bytes) {
  double a = std::fabs(bytes);
  if (a < 1024) return fmt("%.0f B", bytes);
  if (a < 1024.0 * 1024) return fmt("%.1f KiB", bytes / 1024);
  if (a < 1024.0 * 1024 * 1024) return fmt("%.1f MiB", bytes / (1024.0 * 1024));
  return fmt("%.2f GiB", bytes / (1024.0 * 1024 * 1024));
}

std::string format_duration(std::int64_t ns) {
  if (ns < 1'000'000'000) return std::to_string(ns / 1'000'000) + "ms";
  std::int64_t s = ns / 1'000'000'000;
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h";
  if (s >= 60) out += std::to_string(s / 60 % 60) + "m";
  out += std::to_string(s % 60) + "s";
  return out;
}

// growth_text() is ", +N tasks/min" (or threads) for stuck or leaked ones that keep piling up.
std::string growth_text(const diff::Finding& f) {
  if (f.threads_per_minute > 0) return ", +" + fmt("%.1f", f.threads_per_minute) + " threads/min";
  return f.tasks_per_minute > 0 ? ", +" + fmt("%.1f", f.tasks_per_minute) + " tasks/min" : "";
}

// how_many() is "1 task", "3 threads".
std::string how_many(std::int64_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

bool is_leak_kind(diff::FindingKind k) {
  return k == diff::FindingKind::kLeakedTasks || k == diff::FindingKind::kLeakedThreads;
}

std::string finding_text(const diff::Finding& f, const Palette& palette) {
  std::string out = paint(palette, is_leak_kind(f.kind) ? palette.red : palette.yellow, to_string(f.kind));
  out += "  " + f.target;
  std::string range = " (" + std::to_string(f.points) + " snapshots #" + std::to_string(f.from_snapshot) +
                      "..#" + std::to_string(f.to_snapshot) + ", confidence " + fmt("%.2f", f.confidence) + ")";
  switch (f.kind) {
    case diff::FindingKind::kHeapGrowth:
    case diff::FindingKind::kHeapAllocGrowth:
      out += "  +" + format_bytes(f.bytes_per_minute) + "/min over " + format_duration(f.span_ns) + ", " +
             format_bytes(static_cast<double>(f.first_value)) + " -> " +
             format_bytes(static_cast<double>(f.last_value)) + range + "\n";
      if (f.kind == diff::FindingKind::kHeapAllocGrowth) out += "    (process HeapAlloc)\n";
      break;
    case diff::FindingKind::kTaskGrowth:
    case diff::FindingKind::kTaskCountGrowth:
      out += "  +" + fmt("%.1f", f.tasks_per_minute) + " tasks/min over " + format_duration(f.span_ns) +
             ", " + std::to_string(f.first_value) + " -> " + std::to_string(f.last_value) + " tasks" + range + "\n";
      if (f.kind == diff::FindingKind::kTaskCountGrowth) out += "    (process task count)\n";
      else if (!f.create_frames.empty()) out += "    tasks created at:\n";
      break;
    case diff::FindingKind::kStuckTasks:
      out += "  " + how_many(f.count, "task") + " [" + f.wait_reason + "] unmoved for " +
             format_duration(f.span_ns) + growth_text(f) + range + "\n";
      break;
    case diff::FindingKind::kLeakedTasks:
      out += "  " + how_many(f.count, "task") + " [" + f.wait_reason + "] can never wake" + growth_text(f) +
             (f.detail.empty() ? "" : ": " + f.detail) + "\n";
      break;
    case diff::FindingKind::kStuckThreads:
      out += "  " + how_many(f.count, "thread") + " [" + f.wait_reason + "] unmoved, no CPU time, for " +
             format_duration(f.span_ns) + growth_text(f) + range + "\n";
      break;
    case diff::FindingKind::kLeakedThreads:
      out += "  " + how_many(f.count, "thread") + " [" + f.wait_reason + "] can never wake" + growth_text(f) +
             (f.detail.empty() ? "" : ": " + f.detail) + "\n";
      break;
    case diff::FindingKind::kThreadGrowth:
      out += "  +" + fmt("%.1f", f.threads_per_minute) + " threads/min over " + format_duration(f.span_ns) +
             ", " + std::to_string(f.first_value) + " -> " + std::to_string(f.last_value) + " threads" + range +
             "\n";
      if (!f.create_frames.empty()) out += "    threads created at:\n";
      break;
    case diff::FindingKind::kUnjoinedThreads:
      out += "  " + how_many(f.count, "thread") + " exited and never joined, for " + format_duration(f.span_ns) +
             range + "\n";
      if (!f.create_frames.empty()) out += "    threads created at:\n";
      break;
    case diff::FindingKind::kProfileGrowth:
      out += "  profile " + f.profile + ": +" + fmt("%.1f", f.keys_per_minute) + " keys/min over " +
             format_duration(f.span_ns) + ", " + std::to_string(f.first_value) + " -> " +
             std::to_string(f.last_value) + " live keys" + range + "\n    added at:\n";
      break;
  }
  frames_text(out, f.frames, "    ", palette, palette.cyan,
              is_thread_kind(f.kind) ? std::string_view(f.wait_reason) : std::string_view());
  if ((f.kind == diff::FindingKind::kStuckTasks || f.kind == diff::FindingKind::kLeakedTasks ||
       f.kind == diff::FindingKind::kStuckThreads || f.kind == diff::FindingKind::kLeakedThreads) &&
      !f.create_frames.empty()) {
    out += paint(palette, palette.dim, "  created by:") + "\n";
    frames_text(out, f.create_frames, "    ", palette, palette.cyan);
  }
  return out;
}

std::string findings_json(const std::vector<diff::Finding>& findings) {
  std::string out = "{\"findings\":[";
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const diff::Finding& f = findings[i];
    if (i) out += ',';
    out += "{\"kind\":";
    json_string(out, std::string(to_string(f.kind)));
    out += ",\"target\":";
    json_string(out, f.target);
    out += ",\"instance_id\":";
    json_string(out, f.instance_id);
    out += ",\"frames\":";
    json_frames(out, display_frames(f.frames, is_thread_kind(f.kind) ? std::string_view(f.wait_reason)
                                                                     : std::string_view()));
    out += ",\"create_frames\":";
    json_frames(out, display_frames(f.create_frames));
    out += ",\"all_frames\":";
    json_frames(out, f.frames);
    out += ",\"all_create_frames\":";
    json_frames(out, f.create_frames);
    out += ",\"wait_reason\":";
    json_string(out, f.wait_reason);
    out += ",\"profile\":";
    json_string(out, f.profile);
    out += ",\"count\":" + std::to_string(f.count);
    out += ",\"bytes_per_minute\":" + base::json_number(f.bytes_per_minute);
    out += ",\"tasks_per_minute\":" + base::json_number(f.tasks_per_minute);
    out += ",\"threads_per_minute\":" + base::json_number(f.threads_per_minute);
    out += ",\"keys_per_minute\":" + base::json_number(f.keys_per_minute);
    out += ",\"first_value\":" + std::to_string(f.first_value);
    out += ",\"last_value\":" + std::to_string(f.last_value);
    out += ",\"span_seconds\":" + base::json_number(static_cast<double>(f.span_ns) / 1e9);
    out += ",\"snapshots\":" + std::to_string(f.points);
    out += ",\"from_snapshot\":" + std::to_string(f.from_snapshot);
    out += ",\"to_snapshot\":" + std::to_string(f.to_snapshot);
    // `ids` holds task ids or tids; `task_ids` (older readers) the same for task kinds only.
    std::string ids = "[";
    for (std::size_t k = 0; k < f.ids.size(); ++k) ids += (k ? "," : "") + std::to_string(f.ids[k]);
    ids += "]";
    out += ",\"ids\":" + ids;
    out += ",\"task_ids\":" + (is_thread_kind(f.kind) ? std::string("[]") : ids);
    out += ",\"detail\":";
    json_string(out, f.detail);
    out += ",\"confidence\":" + base::json_number(f.confidence) + "}";
  }
  out += "]}\n";
  return out;
}

std::string finding_key(const diff::Finding& f) {
  std::string k(to_string(f.kind));
  k += '\x1f' + f.target + '\x1f' + f.instance_id + '\x1f' + f.wait_reason + '\x1f' + f.profile;
  for (const auto& fr : f.frames) k += '\x1f' + fr;
  k += '\x1e';
  for (const auto& fr : f.create_frames) k += '\x1f' + fr;
  return k;
}

}  // namespace lw::cli
