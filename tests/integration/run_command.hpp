// run_command.hpp: running a real program from a test and reading what it printed.
// For tests only; allocates.
#pragma once

#include <string>

namespace lw::test {

struct CommandResult {
  int exit_code = -1;  // -1 if it did not exit normally
  std::string output;  // stdout and stderr, interleaved
};

// run_command() runs `command` with /bin/sh, capturing stdout and stderr together.
CommandResult run_command(const std::string& command);

// make_temp_dir() creates a fresh directory under /tmp and returns its path.
std::string make_temp_dir(const char* tag);

}  // namespace lw::test
