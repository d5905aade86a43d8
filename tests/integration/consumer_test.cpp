// Installs the build into a scratch prefix and builds a downstream project against it, the two ways
// users do: find_package(leakwatch CONFIG) and pkg-config; then `leakwatch run` from the installed
// tree (the preload library and its server companion found there).
#include <doctest/doctest.h>

#include "tests/integration/run_command.hpp"

using lw::test::run_command;

TEST_CASE("an installed leakwatch serves find_package and pkg-config consumers") {
  std::string tmp = lw::test::make_temp_dir("consumer");
  std::string prefix = tmp + "/prefix";
  auto install = run_command("cmake --install '" LW_BUILD_DIR "' --prefix '" + prefix + "'");
  INFO(install.output);
  REQUIRE(install.exit_code == 0);

  auto configure = run_command("cmake -S '" LW_SOURCE_DIR "/tests/consumer' -B '" + tmp +
                               "/build' -DCMAKE_PREFIX_PATH='" + prefix + "' -DCMAKE_CXX_COMPILER='" LW_CXX "'");
  INFO(configure.output);
  REQUIRE(configure.exit_code == 0);
  auto build = run_command("cmake --build '" + tmp + "/build'");
  INFO(build.output);
  REQUIRE(build.exit_code == 0);
  auto run = run_command("'" + tmp + "/build/consumer'");
  CHECK(run.exit_code == 0);
  CHECK(run.output.find("consumer linked leakwatch 0.1.0") != std::string::npos);

  // pkg-config: the .pc file is relocatable, so the scratch prefix works as is.
  std::string pc = "PKG_CONFIG_PATH='" + prefix + "/lib/pkgconfig:" + prefix +
                   "/lib/x86_64-linux-gnu/pkgconfig' pkg-config";
  auto flags = run_command(pc + " --cflags --libs leakwatch");
  INFO(flags.output);
  REQUIRE(flags.exit_code == 0);
  auto compile = run_command("'" LW_CXX "' -o '" + tmp + "/consumer_pc' '" LW_SOURCE_DIR
                             "/tests/consumer/main.cpp' $(" + pc + " --cflags --libs leakwatch)");
  INFO(compile.output);
  REQUIRE(compile.exit_code == 0);
  auto libdir = run_command(pc + " --variable=libdir leakwatch");
  std::string dir = libdir.output.substr(0, libdir.output.find('\n'));
  auto run_pc = run_command("LD_LIBRARY_PATH='" + dir + "' '" + tmp + "/consumer_pc'");
  CHECK(run_pc.exit_code == 0);
  CHECK(run_pc.output.find("consumer linked leakwatch") != std::string::npos);

  // The installed CLI preloads the installed library, which loads its server from beside itself.
  auto preloaded = run_command("unset LEAKWATCH_PRELOAD LEAKWATCH_HTTP LEAKWATCH_SERVE_PID; '" + prefix +
                               "/bin/leakwatch' run --http 127.0.0.1:0 -- /bin/sh -c 'echo \"preloaded=$LD_PRELOAD\"'");
  INFO(preloaded.output);
  CHECK(preloaded.exit_code == 0);
  CHECK(preloaded.output.find("preloaded=" + prefix + "/lib") != std::string::npos);
  CHECK(preloaded.output.find("libleakwatch_preload.so") != std::string::npos);
  CHECK(preloaded.output.find("leakwatch: debug server listening on http://127.0.0.1:") != std::string::npos);
  CHECK(preloaded.output.find("warning") == std::string::npos);
  run_command("rm -rf '" + tmp + "'");
}
