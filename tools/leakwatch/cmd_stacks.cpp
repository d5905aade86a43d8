// leakwatch stacks URL|FILE [--group] [--leaked]: every task's stack now, in Go's goroutine dump
// text (debug=2, or the aggregated debug=1 with --group), so goleak/panicparse-style tools read it.
#include <cstdio>
#include <iostream>

#include "src/profile/goroutine_text.hpp"
#include "tools/leakwatch/cli_args.hpp"
#include "tools/leakwatch/commands.hpp"
#include "tools/leakwatch/target.hpp"

namespace lw::cli {
namespace {

constexpr const char* kHelp =
    "usage: leakwatch stacks URL|FILE [--group] [--leaked] [--timeout D]\n"
    "\n"
    "Prints every task of the target with its state, wait reason, exact wait time, stack and\n"
    "creation site, as Go's goroutine?debug=2 does. FILE is a saved snapshot.\n"
    "\n"
    "  --group      one entry per distinct stack with a count (Go's debug=1)\n"
    "  --leaked     only the tasks the runtime proved can never wake\n"
    "  --timeout D  HTTP connect and read timeout (default 10s)\n";

}  // namespace

int cmd_stacks(int argc, char** argv) {
  auto args = parse_args("stacks", argc, argv, 2, {{"--group", false}, {"--leaked", false}, {"--timeout", true}});
  if (!args) return usage_error("stacks", args.error().message);
  if (args->help) return std::fputs(kHelp, stdout), kExitClean;
  if (args->positional.size() != 1)
    return usage_error("stacks", args->positional.empty() ? "no target URL or file given" : "give one target URL or file");
  auto timeout = duration_flag(*args, "--timeout", kDefaultHttpTimeoutNs);
  if (!timeout) return usage_error("stacks", timeout.error().message);
  auto snap = read_snapshot_source(args->positional[0], *timeout);
  if (!snap) return runtime_error(snap.error().message);
  profile::write_goroutine_text(std::cout, *snap, args->has("--group") ? 1 : 2,
                                args->has("--leaked") ? profile::TaskSelection::kLeaked : profile::TaskSelection::kAll);
  std::cout.flush();
  return std::cout ? kExitClean : runtime_error("cannot write to standard output");
}

}  // namespace lw::cli
