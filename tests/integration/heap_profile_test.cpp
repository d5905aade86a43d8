// The heap tracker end to end: a fixture that retains exactly N blocks of S bytes at one function,
// linked with leakwatch and under LD_PRELOAD, its heap profiles read by `go tool pprof -raw`
// (from files, and from /debug/pprof/heap with labels).
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "tests/integration/fixture_process.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/profile/pprof_raw.hpp"

namespace {

using lw::test::CommandResult;
using lw::test::run_command;

const std::string kRetain = "fixture::retain_here";

CommandResult pprof_raw(const std::string& args) {
  return run_command("cd /tmp && HOME=/tmp GOCACHE=/tmp/lw_gocache PPROF_TMPDIR=/tmp "
                     "go tool pprof -symbolize=none -raw " + args + " 2>&1");
}

struct Figures {
  long long alloc_objects = 0, alloc_bytes = 0, inuse_objects = 0, inuse_bytes = 0;
  int samples = 0;
  bool innermost = true;  // the function was the innermost frame of every matching sample
};

// at_function() sums the samples whose stack passes through `function`.
Figures at_function(const lw::test::RawProfile& p, const std::string& function) {
  Figures f;
  for (const auto& s : p.samples) {
    bool hit = false;
    for (std::size_t i = 0; i < s.frames.size() && !hit; ++i) {
      if (s.frames[i].find(function) == std::string::npos) continue;
      hit = true;
      if (i != 0) f.innermost = false;
    }
    if (!hit || s.values.size() != 4) continue;
    ++f.samples;
    f.alloc_objects += s.values[0];
    f.alloc_bytes += s.values[1];
    f.inuse_objects += s.values[2];
    f.inuse_bytes += s.values[3];
  }
  return f;
}

Figures read_profile(const std::string& args) {
  CommandResult r = pprof_raw(args);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto p = lw::test::parse_raw(r.output);
  CHECK(p.sample_types.find("inuse_space/bytes") != std::string::npos);
  return at_function(p, kRetain);
}

long long field(const std::string& out, const std::string& key) {
  auto at = out.find(key + "=");
  REQUIRE(at != std::string::npos);
  return std::stoll(out.substr(at + key.size() + 1));
}

void check_exact(const std::string& prefix, long long n, long long size) {
  Figures first = read_profile(prefix + ".0.pb.gz");
  CHECK(first.innermost);
  CHECK(first.inuse_objects == n);
  CHECK(first.inuse_bytes == n * size);
  CHECK(first.alloc_objects == n);
  Figures second = read_profile(prefix + ".1.pb.gz");
  CHECK(second.inuse_objects == 2 * n);
  CHECK(second.inuse_bytes == 2 * n * size);
  // pprof -base: the growth between the two profiles is the second round alone.
  Figures growth = read_profile("-base " + prefix + ".0.pb.gz " + prefix + ".1.pb.gz");
  CHECK(growth.inuse_objects == n);
  CHECK(growth.inuse_bytes == n * size);
}

}  // namespace

TEST_CASE("linked: exactly N blocks of S bytes at the function at rate 1; MemStats agree") {
  std::string dir = lw::test::make_temp_dir("heap_linked");
  const long long n = 1000, size = 4096;
  CommandResult r = run_command("LEAKWATCH_HEAP_RATE=1 " LW_HEAP_RETAIN_LINKED " 1000 4096 " + dir + "/p 2>&1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(field(r.output, "heap_alloc_delta") == n * size);
  CHECK(field(r.output, "mallocs_delta") == 2 * n);
  CHECK(field(r.output, "frees_delta") == n);
  CHECK(field(r.output, "objects_consistent") == 1);
  check_exact(dir + "/p", n, size);
  // The legacy debug=1 text says the same, and pprof's legacy parser reads it.
  std::string text = lw::test::run_command("cat " + dir + "/p.1.txt").output;
  CHECK(text.rfind("heap profile: ", 0) == 0);
  CHECK(text.find("# runtime.MemStats") != std::string::npos);
  long long objects = 0, bytes = 0;
  std::istringstream lines(text);
  std::string line, record;
  bool first_frame = false;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] != '#') {
      record = line;
      first_frame = true;
    } else if (first_frame && line.rfind("#\t", 0) == 0) {
      first_frame = false;
      if (line.find(kRetain) == std::string::npos) continue;
      objects += std::stoll(record);
      bytes += std::stoll(record.substr(record.find(':') + 1));
    }
  }
  CHECK(objects == 2 * n);
  CHECK(bytes == 2 * n * size);
  CommandResult legacy = pprof_raw(dir + "/p.1.txt");
  INFO(legacy.output);
  CHECK(legacy.exit_code == 0);
  CHECK(legacy.output.find("inuse_space/bytes") != std::string::npos);
}

