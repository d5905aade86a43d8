// The leakwatch CLI as a user runs it: exit codes and error text.
#include <doctest/doctest.h>

#include "tests/integration/run_command.hpp"

using lw::test::run_command;

TEST_CASE("leakwatch without a command is a usage error") {
  auto r = run_command("'" LW_CLI "'");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("leakwatch: error: no command given") != std::string::npos);
  CHECK(r.output.find("usage: leakwatch") != std::string::npos);
}

TEST_CASE("an unknown command is named in the error") {
  auto r = run_command("'" LW_CLI "' frobnicate");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown command 'frobnicate'") != std::string::npos);
}

TEST_CASE("version and help succeed") {
  auto v = run_command("'" LW_CLI "' version");
  CHECK(v.exit_code == 0);
  CHECK(v.output == "leakwatch 0.1.0\n");
  auto h = run_command("'" LW_CLI "' --help");
  CHECK(h.exit_code == 0);
  CHECK(h.output.find("commands:") != std::string::npos);
}
