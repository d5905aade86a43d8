#include "tests/integration/run_command.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace lw::test {

CommandResult run_command(const std::string& command) {
  CommandResult r;
  std::string full = "(" + command + ") 2>&1";
  std::FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
  int status = pclose(p);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

std::string make_temp_dir(const char* tag) {
  std::string templ = std::string("/tmp/lw_") + tag + "_XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return templ;
}

}  // namespace lw::test
