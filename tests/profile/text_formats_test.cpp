// Go's text formats (goroutine debug=1/2, legacy heap text), read back by `go tool pprof`'s legacy
// parsers and by a parser with panicparse's rules.
#include <doctest/doctest.h>

#include <cmath>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "src/profile/goroutine_text.hpp"
#include "src/profile/heap_text.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/profile/pprof_raw.hpp"
#include "tests/profile/synthetic_snapshot.hpp"

using namespace lw;
using namespace lw::profile;
using lw::test::parse_raw;
using lw::test::pprof;

namespace {

std::string text_path(const std::string& name, const std::string& data) {
  const std::string& dir = test::temp_dir();
  std::string path = dir + "/" + name;
  test::write_file(path, data);
  return path;
}

std::string goroutines(const snapshot::Snapshot& s, int debug,
                       TaskSelection which = TaskSelection::kAll) {
  std::ostringstream os;
  write_goroutine_text(os, s, debug, which);
  return os.str();
}

std::string heap_text(const snapshot::Snapshot& s) {
  std::ostringstream os;
  write_heap_text(os, s);
  return os.str();
}

long long sum_first_values(const test::RawProfile& p, std::size_t index) {
  long long total = 0;
  for (const auto& s : p.samples) total += s.values.at(index);
  return total;
}

// A goroutine as panicparse reads it (stack/context.go's state machine and regexes, with the
// file pattern opened to C++ sources; panicparse's own accepts only .c, .go and .s files).
struct ParsedGoroutine {
  int id = 0;
  std::vector<std::string> items;  // the header's bracket split on ", "
  int minutes = 0;
  std::vector<std::string> functions;
  std::vector<std::string> files;
  std::string created_by;
  std::string created_at;
  std::vector<std::string> trailing;  // lines after the record that a parser passes through
};

std::vector<ParsedGoroutine> parse_like_panicparse(const std::string& text) {
  static const std::regex kHeader(R"(^([ \t]*)goroutine (\d+) \[([^\]]+)\]:$)");
  static const std::regex kMinutes(R"(^(\d+) minutes$)");
  static const std::regex kFile(R"(^(?:\t| +)(\?\?|.+):(\d+)(?:| \+0x[0-9a-f]+)$)");
  static const std::regex kCreated(R"(^created by (.+)$)");
  static const std::regex kFunc(R"(^(.+)\((.*)\)$)");
  enum {
    kNormal,
    kGotHeader,
    kGotFunc,
    kGotFileFunc,
    kGotCreated,
    kGotFileCreated
  } state = kNormal;
  std::vector<ParsedGoroutine> out;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    switch (state) {
      case kNormal:
        if (std::regex_match(line, m, kHeader)) {
          ParsedGoroutine g;
          g.id = std::stoi(m[2]);
          std::string items = m[3];
          for (std::size_t at = 0;;) {
            auto comma = items.find(", ", at);
            g.items.push_back(items.substr(at, comma - at));
            if (comma == std::string::npos) break;
            at = comma + 2;
          }
          for (std::size_t i = 1; i < g.items.size(); ++i)
            if (std::regex_match(g.items[i], m, kMinutes)) g.minutes = std::stoi(m[1]);
          out.push_back(g);
          state = kGotHeader;
        } else if (!line.empty() && !out.empty()) {
          out.back().trailing.push_back(line);
        }
        break;
      case kGotHeader:
      case kGotFileFunc:
        if (state == kGotFileFunc && std::regex_match(line, m, kCreated)) {
          out.back().created_by = m[1];
          state = kGotCreated;
        } else if (std::regex_match(line, m, kFunc)) {
          out.back().functions.push_back(m[1]);
          state = kGotFunc;
        } else if (state == kGotFileFunc) {
          if (!line.empty()) out.back().trailing.push_back(line);
          state = kNormal;
        } else {
          FAIL("expected a function after a goroutine header, got: " << line);
        }
        break;
      case kGotFunc:
        REQUIRE_MESSAGE(std::regex_match(line, m, kFile), "expected a file, got: " << line);
        out.back().files.push_back(std::string(m[1]) + ":" + std::string(m[2]));
        state = kGotFileFunc;
        break;
      case kGotCreated:
        REQUIRE_MESSAGE(std::regex_match(line, m, kFile), "expected a file, got: " << line);
        out.back().created_at = std::string(m[1]) + ":" + std::string(m[2]);
        state = kGotFileCreated;
        break;
      case kGotFileCreated:
        if (!line.empty()) out.back().trailing.push_back(line);
        state = kNormal;
        break;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("goroutine debug=1: Go's aggregated form, read by go tool pprof") {
  auto s = test::synthetic_snapshot();
  std::string text = goroutines(s, 1);
  // Go's exact words and shapes, largest group first; runtime frames (namespace lw) leading a
  // stack are hidden as Go hides runtime.gopark; the address on '#' lines is the call site.
  CHECK(text.rfind("goroutine profile: total 7\n"
                   "3 @ 0x402010 0x402020 0x402030 0x402040\n"
                   "# labels: {\"stage\":\"consume\"}\n"
                   "#\t0x40202f\tconsume(lw::Chan<int>)\t/src/consumer.cpp:21\n"
                   "#\t0x40203f\tlw::runtime::task_entry(void*)\t/src/runtime/task.cpp:77\n"
                   "\n"
                   "2 @ 0x402010 0x402050 0x402060 0x402040\n"
                   "# labels: {\"req\":\"42\", \"stage\":\"produce\"}\n",
                   0) == 0);
  CHECK(text.find("1 @ 0x4020b0 0x402040\n#\t0x4020af\tcompute(int)\t/src/compute.cpp:5\n") !=
        std::string::npos);

  auto r = pprof("-raw " + text_path("goroutine.txt", text));
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.sample_types == "goroutine/count");
  REQUIRE(p.samples.size() == 4);
  CHECK(sum_first_values(p, 0) == 7);
  CHECK(p.samples[0].values == std::vector<long long>{3});
  // pprof's legacy parser applies the same -1 to the raw addresses.
  CHECK(r.output.find("0x40202f") != std::string::npos);
}

TEST_CASE("goroutineleak debug=1 lists only proven-leaked tasks") {
  auto s = test::synthetic_snapshot();
  std::string text = goroutines(s, 1, TaskSelection::kLeaked);
  CHECK(text.rfind("goroutineleak profile: total 3\n2 @ 0x402010 0x402050 0x402060 0x402040\n",
                   0) == 0);
  auto r = pprof("-raw " + text_path("goroutineleak.txt", text));
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.sample_types == "goroutineleak/count");
  REQUIRE(p.samples.size() == 2);
  CHECK(sum_first_values(p, 0) == 3);
}

TEST_CASE("goroutine debug=2: every task parses with panicparse's rules") {
  auto s = test::synthetic_snapshot();
  std::string text = goroutines(s, 2);
  auto gs = parse_like_panicparse(text);
  REQUIRE(gs.size() == 7);  // the dead task is left out
  for (std::size_t i = 0; i < gs.size(); ++i) CHECK(gs[i].id == static_cast<int>(i) + 1);

  // Task 1: the first task, no creator; 90 s is "1 minutes" in Go's words.
  CHECK(gs[0].items == std::vector<std::string>{"sync.WaitGroup.Wait", "1 minutes"});
  CHECK(gs[0].minutes == 1);
  CHECK(gs[0].created_by.empty());
  CHECK(gs[0].functions == std::vector<std::string>{"lw::runtime::park(lw::WaitReason)",
                                                    "lw::WaitGroup::wait()", "run_main()", "main"});
  CHECK(gs[0].files[2] == "/src/main.cpp:30");

  // Task 2: waiting 5 min 7 s on a receive, created by start_pipeline (the go() frame skipped).
  CHECK(gs[1].items == std::vector<std::string>{"chan receive", "5 minutes"});
  CHECK(gs[1].minutes == 5);
  CHECK(gs[1].functions.at(2) == "consume(lw::Chan<int>)");
  CHECK(gs[1].created_by == "start_pipeline() in goroutine 1");
  CHECK(gs[1].created_at == "/src/pipeline.cpp:12");
  CHECK(gs[1].trailing == std::vector<std::string>{"# labels: {\"stage\":\"consume\"}"});

  // Task 4: proven leaked, marked as Go 1.26 marks it, with the proof after the record.
  CHECK(gs[3].items == std::vector<std::string>{"chan receive (leaked)", "5 minutes"});
  CHECK(gs[3].trailing ==
        std::vector<std::string>{"# labels: {\"stage\":\"consume\"}",
                                 "# leaked: no other handle of the channel remains"});

  // Task 5: waiting 3 s: exact time below a minute, in seconds.
  CHECK(gs[4].items == std::vector<std::string>{"chan send (leaked)", "3 seconds"});
  CHECK(gs[4].minutes == 0);

  // Task 7: running, no wait time.
  CHECK(gs[6].items == std::vector<std::string>{"running"});
  CHECK(gs[6].functions ==
        std::vector<std::string>{"compute(int)", "lw::runtime::task_entry(void*)"});
  CHECK(gs[6].trailing.empty());

  CHECK(text.find("goroutine 2 [chan receive, 5 minutes]:\n"
                  "lw::runtime::park(lw::WaitReason)(...)\n"
                  "\t/src/runtime/park.cpp:30\n") != std::string::npos);
}

TEST_CASE("goroutine debug=2: unsymbolized frames, odd wait reasons and the leaked view") {
  auto s = test::synthetic_snapshot();
  s.tasks[6].stack_id = 3;  // unmapped and unknown addresses
  s.tasks[1].wait_reason = "odd]reason\nwith newline";
  s.tasks[1].wait_since_unix_ns = s.time_unix_ns - 500'000'000;  // half a second: no time shown
  auto gs = parse_like_panicparse(goroutines(s, 2));
  REQUIRE(gs.size() == 7);
  CHECK(gs[1].items == std::vector<std::string>{"odd)reason with newline"});
  CHECK(gs[6].functions == std::vector<std::string>{"0x90000f", "0x4fffef", "main"});
  CHECK(gs[6].files == std::vector<std::string>{"??:0", "??:0", "/src/main.cpp:10"});

  auto leaked = parse_like_panicparse(goroutines(s, 2, TaskSelection::kLeaked));
  REQUIRE(leaked.size() == 3);
  CHECK(leaked[0].id == 4);
  CHECK(leaked[1].id == 5);
  CHECK(leaked[2].id == 6);
}

TEST_CASE("heap debug=1 text: Go's header, records and MemStats, read by go tool pprof") {
  auto s = test::synthetic_snapshot(1);
  std::string text = heap_text(s);
  CHECK(text.rfind("heap profile: 7: 3328 [14: 3812] @ heap/2\n"
                   "3: 3072 [3: 3072] @ 0x401010 0x7f0000001010 0x401610 0x401510\n"
                   "#\t0x40160f\tleaky_worker()\t/src/worker.cpp:17\n"
                   "#\t0x40150f\tmain\t/src/main.cpp:10\n\n",
                   0) == 0);
  CHECK(text.find("\n# runtime.MemStats\n# Alloc = 3328\n# TotalAlloc = 3812\n") !=
        std::string::npos);
  CHECK(text.find("# HeapObjects = 7\n# Stack = 65536 / 1048576\n") != std::string::npos);
  CHECK(text.find("# MaxRSS = 13631488\n") != std::string::npos);

  auto path = text_path("heap.txt", text);
  auto r = pprof("-raw " + path);
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.sample_types ==
        "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes");
  REQUIRE(p.samples.size() == 3);
  CHECK(sum_first_values(p, 0) == 14);
  CHECK(sum_first_values(p, 1) == 3812);
  CHECK(sum_first_values(p, 2) == 7);
  CHECK(sum_first_values(p, 3) == 3328);
  // The same totals as the protobuf profile's -top (pprof_builder_test).
  r = pprof("-top " + path);
  CHECK(r.output.find("of 3.25kB total") != std::string::npos);  // 3328 B
}

