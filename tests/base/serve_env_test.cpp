// Which process of a tree serves: serve_plan_from_environment() over the variables `leakwatch run`
// sets, and claim_auto_server() letting one start-up path start a server.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "src/base/serve_env.hpp"

namespace {

// Env sets the three variables for one case and clears them after.
struct Env {
  Env(const char* http, const char* serve_pid, const char* child_http) {
    set("LEAKWATCH_HTTP", http);
    set("LEAKWATCH_SERVE_PID", serve_pid);
    set("LEAKWATCH_CHILD_HTTP", child_http);
  }
  ~Env() {
    unsetenv("LEAKWATCH_HTTP");
    unsetenv("LEAKWATCH_SERVE_PID");
    unsetenv("LEAKWATCH_CHILD_HTTP");
  }
  static void set(const char* name, const char* value) {
    if (value == nullptr)
      unsetenv(name);
    else
      setenv(name, value, 1);
  }
};

std::string address_of(const lw::base::ServePlan& p) { return p.address ? p.address : "(none)"; }

}  // namespace

TEST_CASE("serve_plan_from_environment: LEAKWATCH_HTTP alone serves in every process") {
  Env e("127.0.0.1:6060", nullptr, nullptr);
  auto p = lw::base::serve_plan_from_environment();
  CHECK(address_of(p) == "127.0.0.1:6060");
  CHECK_FALSE(p.descendant);
  Env none(nullptr, nullptr, nullptr);
  CHECK(address_of(lw::base::serve_plan_from_environment()) == "(none)");
  Env empty("", nullptr, nullptr);
  CHECK(address_of(lw::base::serve_plan_from_environment()) == "(none)");
}

TEST_CASE("serve_plan_from_environment: with LEAKWATCH_SERVE_PID only that pid serves on LEAKWATCH_HTTP") {
  const std::string self = std::to_string(getpid());
  const std::string other = std::to_string(getpid() + 1);
  {
    Env e("127.0.0.1:6060", self.c_str(), "127.0.0.1:0");
    auto p = lw::base::serve_plan_from_environment();
    CHECK(address_of(p) == "127.0.0.1:6060");
    CHECK_FALSE(p.descendant);
  }
  {
    Env e("127.0.0.1:6060", other.c_str(), nullptr);
    CHECK(address_of(lw::base::serve_plan_from_environment()) == "(none)");
  }
  {
    Env e("127.0.0.1:6060", other.c_str(), "127.0.0.1:0");  // run --follow-children
    auto p = lw::base::serve_plan_from_environment();
    CHECK(address_of(p) == "127.0.0.1:0");
    CHECK(p.descendant);
  }
  {
    Env e("127.0.0.1:6060", "junk", nullptr);  // reported, and read as unset
    CHECK(address_of(lw::base::serve_plan_from_environment()) == "127.0.0.1:6060");
  }
}

TEST_CASE("claim_auto_server: the first caller wins") {
  CHECK(lw::base::claim_auto_server());
  CHECK_FALSE(lw::base::claim_auto_server());
  CHECK_FALSE(lw::base::claim_auto_server());
}
