// leakwatch run [--http ADDR] [--follow-children] -- PROGRAM ARGS...: run an unmodified program
// under the tracker.
//
// The program is exec'd in a child with LD_PRELOAD=<libdir>/libleakwatch_preload.so (the copy
// installed beside this leakwatch) and LEAKWATCH_HTTP=ADDR, which starts its debug server. We stay
// its parent rather than exec'ing in place so that a failure to start is reported in our words and
// the exit status is the program's: signals we receive (Ctrl-C, SIGTERM, ...) are passed on, and
// a program killed by signal N makes us exit with 128+N, as a shell does. Rejected: exec in place
// (simplest, but then "cannot find the preload library" and "program not found" errors would be
// the dynamic loader's, printed after the program was already gone).
//
// Only the process we exec serves: the child sets LEAKWATCH_SERVE_PID to its own pid before exec
// (src/base/serve_env.hpp), so the program's children, which inherit LD_PRELOAD and are tracked,
// do not each try to bind ADDR. --follow-children gives every descendant a server of its own on an
// ephemeral port (LEAKWATCH_CHILD_HTTP=HOST:0), each announced with its pid.
//
// Staying the parent must not leave the program running unobserved when we are killed without a
// chance to pass the signal on (SIGKILL, the OOM killer): the child asks for SIGKILL on our death
// (PR_SET_PDEATHSIG) before exec, and checks getppid() afterwards, since we may have died between
// fork and prctl. The request covers the program we exec, not the processes it starts.
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "src/base/parse.hpp"
#include "tools/leakwatch/cli_args.hpp"
#include "tools/leakwatch/commands.hpp"
#include "tools/leakwatch/elf_needed.hpp"

#ifndef LW_INSTALL_LIBDIR_FROM_BINDIR
#define LW_INSTALL_LIBDIR_FROM_BINDIR "../lib"
#endif
#ifndef LW_BUILD_LIBDIR_FROM_CLI
#define LW_BUILD_LIBDIR_FROM_CLI "../.."
#endif

namespace lw::cli {
namespace {

constexpr const char* kHelp =
    "usage: leakwatch run [--http ADDR] [--follow-children] -- PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM with the leakwatch tracker preloaded (libleakwatch_preload.so) and its debug\n"
    "server on ADDR, so 'leakwatch watch ADDR', 'leakwatch stacks ADDR' and go tool pprof can\n"
    "read it. PROGRAM's children are tracked too, but only PROGRAM serves. Signals are passed on\n"
    "to the program; leakwatch exits with its status (128+N if it was killed by signal N), or 2\n"
    "if it could not be started. If leakwatch itself is killed, PROGRAM gets SIGKILL.\n"
    "\n"
    "  --http ADDR          where the debug server listens (default 127.0.0.1:6060)\n"
    "  --follow-children    every descendant serves too, on a port of its own, announced on\n"
    "                       stderr as 'leakwatch: pid N (name) serving http://HOST:PORT'\n"
    "\n"
    "Environment: LEAKWATCH_PRELOAD overrides the preload library's path (its server,\n"
    "libleakwatch_server.so, must be beside it); other LEAKWATCH_*\n"
    "variables (LEAKWATCH_TOKEN, ...) are passed to the program as they are.\n";

volatile sig_atomic_t g_child = 0;

extern "C" void forward_signal(int sig) {
  if (g_child > 0) kill(g_child, sig);
}

std::string exe_dir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<std::size_t>(n));
  return p.substr(0, p.rfind('/'));
}

std::string find_preload(std::vector<std::string>* tried) {
  if (const char* env = std::getenv("LEAKWATCH_PRELOAD"); env && *env) {
    tried->push_back(env);
    return access(env, R_OK) == 0 ? env : "";
  }
  std::string dir = exe_dir();
  for (const char* rel : {LW_INSTALL_LIBDIR_FROM_BINDIR, "../lib", LW_BUILD_LIBDIR_FROM_CLI}) {
    std::string candidate = dir + "/" + rel + "/libleakwatch_preload.so";
    tried->push_back(candidate);
    if (access(candidate.c_str(), R_OK) == 0) {
      char real[PATH_MAX];
      return realpath(candidate.c_str(), real) ? std::string(real) : candidate;
    }
  }
  return "";
}

// companion_of() is where the preload library loads its server from: libleakwatch_server.so in
// its own directory (src/server/preload_start.cpp).
std::string companion_of(const std::string& preload) {
  auto slash = preload.rfind('/');
  return (slash == std::string::npos ? std::string(".") : preload.substr(0, slash)) + "/libleakwatch_server.so";
}

