// leakwatch diff: the findings over stored snapshots.
#include <cstdio>

#include "src/base/parse.hpp"
#include "tools/leakwatch/analysis.hpp"
#include "tools/leakwatch/cli_args.hpp"
#include "tools/leakwatch/commands.hpp"
#include "tools/leakwatch/report.hpp"
#include "tools/leakwatch/target.hpp"

namespace lw::cli {
namespace {

constexpr const char* kHelp =
    "usage: leakwatch diff [--db FILE] [--target URL] [--window D | --from ID --to ID]\n"
    "                      [--format text|json] [--stuck-after D] [--min-snapshots N]\n"
    "\n"
    "Reports leaks found in the stored snapshots, per target and per process run (a restart\n"
    "starts a new series): heap_growth, stuck_tasks, task_growth, leaked_tasks,\n"
    "heap_alloc_growth, task_count_growth, the thread kinds and profile_growth. See\n"
    "docs/detection.md.\n"
    "\n"
    "  --db FILE           the store (default ./leakwatch.db)\n"
    "  --target URL        only this target (default: every target in the store)\n"
    "  --window D          the last D of each target's snapshots (default 30m)\n"
    "  --from ID --to ID   exactly the snapshots with ids in [ID, ID]\n"
    "  --format text|json  output format (default text)\n"
    "  --stuck-after D     how long a task must sit unmoved to be stuck (default 5m)\n"
    "  --min-snapshots N   snapshots of one process run a growth verdict needs (default 5)\n"
    "\n"
    "Exit status: 0 no findings, 1 findings, 2 error.\n";

}  // namespace

int cmd_diff(int argc, char** argv) {
  auto args = parse_args("diff", argc, argv, 2,
                         {{"--db", true}, {"--target", true}, {"--window", true}, {"--from", true},
                          {"--to", true}, {"--format", true}, {"--stuck-after", true}, {"--min-snapshots", true}});
  if (!args) return usage_error("diff", args.error().message);
  if (args->help) return std::fputs(kHelp, stdout), kExitClean;
  if (!args->positional.empty()) return usage_error("diff", "unexpected argument '" + args->positional[0] + "'");

  AnalysisRequest req;
  if (auto t = args->get("--target")) {
    auto url = normalize_target(*t);
    if (!url) return usage_error("diff", url.error().message);
    req.target = *url;
  }
  auto window = duration_flag(*args, "--window", req.window_ns);
  if (!window) return usage_error("diff", window.error().message);
  req.window_ns = *window;
  if (args->has("--window") && (args->has("--from") || args->has("--to")))
    return usage_error("diff", "--window cannot be combined with --from/--to");
  if (args->has("--from") != args->has("--to")) return usage_error("diff", "--from and --to go together");
  if (args->has("--from")) {
    auto from = base::parse_int64(*args->get("--from"));
    auto to = base::parse_int64(*args->get("--to"));
    if (!from || *from <= 0) return usage_error("diff", "--from: want a snapshot id, got '" + *args->get("--from") + "'");
    if (!to || *to <= 0) return usage_error("diff", "--to: want a snapshot id, got '" + *args->get("--to") + "'");
    if (*from > *to) return usage_error("diff", "--from " + std::to_string(*from) + " is after --to " + std::to_string(*to));
    req.from_id = *from;
    req.to_id = *to;
  }
  std::string format = args->get("--format").value_or("text");
  if (format != "text" && format != "json")
    return usage_error("diff", "--format: want text or json, got '" + format + "'");
  auto stuck = duration_flag(*args, "--stuck-after", req.detect.stuck_after_ns);
  if (!stuck) return usage_error("diff", stuck.error().message);
  req.detect.stuck_after_ns = *stuck;
  auto min_points = positive_int_flag(*args, "--min-snapshots", static_cast<std::int64_t>(req.detect.min_points));
  if (!min_points) return usage_error("diff", min_points.error().message);
  if (*min_points < 3) return usage_error("diff", "--min-snapshots: a trend needs at least 3 snapshots");
  req.detect.min_points = static_cast<std::size_t>(*min_points);

  auto st = open_store(args->get("--db").value_or(kDefaultDb), true);
  if (!st) return runtime_error(st.error().message);
  auto result = analyze(**st, req);
  if (!result) return runtime_error(result.error().message);
  for (const auto& [id, why] : result->skipped)
    std::fprintf(stderr, "leakwatch: warning: %s; snapshot %lld skipped, the others judged\n", why.c_str(),
                 static_cast<long long>(id));
  if (result->snapshots == 0) {
    std::string what = req.target ? "no snapshots of " + *req.target : std::string("no snapshots");
    if (req.from_id) what += " with ids " + std::to_string(*req.from_id) + ".." + std::to_string(*req.to_id);
    return runtime_error(what + " in " + (*st)->database().path());
  }
  if (format == "json") {
    std::fputs(findings_json(result->findings).c_str(), stdout);
  } else if (result->findings.empty()) {
    std::printf("no findings (%zu snapshots, %zu series)\n", result->snapshots, result->series);
  } else {
    const Palette& palette = palette_for(stdout);
    for (const auto& f : result->findings) std::fputs((finding_text(f, palette) + "\n").c_str(), stdout);
    std::printf("%zu findings (%zu snapshots, %zu series)\n", result->findings.size(), result->snapshots,
                result->series);
  }
  return result->findings.empty() ? kExitClean : kExitFindings;
}

}  // namespace lw::cli
