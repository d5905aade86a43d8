// fixture_process.hpp: a real program started by a test, with its output collected and its debug
// server's address read from its "debug server listening on URL" line. For tests only; allocates.
#pragma once

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace lw::test {

// FixtureProcess runs `program args...` with `env` added, stdout and stderr collected, and waits
// (bounded, 30 s) until `ready_text` has been printed as a whole line. The destructor ends it
// (SIGTERM, then SIGKILL), and the child dies with the test if the test dies first
// (PR_SET_PDEATHSIG), so no fixture outlives a failed test.
class FixtureProcess {
 public:
  FixtureProcess(std::string program, std::vector<std::string> args, std::vector<std::string> env,
                 std::string ready_text);
  ~FixtureProcess();
  FixtureProcess(const FixtureProcess&) = delete;
  FixtureProcess& operator=(const FixtureProcess&) = delete;

  // terminate() sends SIGTERM and returns the exit code (-1 if it had to be killed).
  int terminate();
  // ok() is true once the program printed its ready line (tests REQUIRE it first).
  bool ok() { return ready(); }
  // url() is the debug server's address ("http://127.0.0.1:PORT"), empty if none was printed.
  const std::string& url() const { return url_; }
  int pid() const { return pid_; }
  std::string output();

 private:
  bool ready();
  void drain();

  std::string ready_text_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int exit_code_ = -1;
  std::thread drain_;
  std::mutex mu_;
  std::string out_;  // Guarded by mu_.
  std::string url_;
};

}  // namespace lw::test
