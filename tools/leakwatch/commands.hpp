// commands.hpp: the subcommands of `leakwatch`. Each takes main's argc/argv (argv[1] is the
// command) and returns the process exit code (0 no findings, 1 findings, 2 error).
#pragma once

namespace lw::cli {

int cmd_snapshot(int argc, char** argv);
int cmd_watch(int argc, char** argv);
int cmd_diff(int argc, char** argv);
int cmd_stacks(int argc, char** argv);
int cmd_top(int argc, char** argv);
int cmd_export(int argc, char** argv);
int cmd_run(int argc, char** argv);

}  // namespace lw::cli
