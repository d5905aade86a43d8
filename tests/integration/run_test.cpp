// `leakwatch run` as a user runs it, with the real preload library: which processes of the tree
// serve (only the one run execs, or every descendant with --follow-children), and that killing run
// takes the program with it.
#include <doctest/doctest.h>

#include <unistd.h>

#include <regex>
#include <set>
#include <string>

#include "tests/integration/run_command.hpp"

using lw::test::run_command;

namespace {

const std::string kCli = std::string("unset LEAKWATCH_PRELOAD LEAKWATCH_HTTP LEAKWATCH_SERVE_PID LEAKWATCH_CHILD_HTTP; '") +
                         LW_CLI + "'";

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("run: the program's 50 children are tracked but only the program serves") {
  auto r = run_command(kCli + " run --http 127.0.0.1:0 -- bash -c 'for i in $(seq 50); do /bin/true; done; echo loop done'");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(count_of(r.output, "loop done") == 1);
  CHECK(count_of(r.output, "debug server listening on http://127.0.0.1:") == 1);
  CHECK(count_of(r.output, "not started") == 0);
  CHECK(count_of(r.output, " serving http://") == 0);
}

TEST_CASE("run: a shell that execs the program in place hands the server to the program") {
  // bash serves (it is the process run exec'd), then execs sleep under the same pid: sleep serves.
  auto r = run_command(kCli + " run --http 127.0.0.1:0 -- bash -c 'exec sleep 20' 2>/tmp/lw_run_exec.$$ & rpid=$!; "
                       "for i in $(seq 100); do [ $(grep -c listening /tmp/lw_run_exec.$$) -ge 2 ] && break; sleep 0.1; done; "
                       "url=$(grep -o 'http://[0-9.:]*' /tmp/lw_run_exec.$$ | tail -1); "
                       "curl -s $url/debug/vars | head -c 300; echo; cat /tmp/lw_run_exec.$$; "
                       "kill -TERM $rpid; wait $rpid; echo run_exit=$?; rm -f /tmp/lw_run_exec.$$");
  INFO(r.output);
  CHECK(count_of(r.output, "debug server listening on") == 2);
  CHECK(count_of(r.output, "\"cmdline\": [\"sleep\", \"20\"]") + count_of(r.output, "\"cmdline\":[\"sleep\",\"20\"]") == 1);
  CHECK(count_of(r.output, "run_exit=143") == 1);
}

TEST_CASE("run --follow-children: every descendant serves on a port of its own") {
  auto loop = run_command(kCli + " run --http 127.0.0.1:0 --follow-children -- bash -c 'for i in $(seq 50); do /bin/true; done'");
  INFO(loop.output);
  CHECK(loop.exit_code == 0);
  CHECK(count_of(loop.output, "debug server listening on http://127.0.0.1:") == 1);  // bash
  static const std::regex kServing(R"(leakwatch: pid (\d+) \((\S+)\) serving http://127\.0\.0\.1:(\d+))");
  std::set<std::string> pids;
  int lines = 0;
  for (std::sregex_iterator it(loop.output.begin(), loop.output.end(), kServing), end; it != end; ++it) {
    if ((*it)[2].str() != "true") continue;  // $(seq 50) is a descendant too, and serves
    ++lines;
    pids.insert((*it)[1].str());
  }
  CHECK(lines == 50);
  CHECK(pids.size() == 50);

  // Children alive at once each answer on their own port.
  auto probe = run_command(kCli + " run --http 127.0.0.1:0 --follow-children -- bash -c "
                           "'sleep 20 & sleep 21 & sleep 22 & wait' 2>/tmp/lw_run_follow.$$ & rpid=$!; "
                           "for i in $(seq 100); do [ $(grep -c serving /tmp/lw_run_follow.$$) -ge 3 ] && break; sleep 0.1; done; "
                           "cat /tmp/lw_run_follow.$$; "
                           "for url in $(grep serving /tmp/lw_run_follow.$$ | grep -o 'http://[0-9.:]*'); do "
                           "  echo probe $url $(curl -s $url/debug/vars | grep cmdline); done; "
                           "kill $(grep -o 'pid [0-9]* (sleep)' /tmp/lw_run_follow.$$ | cut -d' ' -f2); wait $rpid; "
                           "rm -f /tmp/lw_run_follow.$$");
  INFO(probe.output);
  static const std::regex kProbe(R"re(probe http://127\.0\.0\.1:(\d+) "cmdline": *\["sleep", *"(2[012])"\])re");
  std::set<std::string> ports, args;
  for (std::sregex_iterator it(probe.output.begin(), probe.output.end(), kProbe), end; it != end; ++it) {
    ports.insert((*it)[1].str());
    args.insert((*it)[2].str());
  }
  CHECK(ports.size() == 3);
  CHECK(args == std::set<std::string>{"20", "21", "22"});
}

TEST_CASE("run: killing run with SIGKILL takes the program with it") {
  auto r = run_command(kCli + " run --http 127.0.0.1:0 -- sleep 30 2>/dev/null & rpid=$!; "
                       "for i in $(seq 100); do child=$(pgrep -P $rpid); [ -n \"$child\" ] && break; sleep 0.05; done; "
                       "echo child=$child; kill -KILL $rpid; "
                       "for i in $(seq 20); do st=$(ps -o stat= -p $child); case \"$st\" in ''|Z*) break;; esac; sleep 0.05; done; "
                       "echo \"after=$i state=[$st]\"");
  INFO(r.output);
  static const std::regex kAfter(R"(after=(\d+) state=\[(Z?)[^\]]*\])");
  std::smatch m;
  REQUIRE(std::regex_search(r.output, m, kAfter));
  CHECK(std::stoi(m[1]) < 20);  // gone (or a zombie waiting for its new parent) within a second
  CHECK(r.output.find("child=\n") == std::string::npos);
}

TEST_CASE("the preload library needs none of the server's libraries; its companion brings them") {
  auto needed = run_command("readelf -d '" LW_PRELOAD_LIB "' | grep NEEDED");
  INFO(needed.output);
  for (const char* heavy : {"libprotobuf", "libdw", "libz.so", "libboost", "libelf"})
    CHECK(needed.output.find(heavy) == std::string::npos);
  CHECK(needed.output.find("libmimalloc") != std::string::npos);
  auto companion = run_command("readelf -d '" LW_SERVER_COMPANION "' | grep -E 'NEEDED|RUNPATH'");
  INFO(companion.output);
  CHECK(companion.output.find("[libleakwatch_preload.so.0]") != std::string::npos);
  CHECK(companion.output.find("libprotobuf") != std::string::npos);
  CHECK(companion.output.find("runpath: [$ORIGIN") != std::string::npos);
  // Preloaded with no server asked for, a process never maps the companion.
  auto maps = run_command("LD_PRELOAD='" LW_PRELOAD_LIB "' /bin/cat /proc/self/maps");
  CHECK(maps.output.find("libleakwatch_preload.so") != std::string::npos);
  CHECK(maps.output.find("libleakwatch_server.so") == std::string::npos);
  CHECK(maps.output.find("libprotobuf") == std::string::npos);
}

TEST_CASE("run: a program that links libleakwatch.so runs without the preload library, and serves") {
  // Two copies of the same interposers in one process would call each other: run must see the
  // link (the program's DT_NEEDED) and leave the preload library out.
  const std::string profile = "/tmp/lw_run_linked_" + std::to_string(::getpid()) + ".pb.gz";
  auto r = run_command("timeout 60 " + kCli + " run --http 127.0.0.1:0 -- '" LW_CPU_BURN "' --profile-to " + profile + " 2>&1");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(count_of(r.output, "links libleakwatch.so: running it without the preload library") == 1);
  CHECK(count_of(r.output, "debug server listening on http://127.0.0.1:") == 1);
  auto raw = run_command("cd /tmp && HOME=/tmp GOCACHE=/tmp/lw_gocache go tool pprof -raw '" + profile + "' 2>&1");
  CHECK_MESSAGE(raw.exit_code == 0, raw.output);
  run_command("rm -f " + profile);
}

TEST_CASE("run: a file that only starts like an ELF executable is run as it would be without us, not misread") {
  const std::string bad = "/tmp/lw_run_truncated_" + std::to_string(::getpid());
  run_command("head -c 200 /bin/true > " + bad + " && chmod +x " + bad);
  auto r = run_command(kCli + " run --http 127.0.0.1:0 -- " + bad + " 2>&1");
  INFO(r.output);
  CHECK(r.exit_code == 127);  // the kernel refuses it; execvp hands it to sh, which cannot run it either
  CHECK(count_of(r.output, "links libleakwatch.so") == 0);
  run_command("rm -f " + bad);
}
