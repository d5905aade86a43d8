#include <doctest/doctest.h>

#include <set>
#include <string>

#include "runtime/wait_reason.hpp"

using lw::rt::WaitReason;

TEST_CASE("every wait reason has its own Go text") {
  std::set<std::string> seen;
  for (int i = 1; i < static_cast<int>(WaitReason::kCount); ++i) {
    auto s = std::string(to_string(static_cast<WaitReason>(i)));
    CHECK_FALSE(s.empty());
    CHECK(seen.insert(s).second);
  }
  CHECK(to_string(WaitReason::kChanReceive) == "chan receive");
  CHECK(to_string(WaitReason::kMutexLock) == "sync.Mutex.Lock");
  CHECK(to_string(WaitReason::kIOWait) == "IO wait");
}
