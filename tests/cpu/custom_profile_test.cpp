// lw::Profile: names, keys, stacks and bounds, read back the way the server reads them (the
// process's table -> a Snapshot, symbolized).
#include <doctest/doctest.h>

#include <leakwatch/heap.hpp>
#include <leakwatch/profile.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "src/cpu/capture_custom_profiles.hpp"
#include "src/cpu/custom_profile_table.hpp"
#include "src/snapshot/capture.hpp"

using lw::Profile;

namespace {

const void* key(std::uintptr_t i) { return reinterpret_cast<const void*>(i); }

// Each keeps its own frame: noipa (no inlining, no folding) and a barrier after the call (no tail
// call, which would leave the function out of the stack).
#define LW_NO_TAIL_CALL asm volatile("" ::: "memory")
__attribute__((noipa)) void add_here(Profile& p, const void* k) {
  p.add(k);
  LW_NO_TAIL_CALL;
}
__attribute__((noipa)) void add_for_my_caller(Profile& p, const void* k) {
  p.add(k, 1);
  LW_NO_TAIL_CALL;
}
__attribute__((noipa)) void calls_add_for_my_caller(Profile& p, const void* k) {
  add_for_my_caller(p, k);
  LW_NO_TAIL_CALL;
}

// Captured is the process's custom profiles as a symbolized snapshot holds them.
struct Captured {
  lw::snapshot::Snapshot s;
  Captured() {
    lw::cpu::capture_custom_profiles(&s);
    lw::snapshot::symbolize_stacks(&s);
  }
  const lw::snapshot::CustomProfile& profile(const std::string& name) {
    const auto* p = lw::snapshot::find_custom_profile(s, name);
    REQUIRE_MESSAGE(p != nullptr, name);
    return *p;
  }
  // innermost() is the function at the innermost frame of stack `id`.
  std::string innermost(lw::snapshot::StackId id) {
    const auto* st = lw::snapshot::find_stack(s, id);
    REQUIRE(st != nullptr);
    REQUIRE(!st->pcs.empty());
    const auto* loc = lw::snapshot::find_location(s, st->pcs.front());
    return loc != nullptr ? loc->function : "";
  }
};

}  // namespace

TEST_CASE("Profile names: empty, invalid, built-in and live names are refused; a destroyed profile frees its name") {
  CHECK_THROWS_AS(Profile(""), std::invalid_argument);
  CHECK_THROWS_AS(Profile("open connections"), std::invalid_argument);
  CHECK_THROWS_AS(Profile("<script>"), std::invalid_argument);
  CHECK_THROWS_AS(Profile(std::string(129, 'a')), std::invalid_argument);
  for (const char* builtin : {"heap", "allocs", "goroutine", "goroutineleak", "threadcreate", "threads", "threadleak",
                              "block", "mutex", "profile", "trace", "cmdline", "symbol"})
    CHECK_THROWS_AS(Profile{builtin}, std::invalid_argument);
  {
    Profile p("example.com/db.open_files");
    CHECK(p.name() == "example.com/db.open_files");
    try {
      Profile again("example.com/db.open_files");
      FAIL("a second live profile of the same name was made");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find("already exists") != std::string::npos);
    }
    CHECK(Captured().s.custom_profiles.size() == 1);
  }
  CHECK(Captured().s.custom_profiles.empty());
  Profile reborn("example.com/db.open_files");
  CHECK(reborn.count() == 0);
}

TEST_CASE("Profile add, remove and count; a duplicate key throws and keeps its first stack") {
  Profile p("unit_keys");
  for (std::uintptr_t i = 1; i <= 7; ++i) add_here(p, key(i));
  CHECK(p.count() == 7);
  for (std::uintptr_t i = 1; i <= 3; ++i) p.remove(key(i));
  CHECK(p.count() == 4);
  p.remove(key(1));   // already gone
  p.remove(key(99));  // never added
  CHECK(p.count() == 4);
  CHECK_THROWS_AS(p.add(key(5)), std::logic_error);
  CHECK(p.count() == 4);
  CHECK(p.dropped() == 0);

  Captured c;
  const auto& cp = c.profile("unit_keys");
  CHECK(cp.count == 4);
  REQUIRE(cp.samples.size() == 1);  // the duplicate's stack was not kept
  CHECK(cp.samples[0].count == 4);
  CHECK(c.innermost(cp.samples[0].stack_id).find("add_here") != std::string::npos);
}

