// The pprof writers, read back by the real client: `go tool pprof` (Go 1.19).
#include <doctest/doctest.h>

#include <string>

#include "src/profile/gzip.hpp"
#include "src/profile/pprof_builder.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/profile/pprof_raw.hpp"
#include "tests/profile/synthetic_snapshot.hpp"

using namespace lw;
using namespace lw::profile;
using lw::test::find_sample;
using lw::test::parse_raw;
using lw::test::pprof;

namespace {

const std::vector<std::string> kPutStack = {"cache::Store::put(std::string const&)",
                                            "handle_request(Request const&)", "main"};
const std::vector<std::string> kWorkerStack = {"leaky_worker()", "main"};

// write_profile() writes `data` gzipped (as served) into a fresh directory and returns the path.
std::string write_profile(const std::string& name, const std::string& data) {
  const std::string& dir = test::temp_dir();
  std::string path = dir + "/" + name;
  test::write_file(path, gzip(data));
  return path;
}

}  // namespace

TEST_CASE("heap profile: pprof reads Go's sample types, exact figures and symbolized stacks") {
  auto s = test::synthetic_snapshot(/*rate=*/1);
  auto path = write_profile("heap", heap_pprof(s, HeapView::kInuse));
  auto r = pprof("-raw " + path);
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.header.find("PeriodType: space bytes") != std::string::npos);
  CHECK(p.header.find("Period: 1\n") != std::string::npos);
  CHECK(p.header.find("Time: 2023-11-14 22:13:20 +0000 UTC") != std::string::npos);
  CHECK(p.sample_types ==
        "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt]");
  REQUIRE(p.samples.size() == 3);

  // drop_frames removed the hook, malloc and operator new frames above the user's code.
  const auto* put = find_sample(p, kPutStack);
  REQUIRE(put != nullptr);
  CHECK(put->values == std::vector<long long>{10, 640, 4, 256});
  CHECK(put->labels == std::vector<std::string>{"bytes:[64]"});
  const auto* worker = find_sample(p, kWorkerStack);
  REQUIRE(worker != nullptr);
  CHECK(worker->values == std::vector<long long>{3, 3072, 3, 3072});
  CHECK(worker->labels == std::vector<std::string>{"bytes:[1024]"});
  // An address in no mapping and one with no symbol are kept as bare addresses.
  const auto* unknown = find_sample(p, {"", "", "main"});
  REQUIRE(unknown != nullptr);
  CHECK(unknown->values == std::vector<long long>{1, 100, 0, 0});

  // Location.address is the call site (return address - 1), with the snapshot's mappings.
  CHECK(r.output.find("0x40130f M=1 cache::Store::put(std::string const&) /src/cache.cpp:42") !=
        std::string::npos);
  CHECK(r.output.find("0x90000f \n") != std::string::npos);
  CHECK(p.mappings.find("0x400000/0x500000/0x0 /usr/bin/svc b1d0 [FN][FL][LN]") !=
        std::string::npos);
  CHECK(p.mappings.find("0x7f0000000000/0x7f0000100000/0x1000 "
                        "/usr/lib/x86_64-linux-gnu/libc.so.6  [FN]") != std::string::npos);
}

TEST_CASE("heap profile: -top totals per view and sample index") {
  auto s = test::synthetic_snapshot(1);
  auto inuse = write_profile("heap_inuse", heap_pprof(s, HeapView::kInuse));
  auto allocs = write_profile("heap_allocs", heap_pprof(s, HeapView::kAlloc));

  auto r = pprof("-top " + inuse);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("Type: inuse_space") != std::string::npos);
  CHECK(r.output.find("Showing nodes accounting for 3328B, 100% of 3328B total") !=
        std::string::npos);

  r = pprof("-top " + allocs);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("Type: alloc_space") != std::string::npos);
  CHECK(r.output.find("of 3812B total") != std::string::npos);

  r = pprof("-top -sample_index=inuse_objects " + allocs);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("Showing nodes accounting for 7, 100% of 7 total") != std::string::npos);
  // The allocator frames never show as nodes.
  CHECK(r.output.find("malloc") == std::string::npos);
  CHECK(r.output.find("operator new") == std::string::npos);
  CHECK(r.output.find("record_sample") == std::string::npos);
}

TEST_CASE("heap profile: sampled estimates are written as they are, period = rate") {
  auto s = test::synthetic_snapshot(524288);
  s.heap.sites = {{1, 8192, 524288, 4096, 262144}};
  auto r = pprof("-raw " + write_profile("heap_sampled", heap_pprof(s, HeapView::kInuse)));
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.header.find("Period: 524288\n") != std::string::npos);
  REQUIRE(p.samples.size() == 1);
  CHECK(p.samples[0].values == std::vector<long long>{8192, 524288, 4096, 262144});
  CHECK(p.samples[0].labels == std::vector<std::string>{"bytes:[64]"});
}

