// delta_pprof(): current minus base, read back by go tool pprof and compared with pprof's own
// -base.
#include <doctest/doctest.h>

#include <random>
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

constexpr std::int64_t kMinute = 60'000'000'000;

std::string save(const std::string& name, const std::string& data) {
  const std::string& dir = test::temp_dir();
  std::string path = dir + "/" + name;
  test::write_file(path, data);
  return path;
}

// shifted() moves every mapping and address of `s` by `by`, as a restart under ASLR does.
snapshot::Snapshot shifted(snapshot::Snapshot s, std::uint64_t by) {
  for (auto& m : s.mappings) m.start += by, m.limit += by;
  for (auto& l : s.locations) l.address += by, l.mapping_start += by;
  for (auto& st : s.stacks)
    for (auto& pc : st.pcs) pc += by;
  return s;
}

// lines_after() returns the text after the line starting with `marker` (pprof -top's body).
std::string lines_after(const std::string& out, const std::string& marker) {
  auto at = out.find(marker);
  return at == std::string::npos ? "" : out.substr(at);
}

}  // namespace

TEST_CASE("delta of two heap profiles: growth only, as pprof -base computes it") {
  auto base = test::synthetic_snapshot(1);
  base.heap.sites = {{1, 10, 640, 4, 256}, {2, 3, 3072, 3, 3072}};
  auto current = test::synthetic_snapshot(1);
  current.time_unix_ns = base.time_unix_ns + kMinute;
  current.heap.sites = {{1, 20, 1280, 8, 512}, {2, 3, 3072, 3, 3072}, {3, 1, 100, 0, 0}};
  std::string b = heap_pprof(base, HeapView::kInuse);
  std::string c = heap_pprof(current, HeapView::kInuse);

  auto d = delta_pprof(gzip(b), c);  // gzipped and plain inputs alike
  REQUIRE(d.ok());
  auto delta_path = save("heap_delta", gzip(*d));
  auto r = pprof("-raw " + delta_path);
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.header.find("Duration: 1m0s") != std::string::npos);
  CHECK(p.header.find("Time: 2023-11-14 22:14:20 +0000 UTC") != std::string::npos);
  CHECK(p.sample_types ==
        "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt]");
  REQUIRE(p.samples.size() == 2);  // the unchanged site cancels out
  const auto* put = find_sample(
      p, {"cache::Store::put(std::string const&)", "handle_request(Request const&)", "main"});
  REQUIRE(put != nullptr);
  CHECK(put->values == std::vector<long long>{10, 640, 4, 256});
  CHECK(find_sample(p, {"", "", "main"}) != nullptr);
  // Only what the surviving samples use is kept: the worker's frames are gone.
  CHECK(r.output.find("leaky_worker") == std::string::npos);

  // pprof's own subtraction of the same two profiles agrees, view for view.
  auto base_path = save("heap_base", gzip(b));
  auto current_path = save("heap_current", gzip(c));
  for (const char* index : {"inuse_space", "alloc_objects"}) {
    std::string ours = pprof(std::string("-top -sample_index=") + index + " " + delta_path).output;
    std::string theirs = pprof(std::string("-top -sample_index=") + index + " -base " + base_path +
                               " " + current_path)
                             .output;
    CHECK(!lines_after(ours, "Showing nodes").empty());
    CHECK(lines_after(ours, "Showing nodes") == lines_after(theirs, "Showing nodes"));
  }
}

TEST_CASE("delta merges by content: a base from a run loaded elsewhere still lines up") {
  auto base = shifted(test::synthetic_snapshot(1), 0x10000000);
  base.heap.sites = {{1, 10, 640, 4, 256}, {2, 3, 3072, 3, 3072}};
  auto current = test::synthetic_snapshot(1);
  current.heap.sites = {{1, 12, 768, 5, 320}, {2, 3, 3072, 3, 3072}};
  auto d = delta_pprof(heap_pprof(base, HeapView::kInuse), heap_pprof(current, HeapView::kInuse));
  REQUIRE(d.ok());
  auto p = parse_raw(pprof("-raw " + save("heap_moved", *d)).output);
  REQUIRE(p.samples.size() == 1);
  CHECK(p.samples[0].values == std::vector<long long>{2, 128, 1, 64});
  CHECK(p.samples[0].frames.at(0) == "cache::Store::put(std::string const&)");
}

