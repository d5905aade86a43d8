#include "tests/integration/fixture_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace lw::test {

FixtureProcess::FixtureProcess(std::string program, std::vector<std::string> args,
                               std::vector<std::string> env, std::string ready_text)
    : ready_text_(std::move(ready_text)) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  pid_ = fork();
  if (pid_ < 0) return;
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    for (const std::string& kv : env) putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> argv{program.data()};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(program.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
  drain_ = std::thread([this] { drain(); });
  for (int i = 0; i < 600 && !ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::string text = output();
  if (auto at = text.find("debug server listening on "); at != std::string::npos) {
    std::size_t start = at + std::strlen("debug server listening on ");
    url_ = text.substr(start, text.find_first_of(" \n", start) - start);
  }
}

FixtureProcess::~FixtureProcess() { terminate(); }

int FixtureProcess::terminate() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    bool exited = false;
    for (int i = 0; i < 200 && !exited; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) exited = true;
      else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!exited) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    exit_code_ = exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid_ = -1;
  }
  if (drain_.joinable()) drain_.join();
  if (out_fd_ >= 0) close(out_fd_);
  out_fd_ = -1;
  return exit_code_;
}

std::string FixtureProcess::output() {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

bool FixtureProcess::ready() {
  std::string out = output();
  auto at = out.find(ready_text_);
  return at != std::string::npos && out.find('\n', at) != std::string::npos;
}

void FixtureProcess::drain() {
  char buf[4096];
  for (ssize_t n; (n = read(out_fd_, buf, sizeof buf)) > 0;) {
    std::lock_guard<std::mutex> lock(mu_);
    out_.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace lw::test
