// The dump signal under a flood: at most one dump a second, each opened by its header (RFC 3339 UTC
// time, pid), the coalesced signals counted in the next header, and the file's size bounded by the
// number of seconds, not the number of signals. Its own executable: LEAKWATCH_DUMP_FILE is read once.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "leakwatch/runtime.hpp"
#include "leakwatch/task_info.hpp"
#include "runtime/dump_signal.hpp"

using namespace std::chrono_literals;

namespace {

std::string dump_file_path() { return "/tmp/lw_dump_signal_test_" + std::to_string(getpid()) + ".txt"; }
const bool kDumpEnv = [] {
  setenv("LEAKWATCH_DUMP_FILE", dump_file_path().c_str(), 1);
  unsetenv("LEAKWATCH_DUMP_SIGNAL");
  return true;
}();

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Header {
  long long unix_us = 0;
  int pid = 0;
  unsigned long skipped = 0;
};

// headers() parses every dump header of `text`; `malformed` counts lines that start like one and
// do not parse.
std::vector<Header> headers(const std::string& text, int* malformed) {
  static const std::regex kHeader(
      R"(^leakwatch dump (\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})Z pid (\d+)(?: \(skipped (\d+) signals?: at most one dump a second\))?$)");
  std::vector<Header> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("leakwatch dump", 0) != 0) continue;
    std::smatch m;
    if (!std::regex_match(line, m, kHeader)) {
      ++*malformed;
      continue;
    }
    std::tm t{};
    t.tm_year = std::stoi(m[1]) - 1900;
    t.tm_mon = std::stoi(m[2]) - 1;
    t.tm_mday = std::stoi(m[3]);
    t.tm_hour = std::stoi(m[4]);
    t.tm_min = std::stoi(m[5]);
    t.tm_sec = std::stoi(m[6]);
    Header h;
    h.unix_us = static_cast<long long>(timegm(&t)) * 1'000'000 + std::stoll(m[7]);
    h.pid = std::stoi(m[8]);
    h.skipped = m[9].matched ? std::stoul(m[9]) : 0;
    out.push_back(h);
  }
  return out;
}

long long wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("dump_header gives RFC 3339 UTC time, pid and the skipped signals") {
  // 2026-12-02T05:30:00.123456Z
  const long long t = 1796189400LL * 1'000'000'000 + 123'456'789;
  CHECK(lw::rt::dump_header(t, 4242, 0) == "leakwatch dump 2026-12-02T05:30:00.123456Z pid 4242\n\n");
  CHECK(lw::rt::dump_header(t, 7, 1) ==
        "leakwatch dump 2026-12-02T05:30:00.123456Z pid 7 (skipped 1 signal: at most one dump a second)\n\n");
  CHECK(lw::rt::dump_header(t, 7, 149) ==
        "leakwatch dump 2026-12-02T05:30:00.123456Z pid 7 (skipped 149 signals: at most one dump a second)\n\n");
}

TEST_CASE("a 2-second SIGUSR1 flood writes one dump a second, each with its header") {
  REQUIRE(kDumpEnv);
  std::remove(dump_file_path().c_str());
  lw::run([] {});  // installs the dump signal (once per process; the thread stays)
  std::ostringstream links_the_writer;  // the dump writer registers itself where task_dump.cpp is linked
  lw::write_task_dump(links_the_writer, 1);

  // One dump alone first, to know what one dump weighs here.
  unsigned long before = lw::rt::dump_requests();
  REQUIRE(raise(SIGUSR1) == 0);
  for (int i = 0; i < 500 && lw::rt::dump_requests() == before; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(lw::rt::dump_requests() == before + 1);
  const auto one_dump = static_cast<long long>(std::filesystem::file_size(dump_file_path()));
  std::remove(dump_file_path().c_str());

  const long long start_us = wall_us();
  const int pid = static_cast<int>(getpid());
  int sent = 0, failed = 0;
  for (auto end = std::chrono::steady_clock::now() + 2s; std::chrono::steady_clock::now() < end;) {
    (kill(pid, SIGUSR1) == 0 ? sent : failed)++;
    std::this_thread::sleep_for(100us);
  }
  REQUIRE(failed == 0);
  // The last coalesced dump comes at most a second after the last one written.
  std::this_thread::sleep_for(1500ms);
  const unsigned long settled = lw::rt::dump_requests();
  std::this_thread::sleep_for(300ms);
  REQUIRE(lw::rt::dump_requests() == settled);
  const long long end_us = wall_us();

  const std::string text = read_file(dump_file_path());
  int malformed = 0;
  const std::vector<Header> hs = headers(text, &malformed);
  const auto size = static_cast<long long>(text.size());
  MESSAGE(sent << " signals sent, " << hs.size() << " dumps, " << size << " bytes (one dump: " << one_dump << ")");
  CHECK(malformed == 0);
  CHECK(hs.size() >= 2);
  CHECK(hs.size() <= 4);
  CHECK(size <= 4 * (one_dump + 4096));
  unsigned long answered = 0;
  bool any_skipped = false;
  for (std::size_t i = 0; i < hs.size(); ++i) {
    CHECK(hs[i].pid == pid);
    CHECK(hs[i].unix_us >= start_us - 1000);
    CHECK(hs[i].unix_us <= end_us);
    if (i > 0) CHECK(hs[i].unix_us - hs[i - 1].unix_us >= 990'000);
    answered += 1 + hs[i].skipped;
    any_skipped = any_skipped || hs[i].skipped > 0;
  }
  CHECK(any_skipped);
  // Signals pending at once are merged by the kernel, so fewer may arrive than were sent.
  CHECK(answered <= static_cast<unsigned long>(sent));
  CHECK(answered > hs.size());

  // A signal more than a second after the last dump is answered at once, with nothing skipped.
  before = lw::rt::dump_requests();
  REQUIRE(raise(SIGUSR1) == 0);
  for (int i = 0; i < 500 && lw::rt::dump_requests() == before; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(lw::rt::dump_requests() == before + 1);
  const std::vector<Header> after = headers(read_file(dump_file_path()), &malformed);
  REQUIRE(after.size() == hs.size() + 1);
  CHECK(after.back().skipped == 0);
  std::remove(dump_file_path().c_str());
}
