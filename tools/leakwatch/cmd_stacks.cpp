// leakwatch stacks URL|FILE [--group] [--leaked] [--tasks-only|--threads-only] [--internal]: every
// task's and every OS thread's stack now, in Go's goroutine dump text (debug=2, or the aggregated
// debug=1 with --group), so goleak/panicparse-style tools read the tasks part. Tasks come first,
// then threads, a blank line between the two.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "src/profile/goroutine_text.hpp"
#include "src/profile/thread_text.hpp"
#include "tools/leakwatch/cli_args.hpp"
#include "tools/leakwatch/commands.hpp"
#include "tools/leakwatch/term_color.hpp"
#include "tools/leakwatch/target.hpp"

namespace lw::cli {
namespace {

constexpr const char* kHelp =
    "usage: leakwatch stacks URL|FILE [--group] [--leaked] [--tasks-only | --threads-only]\n"
    "                        [--internal] [--timeout D] [--max-snapshot-bytes N]\n"
    "\n"
    "Prints every task of the target, then every OS thread, with its state, wait reason, exact\n"
    "wait time, stack and creation site, as Go's goroutine?debug=2 does (threads as\n"
    "'thread TID \"NAME\" [state, wait]:'). FILE is a saved snapshot.\n"
    "\n"
    "  --group         one entry per distinct stack with a count (Go's debug=1)\n"
    "  --leaked        only the tasks and threads proven never to wake\n"
    "  --tasks-only    print the tasks only\n"
    "  --threads-only  print the threads only\n"
    "  --internal      include leakwatch's own threads and the task runtime's workers\n"
    "  --timeout D     deadline for the whole request (default 10s)\n"
    "  --max-snapshot-bytes N  refuse a bigger snapshot (default 256MiB)\n";

}  // namespace

int cmd_stacks(int argc, char** argv) {
  auto args = parse_args("stacks", argc, argv, 2,
                         {{"--group", false},
                          {"--leaked", false},
                          {"--tasks-only", false},
                          {"--threads-only", false},
                          {"--internal", false},
                          {"--timeout", true}, {"--max-snapshot-bytes", true}});
  if (!args) return usage_error("stacks", args.error().message);
  if (args->help) return std::fputs(kHelp, stdout), kExitClean;
  if (args->positional.size() != 1)
    return usage_error("stacks", args->positional.empty() ? "no target URL or file given" : "give one target URL or file");
  if (args->has("--tasks-only") && args->has("--threads-only"))
    return usage_error("stacks", "--tasks-only and --threads-only exclude each other");
  auto timeout = duration_flag(*args, "--timeout", kDefaultHttpTimeoutNs);
  if (!timeout) return usage_error("stacks", timeout.error().message);
  auto max_bytes = size_flag(*args, "--max-snapshot-bytes", kDefaultMaxSnapshotBytes);
  if (!max_bytes) return usage_error("stacks", max_bytes.error().message);
  auto snap = read_snapshot_source(args->positional[0], *timeout, *max_bytes);
  if (!snap) return runtime_error(snap.error().message);
  const int debug = args->has("--group") ? 1 : 2;
  const bool leaked = args->has("--leaked");
  const bool tasks = !args->has("--threads-only");
  const bool threads = !args->has("--tasks-only");
  const Palette& palette = palette_for(stdout);
  if (tasks) {
    std::ostringstream task_text;
    profile::write_goroutine_text(task_text, *snap, debug,
                                  leaked ? profile::TaskSelection::kLeaked : profile::TaskSelection::kAll);
    std::cout << paint_dump(palette, task_text.str());
    // debug=1 records end with a blank line already; debug=2 records do not.
    if (threads && debug == 2 && task_text.tellp() > 0) std::cout << '\n';
  }
  if (threads) {
    std::ostringstream thread_text;
    profile::write_thread_text(thread_text, *snap, debug,
                               leaked ? profile::ThreadSelection::kLeaked : profile::ThreadSelection::kAll,
                               args->has("--internal"));
    std::cout << paint_dump(palette, thread_text.str());
  }
  std::cout.flush();
  return std::cout ? kExitClean : runtime_error("cannot write to standard output");
}

}  // namespace lw::cli
