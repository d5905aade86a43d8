// leakwatch: the command-line side. Reads snapshots from targets' /debug/leakwatch/snapshot,
// stores them, diffs them and prints findings. Exit codes: 0 no findings, 1 findings, 2 usage or
// runtime error; errors are printed as "leakwatch: error: ...".
#include <cstdio>
#include <cstring>
#include <string_view>

#include "leakwatch/version.hpp"
#include "tools/leakwatch/commands.hpp"

namespace {

constexpr const char* kUsage =
    "usage: leakwatch <command> [options]\n"
    "\n"
    "commands:\n"
    "  snapshot URL            take one snapshot of a target and store it\n"
    "  watch URL...            snapshot targets periodically and report leaks as they appear\n"
    "  diff                    report leaks found in the stored snapshots\n"
    "  stacks URL|FILE         print every task's and thread's stack now (Go's goroutine dump)\n"
    "  top URL|FILE            print the top heap sites of a target or a snapshot file\n"
    "  export                  write a stored snapshot as a pprof profile\n"
    "  run -- PROGRAM ARGS...  run a program under the leakwatch tracker\n"
    "  version                 print the version\n"
    "\n"
    "Exit status: 0 no findings, 1 findings, 2 usage or runtime error.\n"
    "Run 'leakwatch <command> --help' for a command's options.\n";

int usage_error(const char* fmt, std::string_view arg) {
  std::fprintf(stderr, "leakwatch: error: ");
  std::fprintf(stderr, fmt, static_cast<int>(arg.size()), arg.data());
  std::fprintf(stderr, "\n%s", kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no command given%.*s", "");
  std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "version" || cmd == "--version") {
    std::printf("leakwatch %s\n", lw::version_string());
    return 0;
  }
  if (cmd == "snapshot") return lw::cli::cmd_snapshot(argc, argv);
  if (cmd == "watch") return lw::cli::cmd_watch(argc, argv);
  if (cmd == "diff") return lw::cli::cmd_diff(argc, argv);
  if (cmd == "stacks") return lw::cli::cmd_stacks(argc, argv);
  if (cmd == "top") return lw::cli::cmd_top(argc, argv);
  if (cmd == "export") return lw::cli::cmd_export(argc, argv);
  if (cmd == "run") return lw::cli::cmd_run(argc, argv);
  return usage_error("unknown command '%.*s'", cmd);
}