TEST_CASE("heap debug=1 text at the default rate: pprof's unbiasing gives our estimates back") {
  auto s = test::synthetic_snapshot(524288);
  // Estimates as the tracker makes them: one 64-byte sample weighs 1/(1-e^(-64/524288)) objects.
  const double w64 = 1 / (1 - std::exp(-64.0 / 524288));
  const double w4k = 1 / (1 - std::exp(-4096.0 / 524288));
  auto est = [](double w, int samples, int size) {
    return std::pair<std::int64_t, std::int64_t>(std::llround(w * samples),
                                                 std::llround(w * samples * size));
  };
  auto [a1, ab1] = est(w64, 3, 64);
  auto [i1, ib1] = est(w64, 1, 64);
  auto [a2, ab2] = est(w4k, 40, 4096);
  s.heap.sites = {{1, a1, ab1, i1, ib1}, {2, a2, ab2, a2, ab2}};
  std::string text = heap_text(s);
  // The text carries sample counts, as Go's does: 1 + 40 in use, 3 + 40 allocated, with their
  // sizes (to rounding of the estimates).
  std::smatch m;
  REQUIRE(std::regex_search(
      text, m, std::regex(R"(^heap profile: (\d+): (\d+) \[(\d+): (\d+)\] @ heap/1048576\n)")));
  CHECK(m[1] == "41");
  CHECK(std::abs(std::stoll(m[2]) - (64 + 40 * 4096)) <= 2);
  CHECK(m[3] == "43");
  CHECK(std::abs(std::stoll(m[4]) - (3 * 64 + 40 * 4096)) <= 2);
  auto r = pprof("-raw " + text_path("heap_sampled.txt", text));
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  REQUIRE(p.samples.size() == 2);
  auto near = [](long long got, std::int64_t want) {
    return std::llabs(got - want) <= std::max<std::int64_t>(2, want / 1000);
  };
  CHECK(near(sum_first_values(p, 0), a1 + a2));
  CHECK(near(sum_first_values(p, 1), ab1 + ab2));
  CHECK(near(sum_first_values(p, 2), i1 + a2));
  CHECK(near(sum_first_values(p, 3), ib1 + ab2));
}
