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
