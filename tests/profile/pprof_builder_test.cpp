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
  static const std::string dir = test::make_temp_dir("profile");
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