TEST_CASE("heap profile: an empty snapshot is a valid, empty profile") {
  snapshot::Snapshot s;
  s.heap.sample_rate = 524288;
  auto r = pprof("-raw " + write_profile("heap_empty", heap_pprof(s, HeapView::kInuse)));
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("inuse_space/bytes[dflt]") != std::string::npos);
}

namespace {

const std::vector<std::string> kConsumeStack = {"lw::runtime::park(lw::WaitReason)",
                                                "lw::Chan<int>::recv()", "consume(lw::Chan<int>)",
                                                "lw::runtime::task_entry(void*)"};
const std::vector<std::string> kProduceStack = {
    "lw::runtime::park(lw::WaitReason)", "lw::Chan<int>::send(int)", "produce(lw::Chan<int>, int)",
    "lw::runtime::task_entry(void*)"};

bool has_label(const test::RawSample& s, const std::string& label) {
  for (const auto& l : s.labels)
    if (l.find(label) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("goroutine profile: one sample per (stack, labels), counted, with string labels") {
  auto s = test::synthetic_snapshot();
  auto r = pprof("-raw " + write_profile("goroutine", goroutine_pprof(s, TaskSelection::kAll)));
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.header.find("PeriodType: goroutine count") != std::string::npos);
  CHECK(p.header.find("Period: 1\n") != std::string::npos);
  CHECK(p.sample_types == "goroutine/count");
  REQUIRE(p.samples.size() == 4);  // the dead task is left out; labels in any order group
  long long total = 0;
  for (const auto& x : p.samples) total += x.values[0];
  CHECK(total == 7);
  const auto* consume = find_sample(p, kConsumeStack);
  REQUIRE(consume != nullptr);
  CHECK(consume->values == std::vector<long long>{3});
  CHECK(has_label(*consume, "stage:[consume]"));
  const auto* produce = find_sample(p, kProduceStack);
  REQUIRE(produce != nullptr);
  CHECK(produce->values == std::vector<long long>{2});
  CHECK(has_label(*produce, "req:[42]"));
  CHECK(has_label(*produce, "stage:[produce]"));
  // Samples come in Go's order: the largest count first.
  CHECK(p.samples[0].values == std::vector<long long>{3});

  r = pprof("-top -tagfocus=stage=produce " +
            write_profile("goroutine", goroutine_pprof(s, TaskSelection::kAll)));
  CHECK(r.output.find("Showing nodes accounting for 2, 28.57% of 7 total") != std::string::npos);
}

TEST_CASE("goroutineleak profile: only proven-leaked tasks, under Go 1.26's name") {
  auto s = test::synthetic_snapshot();
  auto r =
      pprof("-raw " + write_profile("goroutineleak", goroutine_pprof(s, TaskSelection::kLeaked)));
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.sample_types == "goroutineleak/count");
  REQUIRE(p.samples.size() == 2);
  const auto* produce = find_sample(p, kProduceStack);
  REQUIRE(produce != nullptr);
  CHECK(produce->values == std::vector<long long>{2});
  const auto* consume = find_sample(p, kConsumeStack);
  REQUIRE(consume != nullptr);
  CHECK(consume->values == std::vector<long long>{1});
}

TEST_CASE("threadcreate profile: one sample per thread") {
  auto s = test::synthetic_snapshot();
  auto r = pprof("-raw " + write_profile("threadcreate", threadcreate_pprof(s)));
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.sample_types == "threadcreate/count");
  REQUIRE(p.samples.size() == 3);
  for (const auto& x : p.samples) CHECK(x.values == std::vector<long long>{1});
  CHECK(p.samples[0].frames == std::vector<std::string>{"thread svc"});
  CHECK(p.samples[1].frames == std::vector<std::string>{"thread lw-worker-0"});
  CHECK(has_label(p.samples[1], "thread:[lw-worker-0]"));
  CHECK(has_label(p.samples[1], "tid:[4243]"));
}

TEST_CASE("heap profile: pprof's default symbolization leaves our names alone") {
  // Without -symbolize=none pprof looks for the mapped files (absent here) and, since every
  // mapping says it has functions, keeps the names the target gave.
  auto path =
      write_profile("heap_symbolize", heap_pprof(test::synthetic_snapshot(1), HeapView::kInuse));
  auto r = test::run_command("cd /tmp && HOME=/tmp go tool pprof -raw " + path + " 2>/dev/null");
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  const auto* put = find_sample(p, kPutStack);
  REQUIRE(put != nullptr);
  CHECK(put->values == std::vector<long long>{10, 640, 4, 256});
}
