// The label-set table: merging, interning (one id per distinct set) and its bound. The bound test
// fills the process's table, so it runs last in this executable's order of declaration.
#include <doctest/doctest.h>

#include <string>

#include "leakwatch/labels.hpp"
#include "src/base/current_labels.hpp"
#include "src/base/label_sets.hpp"

using lw::base::LabelSetId;

TEST_CASE("merge_label_set: sorted, keys replaced, one id per distinct set whatever the order") {
  const LabelSetId a = lw::base::merge_label_set(LabelSetId::kNoLabels, {{"tenant", "a"}, {"phase", "x"}});
  CHECK(a != LabelSetId::kNoLabels);
  CHECK(lw::base::label_set(a) == lw::Labels{{"phase", "x"}, {"tenant", "a"}});
  CHECK(lw::base::merge_label_set(LabelSetId::kNoLabels, {{"phase", "x"}, {"tenant", "a"}}) == a);
  const LabelSetId b = lw::base::merge_label_set(a, {{"tenant", "b"}});
  CHECK(lw::base::label_set(b) == lw::Labels{{"phase", "x"}, {"tenant", "b"}});
  CHECK(lw::base::merge_label_set(a, {}) == a);
  CHECK(lw::base::merge_label_set(a, {{"tenant", "a"}}) == a);
  CHECK(lw::base::merge_label_set(LabelSetId::kNoLabels, {{"k", "1"}, {"k", "2"}}) ==
        lw::base::merge_label_set(LabelSetId::kNoLabels, {{"k", "2"}}));
  CHECK(lw::base::label_set(LabelSetId::kNoLabels).empty());
  CHECK(lw::base::label_set(LabelSetId{999999}).empty());
}

TEST_CASE("with_labels on a thread sets the current set and restores it") {
  CHECK(lw::base::current_label_set() == LabelSetId::kNoLabels);
  lw::with_labels({{"a", "1"}}, [] {
    CHECK(lw::current_labels() == lw::Labels{{"a", "1"}});
    lw::with_labels({{"b", "2"}}, [] { CHECK(lw::current_labels() == lw::Labels{{"a", "1"}, {"b", "2"}}); });
    CHECK(lw::current_labels() == lw::Labels{{"a", "1"}});
  });
  CHECK(lw::current_labels().empty());
}

TEST_CASE("bounded: past the cap a new set is dropped, the caller keeps its labels, memory stays put") {
  for (std::size_t i = 0; i < lw::base::kMaxLabelSets; ++i)
    lw::base::merge_label_set(LabelSetId::kNoLabels, {{"request_id", std::to_string(i)}});
  const lw::base::LabelSetStats full = lw::base::label_set_stats();
  CHECK(full.sets == lw::base::kMaxLabelSets - 1);  // id 0 is the empty set
  CHECK(full.dropped_label_sets > 0);
  for (int i = 0; i < 10'000; ++i)
    lw::base::merge_label_set(LabelSetId::kNoLabels, {{"request_id", "more-" + std::to_string(i)}});
  const lw::base::LabelSetStats later = lw::base::label_set_stats();
  CHECK(later.sets == full.sets);
  CHECK(later.bytes == full.bytes);
  CHECK(later.dropped_label_sets == full.dropped_label_sets + 10'000);
  // with_labels at the cap: fn still runs, under the caller's labels; a known set still applies.
  bool ran = false;
  lw::with_labels({{"request_id", "new"}}, [&] {
    ran = true;
    CHECK(lw::current_labels().empty());
  });
  CHECK(ran);
  lw::with_labels({{"request_id", "7"}}, [] { CHECK(lw::current_labels() == lw::Labels{{"request_id", "7"}}); });
  CHECK(lw::base::label_set_stats().dropped_label_sets == later.dropped_label_sets + 1);
}

TEST_CASE("bounded by bytes too: one huge set does not get in") {
  const std::uint64_t before = lw::base::label_set_stats().dropped_label_sets;
  const std::string huge(lw::base::kMaxLabelSetBytes + 1, 'x');
  CHECK(lw::base::merge_label_set(LabelSetId::kNoLabels, {{"blob", huge}}) == LabelSetId::kNoLabels);
  CHECK(lw::base::label_set_stats().dropped_label_sets == before + 1);
}
