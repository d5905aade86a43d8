#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "leakwatch/result.hpp"
#include "src/base/clock.hpp"
#include "src/base/json_text.hpp"
#include "src/base/current_task.hpp"
#include "src/base/log.hpp"
#include "src/base/parse.hpp"

using namespace lw;

TEST_CASE("parse_int64 accepts integers and rejects junk") {
  CHECK(base::parse_int64("0") == 0);
  CHECK(base::parse_int64("-42") == -42);
  CHECK(base::parse_int64("9223372036854775807") == INT64_MAX);
  CHECK(base::parse_int64("-9223372036854775808") == INT64_MIN);
  CHECK_FALSE(base::parse_int64("9223372036854775808"));
  CHECK_FALSE(base::parse_int64(""));
  CHECK_FALSE(base::parse_int64("-"));
  CHECK_FALSE(base::parse_int64("12x"));
  CHECK_FALSE(base::parse_int64(" 1"));
  CHECK_FALSE(base::parse_int64("+1"));
}

TEST_CASE("parse_duration_ns speaks Go's units") {
  CHECK(base::parse_duration_ns("30") == 30 * base::kNanosPerSecond);
  CHECK(base::parse_duration_ns("30s") == 30 * base::kNanosPerSecond);
  CHECK(base::parse_duration_ns("1m30s") == 90 * base::kNanosPerSecond);
  CHECK(base::parse_duration_ns("250ms") == 250 * base::kNanosPerMilli);
  CHECK(base::parse_duration_ns("2h") == 7200 * base::kNanosPerSecond);
  CHECK(base::parse_duration_ns("5us") == 5000);
  CHECK_FALSE(base::parse_duration_ns(""));
  CHECK_FALSE(base::parse_duration_ns("-1s"));
  CHECK_FALSE(base::parse_duration_ns("1x"));
  CHECK_FALSE(base::parse_duration_ns("s"));
  CHECK_FALSE(base::parse_duration_ns("99999999999999999999h"));
}

TEST_CASE("parse_duration_ns takes Go's fractions and mixed terms") {
  CHECK(base::parse_duration_ns("0.5s") == 500 * base::kNanosPerMilli);
  CHECK(base::parse_duration_ns(".5s") == 500 * base::kNanosPerMilli);
  CHECK(base::parse_duration_ns("1.s") == base::kNanosPerSecond);
  CHECK(base::parse_duration_ns("1.5m") == 90 * base::kNanosPerSecond);
  CHECK(base::parse_duration_ns("1.5h") == 5400 * base::kNanosPerSecond);
  CHECK(base::parse_duration_ns("2.25ms") == 2'250'000);
  CHECK(base::parse_duration_ns("1h30m15s") == 5415 * base::kNanosPerSecond);
  CHECK(base::parse_duration_ns("1m0.5s") == 60'500 * base::kNanosPerMilli);
  CHECK(base::parse_duration_ns("1.000000001s") == base::kNanosPerSecond + 1);
  CHECK(base::parse_duration_ns("0.1s") == 100 * base::kNanosPerMilli);
  CHECK(base::parse_duration_ns("0.5") == 500 * base::kNanosPerMilli);  // bare: seconds
  CHECK(base::parse_duration_ns("0") == 0);
  CHECK_FALSE(base::parse_duration_ns("."));
  CHECK_FALSE(base::parse_duration_ns(".s"));
  CHECK_FALSE(base::parse_duration_ns("1..5s"));
  CHECK_FALSE(base::parse_duration_ns("1h30"));  // a bare number only alone
  CHECK_FALSE(base::parse_duration_ns("1.5x"));
  CHECK_FALSE(base::parse_duration_ns("5 minutes"));
  CHECK_FALSE(base::parse_duration_ns("2562048h"));  // past INT64_MAX ns
  CHECK(base::parse_duration_ns("2562047h") == 2562047LL * 3600 * base::kNanosPerSecond);
}

TEST_CASE("parse_size_bytes takes bytes and binary suffixes") {
  CHECK(base::parse_size_bytes("1048576") == 1048576);
  CHECK(base::parse_size_bytes("64KiB") == 65536);
  CHECK(base::parse_size_bytes("256MiB") == 256LL << 20);
  CHECK(base::parse_size_bytes("256M") == 256LL << 20);
  CHECK(base::parse_size_bytes("1GiB") == 1LL << 30);
  CHECK(base::parse_size_bytes("1GB") == 1LL << 30);
  CHECK_FALSE(base::parse_size_bytes(""));
  CHECK_FALSE(base::parse_size_bytes("MiB"));
  CHECK_FALSE(base::parse_size_bytes("-1"));
  CHECK_FALSE(base::parse_size_bytes("1.5MiB"));
  CHECK_FALSE(base::parse_size_bytes("1TiB"));
  CHECK_FALSE(base::parse_size_bytes("99999999999GiB"));
}

TEST_CASE("parse_bool") {
  CHECK(base::parse_bool("1") == true);
  CHECK(base::parse_bool("false") == false);
  CHECK_FALSE(base::parse_bool("yes"));
}

TEST_CASE("Result carries a value or an error") {
  Result<int> good = 7;
  REQUIRE(good.ok());
  CHECK(*good == 7);
  Result<int> bad = make_error("no such target");
  CHECK_FALSE(bad.ok());
  CHECK(bad.error().message == "no such target");
  Result<void> fine;
  CHECK(fine.ok());
}

TEST_CASE("a test clock replaces the system clock and can be restored") {
  base::ManualClock clock(100);
  base::set_clock_for_testing(&clock);
  CHECK(base::now_ns() == 100);
  clock.advance(5 * base::kNanosPerSecond);
  CHECK(base::now_ns() == 100 + 5 * base::kNanosPerSecond);
  base::set_clock_for_testing(nullptr);
  base::Nanos a = base::now_ns(), b = base::now_ns();
  CHECK(a > 1000);
  CHECK(b >= a);
  CHECK(base::wall_now_ns() > 1'600'000'000 * base::kNanosPerSecond);
}

TEST_CASE("current task slot is per thread") {
  base::set_current_task_id(42);
  CHECK(base::current_task_id() == 42);
  base::set_current_task_id(0);
}

TEST_CASE("log_write emits one prefixed line, cut to the fixed buffer") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  int saved = dup(2);
  dup2(fds[1], 2);
  base::log_write("value=%d name=%s", 5, "x");
  std::string longtext(2000, 'a');
  base::log_write("%s", longtext.c_str());
  dup2(saved, 2);
  close(saved);
  close(fds[1]);
  char buf[4096];
  ssize_t n = read(fds[0], buf, sizeof buf);
  close(fds[0]);
  REQUIRE(n > 0);
  std::string out(buf, static_cast<std::size_t>(n));
  CHECK(out.rfind("leakwatch: value=5 name=x\n", 0) == 0);
  auto second = out.substr(out.find('\n') + 1);
  CHECK(second.size() == base::kLogLineMax - 1);
  CHECK(second.back() == '\n');
}

TEST_CASE("JSON strings stay valid whatever bytes the text holds") {
  std::string out;
  lw::base::json_escape("a\"b\\c\n\x01 caf\xc3\xa9 \xff\xc3", &out);
  CHECK(out == "\"a\\\"b\\\\c\\n\\u0001 caf\xc3\xa9 \\ufffd\\ufffd\"");
}

TEST_CASE("JSON numbers are finite") {
  CHECK(lw::base::json_number(1.5) == "1.5");
  CHECK(lw::base::json_number(1.0 / 0.0) == "0");
  CHECK(lw::base::json_number(0.0 / 0.0) == "0");
}
