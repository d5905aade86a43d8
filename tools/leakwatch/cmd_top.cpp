// leakwatch top URL|FILE: the heap sites holding (or having allocated) the most, like
// `go tool pprof -top`, then each custom profile's stacks holding the most live keys, read from a
// live target or a saved snapshot file.
#include <algorithm>
#include <cstdio>
#include <map>

#include "src/store/store.hpp"
#include "tools/leakwatch/cli_args.hpp"
#include "tools/leakwatch/commands.hpp"
#include "tools/leakwatch/term_color.hpp"
#include "tools/leakwatch/report.hpp"
#include "tools/leakwatch/target.hpp"

namespace lw::cli {
namespace {

constexpr const char* kHelp =
    "usage: leakwatch top URL|FILE [--sample TYPE] [-n N] [--timeout D] [--max-snapshot-bytes N]\n"
    "\n"
    "Prints the top heap sites of a live target, or of a snapshot file (the body of\n"
    "/debug/leakwatch/snapshot saved with curl -o). Figures are the sampler's estimates.\n"
    "Then, for each custom profile (lw::Profile), the stacks holding the most live keys.\n"
    "\n"
    "  --sample TYPE  inuse_space (default), inuse_objects, alloc_space or alloc_objects\n"
    "  -n N           how many sites (default 10)\n"
    "  --timeout D    deadline for the whole request (default 10s)\n"
    "  --max-snapshot-bytes N  refuse a bigger snapshot (default 256MiB)\n";

struct Row {
  std::vector<std::string> frames;
  std::int64_t value = 0;
};

// sorted_rows() sums `by_site` into rows, largest first.
std::vector<Row> sorted_rows(const std::map<std::vector<std::string>, std::int64_t>& by_site) {
  std::vector<Row> rows;
  for (auto& [frames, v] : by_site) rows.push_back({frames, v});
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.value != b.value ? a.value > b.value : a.frames < b.frames;
  });
  return rows;
}

// print_rows() prints the first `shown` rows as pprof -top does: flat, flat%, sum%, the site.
template <class Show>
void print_rows(const std::vector<Row>& rows, std::size_t shown, std::int64_t total, Show show) {
  const Palette& palette = palette_for(stdout);
  std::printf("%s%12s %7s %7s  %s%s\n", palette.bold, "flat", "flat%", "sum%", "site (callers)", palette.reset);
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < shown; ++i) {
    const Row& r = rows[i];
    sum += r.value;
    double pct = total > 0 ? 100.0 * static_cast<double>(r.value) / static_cast<double>(total) : 0;
    double spct = total > 0 ? 100.0 * static_cast<double>(sum) / static_cast<double>(total) : 0;
    std::string site = paint(palette, palette.cyan, r.frames[0]);
    for (std::size_t k = 1; k < r.frames.size() && k < 4; ++k) site += " <- " + r.frames[k];
    std::printf("%12s %6.2f%% %6.2f%%  %s\n", show(r.value).c_str(), pct, spct, site.c_str());
  }
}

}  // namespace

int cmd_top(int argc, char** argv) {
  auto args = parse_args("top", argc, argv, 2, {{"--sample", true}, {"-n", true}, {"--timeout", true}, {"--max-snapshot-bytes", true}});
  if (!args) return usage_error("top", args.error().message);
  if (args->help) return std::fputs(kHelp, stdout), kExitClean;
  if (args->positional.size() != 1)
    return usage_error("top", args->positional.empty() ? "no target URL or file given" : "give one target URL or file");
  std::string sample = args->get("--sample").value_or("inuse_space");
  if (sample != "inuse_space" && sample != "inuse_objects" && sample != "alloc_space" && sample != "alloc_objects")
    return usage_error("top", "--sample: want inuse_space, inuse_objects, alloc_space or alloc_objects, got '" +
                                  sample + "'");
  auto n = positive_int_flag(*args, "-n", 10);
  if (!n) return usage_error("top", n.error().message);
  auto timeout = duration_flag(*args, "--timeout", kDefaultHttpTimeoutNs);
  if (!timeout) return usage_error("top", timeout.error().message);

  auto max_bytes = size_flag(*args, "--max-snapshot-bytes", kDefaultMaxSnapshotBytes);
  if (!max_bytes) return usage_error("top", max_bytes.error().message);
  auto snap = read_snapshot_source(args->positional[0], *timeout, *max_bytes);
  if (!snap) return runtime_error(snap.error().message);

  store::LocationIndex by_address = store::index_locations(*snap);
  std::map<snapshot::StackId, const snapshot::Stack*> stacks;
  for (const auto& s : snap->stacks) stacks.emplace(s.id, &s);
  std::map<std::vector<std::string>, std::int64_t> by_site;
  std::int64_t total = 0;
  for (const snapshot::HeapSite& hs : snap->heap.sites) {
    std::int64_t v = sample == "inuse_space"     ? hs.inuse_bytes
                     : sample == "inuse_objects" ? hs.inuse_objects
                     : sample == "alloc_space"   ? hs.alloc_bytes
                                                 : hs.alloc_objects;
    std::vector<std::string> frames;
    if (auto it = stacks.find(hs.stack_id); it != stacks.end())
      frames = store::stack_function_names(*it->second, by_address);
    auto first = std::find_if(frames.begin(), frames.end(), [](const std::string& f) { return !is_allocator_frame(f); });
    if (first != frames.end()) frames.erase(frames.begin(), first);
    if (frames.empty()) frames.push_back("<unknown>");
    by_site[frames] += v;
    total += v;
  }
  std::vector<Row> rows = sorted_rows(by_site);
  bool bytes = sample.find("space") != std::string::npos;
  auto show = [&](std::int64_t v) {
    return bytes ? format_bytes(static_cast<double>(v)) : std::to_string(v);
  };
  std::size_t shown = std::min<std::size_t>(rows.size(), static_cast<std::size_t>(*n));
  std::printf("Showing top %zu of %zu sites, %s total %s (sample rate %lld)\n", shown, rows.size(),
              sample.c_str(), show(total).c_str(), static_cast<long long>(snap->heap.sample_rate));
  print_rows(rows, shown, total, show);

  auto count = [](std::int64_t v) { return std::to_string(v); };
  for (const snapshot::CustomProfile& p : snap->custom_profiles) {
    std::map<std::vector<std::string>, std::int64_t> by_stack;
    for (const snapshot::CustomSample& c : p.samples) {
      std::vector<std::string> frames;
      if (auto it = stacks.find(c.stack_id); it != stacks.end())
        frames = store::stack_function_names(*it->second, by_address);
      if (frames.empty()) frames.push_back("<unknown>");
      by_stack[frames] += c.count;
    }
    std::vector<Row> keys = sorted_rows(by_stack);
    std::size_t shown_keys = std::min<std::size_t>(keys.size(), static_cast<std::size_t>(*n));
    const std::string dropped = p.dropped_adds > 0 ? " (" + std::to_string(p.dropped_adds) + " adds dropped)" : "";
    std::printf("\nProfile %s: %lld live keys at %zu stacks%s, top %zu\n", p.name.c_str(),
                static_cast<long long>(p.count), keys.size(), dropped.c_str(), shown_keys);
    print_rows(keys, shown_keys, p.count, count);
  }
  return kExitClean;
}

}  // namespace lw::cli