TEST_CASE("LD_PRELOAD into an unmodified program, profile on a signal: the same answer") {
  std::string dir = lw::test::make_temp_dir("heap_preload");
  CommandResult r = run_command("LD_PRELOAD=" LW_PRELOAD_LIB " LEAKWATCH_HEAP_RATE=1 "
                                "LEAKWATCH_HEAP_PROFILE_SIGNAL=SIGUSR2 LEAKWATCH_HEAP_PROFILE_FILE=" +
                                dir + "/p.%n.pb.gz " LW_HEAP_RETAIN_PLAIN " 1000 4096 " + dir + "/p 2>&1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  check_exact(dir + "/p", 1000, 4096);
}

TEST_CASE("default rate: a 16 MiB leak is estimated within 10% over 20 seeded runs") {
  std::string dir = lw::test::make_temp_dir("heap_sampled");
  const double leak = 4096.0 * 4096.0;
  double sum = 0;
  int runs = 0;
  for (int seed = 1; seed <= 20; ++seed) {
    std::string prefix = dir + "/s" + std::to_string(seed);
    CommandResult r = run_command("LEAKWATCH_HEAP_SEED=" + std::to_string(seed) + " " LW_HEAP_RETAIN_LINKED
                                  " 4096 4096 " + prefix + " 2>&1");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    Figures f = read_profile(prefix + ".0.pb.gz");
    sum += static_cast<double>(f.inuse_bytes);
    ++runs;
    CHECK(f.inuse_bytes > leak / 3);  // one run alone: ~+-18% (about 32 samples)
    CHECK(f.inuse_bytes < leak * 3);
  }
  CHECK(sum / runs == doctest::Approx(leak).epsilon(0.10));
}

TEST_CASE("/debug/pprof/heap at rate 1: allocations inside with_labels carry its labels, others none") {
  const long long n = 100, size = 4096;
  lw::test::FixtureProcess app(LW_HEAP_RETAIN_LINKED, {"--serve", std::to_string(n), std::to_string(size)},
                               {"LEAKWATCH_HTTP=127.0.0.1:0", "LEAKWATCH_HEAP_RATE=1"}, "heap_retain: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  CommandResult r = pprof_raw("'" + app.url() + "/debug/pprof/heap'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const lw::test::RawProfile p = lw::test::parse_raw(r.output);
  long long labelled = 0, plain = 0;
  for (const auto& s : p.samples) {
    bool here = false;
    for (const auto& f : s.frames) here = here || f.find(kRetain) != std::string::npos;
    bool phase = false, other = false;
    for (const auto& l : s.labels) {
      if (l.find("phase:[retain]") != std::string::npos) phase = true;
      else if (l.find("bytes:") == std::string::npos) other = true;
    }
    CHECK(!other);  // no label but the size and the with_labels one
    if (!here) {
      CHECK(!phase);  // nothing else ran inside with_labels
      continue;
    }
    (phase ? labelled : plain) += s.values.at(2);
  }
  CHECK(labelled == n);
  CHECK(plain == n);
}