TEST_CASE("Profile add's skip is Go's: 0 starts at add's caller, 1 at the caller's caller") {
  Profile p("unit_skip");
  add_here(p, key(1));
  calls_add_for_my_caller(p, key(2));
  Captured c;
  const auto& cp = c.profile("unit_skip");
  REQUIRE(cp.samples.size() == 2);
  std::vector<std::string> tops;
  for (const auto& s : cp.samples) tops.push_back(c.innermost(s.stack_id));
  INFO(tops[0] << " | " << tops[1]);
  bool here = false, caller = false;
  for (const auto& t : tops) {
    here = here || t.find("add_here") != std::string::npos;
    caller = caller || t.find("calls_add_for_my_caller") != std::string::npos;
    CHECK(t.find("lw::Profile::add") == std::string::npos);
  }
  CHECK(here);
  CHECK(caller);
}

TEST_CASE("Profile bounds: kMaxKeys live keys, then adds are dropped and counted; removing makes room") {
  Profile p("unit_bounded");
  for (std::uintptr_t i = 1; i <= Profile::kMaxKeys; ++i) p.add(key(i));
  CHECK(p.count() == Profile::kMaxKeys);
  CHECK(p.dropped() == 0);
  p.add(key(Profile::kMaxKeys + 1));
  p.add(key(Profile::kMaxKeys + 2));
  CHECK(p.count() == Profile::kMaxKeys);
  CHECK(p.dropped() == 2);
  p.remove(key(1));
  p.add(key(Profile::kMaxKeys + 1));
  CHECK(p.count() == Profile::kMaxKeys);
  CHECK(p.dropped() == 2);
  Captured c;
  CHECK(c.profile("unit_bounded").dropped_adds == 2);
  CHECK(c.profile("unit_bounded").count == static_cast<std::int64_t>(Profile::kMaxKeys));
}

TEST_CASE("Profile bounds: past kMaxProfiles live profiles a new one records nothing and is counted") {
  std::vector<std::unique_ptr<Profile>> many;
  for (std::size_t i = 0; i < Profile::kMaxProfiles; ++i)
    many.push_back(std::make_unique<Profile>("unit_many_" + std::to_string(i)));
  const std::uint64_t before = Captured().s.dropped_custom_profiles;
  Profile extra("unit_one_too_many");
  extra.add(key(1));
  CHECK(extra.count() == 0);
  CHECK(extra.dropped() == 1);
  Captured c;
  CHECK(c.s.custom_profiles.size() == Profile::kMaxProfiles);
  CHECK(c.s.dropped_custom_profiles == before + 1);
  CHECK(lw::snapshot::find_custom_profile(c.s, "unit_one_too_many") == nullptr);
  many.pop_back();  // room again: the next profile is in the table
  Profile next("unit_next");
  next.add(key(1));
  CHECK(next.count() == 1);
}

TEST_CASE("Profile is thread-safe: threads adding and removing their own keys at once leave the right count") {
  Profile p("unit_threads");
  std::vector<std::thread> threads;
  for (std::uintptr_t t = 0; t < 4; ++t)
    threads.emplace_back([&p, t] {
      for (std::uintptr_t i = 0; i < 5000; ++i) {
        const void* k = key(1 + t * 100'000 + i);
        p.add(k);
        if (i % 2 == 0) p.remove(k);
      }
    });
  for (auto& t : threads) t.join();
  CHECK(p.count() == 4 * 2500);
  CHECK(Captured().profile("unit_threads").count == 4 * 2500);
}

TEST_CASE("a custom profile's memory is leakwatch's own, never the program's heap") {
  if (!lw::read_mem_stats().interposed) return;  // built without the malloc interposer
  Profile p("unit_self");
  const lw::MemStats before = lw::read_mem_stats();
  for (std::uintptr_t i = 1; i <= 20'000; ++i) p.add(key(i));
  const lw::MemStats after = lw::read_mem_stats();
  MESSAGE("heap_alloc +" << static_cast<long long>(after.heap_alloc - before.heap_alloc) << " B, self_bytes +"
                         << static_cast<long long>(after.self_bytes - before.self_bytes) << " B for 20000 keys");
  CHECK(after.self_bytes >= before.self_bytes + 20'000 * 16);
  CHECK(after.heap_alloc < before.heap_alloc + 20'000);  // at most noise, not a node per key
}