// links_leakwatch() says whether `program` links libleakwatch.so itself: it then has the tracker
// and serves from LEAKWATCH_HTTP alone, and must not get the preload library as well (the two
// copies of the same interposers would call each other).
bool links_leakwatch(const std::string& program) {
  auto needed = elf_needed(find_program(program));
  if (!needed) return false;
  for (const std::string& lib : *needed)
    if (lib.rfind("libleakwatch.so", 0) == 0) return true;
  return false;
}

bool valid_listen_address(const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  auto port = base::parse_int64(std::string_view(addr).substr(colon + 1));
  return port && *port >= 0 && *port <= 65535;
}

}  // namespace

int cmd_run(int argc, char** argv) {
  auto args = parse_args("run", argc, argv, 2, {{"--http", true}, {"--follow-children", false}},
                         /*positional_ends_flags=*/true);
  if (!args) return usage_error("run", args.error().message);
  if (args->help) return std::fputs(kHelp, stdout), kExitClean;
  if (args->rest.empty()) return usage_error("run", "no program given (leakwatch run -- PROGRAM ARGS...)");
  std::string http = args->get("--http").value_or("127.0.0.1:6060");
  if (!valid_listen_address(http)) return usage_error("run", "--http: want HOST:PORT, got '" + http + "'");
  const bool follow_children = args->has("--follow-children");
  const std::string child_http = http.substr(0, http.rfind(':')) + ":0";

  // A program that links libleakwatch.so has the tracker already and serves from LEAKWATCH_HTTP
  // alone; the preload library would be a second copy of the same interposers.
  const bool linked = links_leakwatch(args->rest[0]);
  std::string ld = std::getenv("LD_PRELOAD") != nullptr ? std::getenv("LD_PRELOAD") : "";
  if (linked) {
    std::fprintf(stderr, "leakwatch: %s links libleakwatch.so: running it without the preload library%s\n",
                 args->rest[0].c_str(), follow_children ? " (its children are tracked only if they link it too)" : "");
  } else {
    std::vector<std::string> tried;
    std::string preload = find_preload(&tried);
    if (preload.empty()) {
      std::string where;
      for (const auto& t : tried) where += "\n  " + t;
      return runtime_error("cannot find libleakwatch_preload.so; looked at:" + where +
                           "\n(set LEAKWATCH_PRELOAD to its path)");
    }
    // Without its companion the program runs tracked but never serves: say so now, in our words. A
    // LEAKWATCH_PRELOAD of the user's own is taken as it is.
    const char* override_env = std::getenv("LEAKWATCH_PRELOAD");
    if (std::string companion = companion_of(preload);
        (override_env == nullptr || *override_env == '\0') && access(companion.c_str(), R_OK) != 0) {
      std::fprintf(stderr, "leakwatch: warning: no %s beside the preload library: the program is tracked "
                   "but will not serve\n", companion.c_str());
    }
    ld = ld.empty() ? preload : preload + ":" + ld;
  }

  // The child reports a failed exec through a close-on-exec pipe: EOF means it started.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::vector<char*> child_argv;
  for (auto& a : args->rest) child_argv.push_back(a.data());
  child_argv.push_back(nullptr);

  const int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  sigset_t block, old_mask;
  sigemptyset(&block);
  for (int s : kForwarded) sigaddset(&block, s);
  sigprocmask(SIG_BLOCK, &block, &old_mask);  // no signal lost between fork and the handlers
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    close(report[0]);
    if (ld.empty()) unsetenv("LD_PRELOAD"); else setenv("LD_PRELOAD", ld.c_str(), 1);
    setenv("LEAKWATCH_HTTP", http.c_str(), 1);
    setenv("LEAKWATCH_SERVE_PID", std::to_string(getpid()).c_str(), 1);
    if (follow_children) {
      setenv("LEAKWATCH_CHILD_HTTP", child_http.c_str(), 1);
    } else {
      unsetenv("LEAKWATCH_CHILD_HTTP");
    }
    // Die with us. If we are already gone (killed between fork and here), so is the program.
    int err = 0;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) == 0) {
      if (getppid() != parent) _exit(127);
      execvp(child_argv[0], child_argv.data());
    }
    err = errno;
    (void)!write(report[1], &err, sizeof err);
    _exit(127);
  }
  g_child = pid;
  close(report[1]);
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : kForwarded) sigaction(s, &sa, nullptr);
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);

  int err = 0;
  ssize_t n;
  do n = read(report[0], &err, sizeof err); while (n < 0 && errno == EINTR);
  close(report[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof err))
    return runtime_error("cannot run " + args->rest[0] + ": " + std::strerror(err));
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : kExitError;
}

}  // namespace lw::cli