TEST_CASE("delta of goroutine profiles: new tasks count up, finished ones down") {
  auto base = test::synthetic_snapshot();
  auto current = test::synthetic_snapshot();
  current.tasks[1].state = snapshot::TaskState::kDead;  // one consumer finished
  auto extra = current.tasks[4];                        // one more producer
  extra.id = 9;
  current.tasks.push_back(extra);
  auto d = delta_pprof(goroutine_pprof(base, TaskSelection::kAll),
                       goroutine_pprof(current, TaskSelection::kAll));
  REQUIRE(d.ok());
  auto p = parse_raw(pprof("-raw " + save("goroutine_delta", gzip(*d))).output);
  CHECK(p.sample_types == "goroutine/count");
  REQUIRE(p.samples.size() == 2);
  const auto* produce =
      find_sample(p, {"lw::runtime::park(lw::WaitReason)", "lw::Chan<int>::send(int)",
                      "produce(lw::Chan<int>, int)", "lw::runtime::task_entry(void*)"});
  REQUIRE(produce != nullptr);
  CHECK(produce->values == std::vector<long long>{1});
  const auto* consume =
      find_sample(p, {"lw::runtime::park(lw::WaitReason)", "lw::Chan<int>::recv()",
                      "consume(lw::Chan<int>)", "lw::runtime::task_entry(void*)"});
  REQUIRE(consume != nullptr);
  CHECK(consume->values == std::vector<long long>{-1});
}

TEST_CASE("delta rejects bad input with a clear error") {
  auto s = test::synthetic_snapshot(1);
  std::string heap = heap_pprof(s, HeapView::kInuse);
  std::string gor = goroutine_pprof(s, TaskSelection::kAll);

  auto mismatch = delta_pprof(heap, gor);
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.error().message ==
        "cannot subtract profiles with different sample types: base has [alloc_objects/count, "
        "alloc_space/bytes, inuse_objects/count, inuse_space/bytes], current has "
        "[goroutine/count]");

  std::string z = gzip(heap);
  auto cut_gzip = delta_pprof(z.substr(0, z.size() / 2), heap);
  REQUIRE_FALSE(cut_gzip.ok());
  CHECK(cut_gzip.error().message == "base profile: gzip data is truncated or corrupt");

  auto empty = delta_pprof(heap, "");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().message == "current profile is empty");

  auto garbage = delta_pprof("\xff\xff\xff\xff not a profile", heap);
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().message.rfind("base profile ", 0) == 0);

  auto cut = delta_pprof(heap, heap.substr(0, heap.size() - 7));
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.error().message.rfind("current profile ", 0) == 0);

  // A well-formed message whose drop_frames (field 7) names a string past the table's end.
  auto bad_index = delta_pprof(heap + std::string("\x38\xff\x01", 3), heap);
  REQUIRE_FALSE(bad_index.ok());
  CHECK(bad_index.error().message == "base profile is malformed: a profile field names no string");
}

TEST_CASE("delta never crashes on truncated or corrupted profiles") {
  auto s = test::synthetic_snapshot(1);
  std::string heap = heap_pprof(s, HeapView::kInuse);
  int accepted = 0;
  for (std::size_t n = 0; n < heap.size(); ++n)
    if (delta_pprof(heap.substr(0, n), heap).ok()) ++accepted;
  // Cutting at a field boundary can leave a shorter valid profile; most cuts cannot.
  CHECK(accepted < static_cast<int>(heap.size()) / 4);

  std::mt19937 rng(12345);
  for (int i = 0; i < 3000; ++i) {
    std::string bad = heap;
    for (int k = 0; k < 3; ++k) bad[rng() % bad.size()] = static_cast<char>(rng() & 0xff);
    auto d = delta_pprof(bad, heap);
    if (d.ok()) {
      // Whatever was accepted is itself a profile that decodes again.
      CHECK(delta_pprof(*d, *d).ok());
    }
  }
}
