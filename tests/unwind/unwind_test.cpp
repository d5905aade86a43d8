#include <doctest/doctest.h>

#include <string>

#include "src/unwind/capture.hpp"
#include "src/unwind/symbolizer.hpp"

namespace lw_test {

// Kept out of line so it has a frame of its own in the captured stack.
[[gnu::noinline]] std::uint32_t capture_here(lw::unwind::StackTrace* t) {
  std::uint32_t n = lw::unwind::capture_stack(t);
  asm volatile("" ::: "memory");  // no tail call
  return n;
}

}  // namespace lw_test

TEST_CASE("capture_stack sees the caller, and the symbolizer names it with file and line") {
  lw::unwind::warm_up();
  lw::unwind::StackTrace t;
  REQUIRE(lw_test::capture_here(&t) >= 2);
  lw::unwind::Symbol s = lw::unwind::process_symbolizer().lookup(lw::unwind::call_site(t.pc[0]));
  CHECK(s.function.find("lw_test::capture_here") != std::string::npos);
  CHECK(s.file.find("unwind_test.cpp") != std::string::npos);
  CHECK(s.line > 0);
  CHECK(s.module.find("unwind_test") != std::string::npos);
  // The next frame is this test case's body.
  lw::unwind::Symbol caller = lw::unwind::process_symbolizer().lookup(lw::unwind::call_site(t.pc[1]));
  CHECK(caller.file.find("unwind_test.cpp") != std::string::npos);
}

TEST_CASE("demangle") {
  CHECK(lw::unwind::demangle("_ZN3foo3barEv") == "foo::bar()");
  CHECK(lw::unwind::demangle("main") == "main");
}

TEST_CASE("lookup of an address in no object gives empty names, no crash") {
  lw::unwind::Symbol s = lw::unwind::process_symbolizer().lookup(0x10);
  CHECK(s.function.empty());
}

// ---- fast capture: frame-pointer walk with bounds, unw_backtrace fallback ----

#include <link.h>

#include <unistd.h>

#include <thread>

#include "src/unwind/fast_capture.hpp"

namespace lw_test {

[[gnu::noinline]] std::uint32_t fast_capture_leaf(lw::unwind::StackTrace* t) {
  std::uint32_t n = lw::unwind::capture_stack_fast(t);
  asm volatile("" ::: "memory");
  return n;
}

[[gnu::noinline]] std::uint32_t fast_capture_middle(lw::unwind::StackTrace* t) {
  std::uint32_t n = fast_capture_leaf(t);
  asm volatile("" ::: "memory");
  return n;
}

std::string function_at(std::uintptr_t pc) {
  return lw::unwind::process_symbolizer().lookup(lw::unwind::call_site(pc)).function;
}

}  // namespace lw_test

TEST_CASE("capture_stack_fast walks frame pointers and agrees with unw_backtrace") {
  lw::unwind::note_frameless_modules();
  lw::unwind::StackTrace fast;
  auto before = lw::unwind::fast_capture_counters();
  REQUIRE(lw_test::fast_capture_middle(&fast) >= 3);
  auto after = lw::unwind::fast_capture_counters();
  CHECK(after.fp_walks == before.fp_walks + 1);
  CHECK(lw_test::function_at(fast.pc[0]).find("fast_capture_leaf") != std::string::npos);
  CHECK(lw_test::function_at(fast.pc[1]).find("fast_capture_middle") != std::string::npos);
  CHECK(lw_test::function_at(fast.pc[2]).find("DOCTEST_ANON_FUNC") != std::string::npos);
}

TEST_CASE("capture_stack_fast skips frames as asked") {
  lw::unwind::StackTrace t;
  struct Local {
    [[gnu::noinline]] static std::uint32_t skip_one(lw::unwind::StackTrace* out) {
      std::uint32_t n = lw::unwind::capture_stack_fast(out, 1);
      asm volatile("" ::: "memory");
      return n;
    }
  };
  REQUIRE(Local::skip_one(&t) >= 1);
  CHECK(lw_test::function_at(t.pc[0]).find("DOCTEST_ANON_FUNC") != std::string::npos);
}

TEST_CASE("capture_stack_fast works on other threads (stack bounds per thread)") {
  std::string inner, outer;
  std::thread th([&] {
    lw::unwind::StackTrace t;
    if (lw_test::fast_capture_middle(&t) >= 2) {
      inner = lw_test::function_at(t.pc[0]);
      outer = lw_test::function_at(t.pc[1]);
    }
  });
  th.join();
  CHECK(inner.find("fast_capture_leaf") != std::string::npos);
  CHECK(outer.find("fast_capture_middle") != std::string::npos);
}

TEST_CASE("fp_walk stops at bad frames and never reads outside its bounds") {
  // A fake stack: three frame records chained upwards, then a pointer that goes down.
  alignas(16) std::uintptr_t stack[16] = {};
  auto at = [&](int i) { return reinterpret_cast<std::uintptr_t>(&stack[i]); };
  stack[0] = at(4);
  stack[1] = 0x1111;
  stack[4] = at(8);
  stack[5] = 0x2222;
  stack[8] = at(2);  // goes down: bad
  stack[9] = 0x3333;
  lw::unwind::StackTrace t;
  CHECK(lw::unwind::fp_walk(&t, at(0), at(0), at(16), 0) == lw::unwind::FpWalkEnd::kBadFrame);
  REQUIRE(t.depth == 3);
  CHECK(t.pc[0] == 0x1111);
  CHECK(t.pc[2] == 0x3333);
  // Chain ends at a null frame pointer: the outermost frame.
  stack[8] = 0;
  CHECK(lw::unwind::fp_walk(&t, at(0), at(0), at(16), 1) == lw::unwind::FpWalkEnd::kOutermost);
  CHECK(t.depth == 2);
  CHECK(t.pc[0] == 0x2222);
  // The upper bound cuts the walk before reading stack[8].
  CHECK(lw::unwind::fp_walk(&t, at(0), at(0), at(8), 0) == lw::unwind::FpWalkEnd::kBadFrame);
  CHECK(t.depth == 2);
  // Misaligned and out-of-range starts read nothing.
  CHECK(lw::unwind::fp_walk(&t, at(0) + 3, at(0), at(16), 0) == lw::unwind::FpWalkEnd::kBadFrame);
  CHECK(t.depth == 0);
  CHECK(lw::unwind::fp_walk(&t, 0x10, at(0), at(16), 0) == lw::unwind::FpWalkEnd::kBadFrame);
}

TEST_CASE("libc and libstdc++ are noted as frameless; our code is not") {
  lw::unwind::note_frameless_modules();
  CHECK(lw::unwind::in_frameless_module(reinterpret_cast<std::uintptr_t>(&::getpid)));  // libc, not intercepted by sanitizers
  CHECK_FALSE(lw::unwind::in_frameless_module(reinterpret_cast<std::uintptr_t>(&lw_test::fast_capture_leaf)));
}
