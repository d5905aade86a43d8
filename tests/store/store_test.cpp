#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "src/store/database.hpp"

using lw::store::Database;

namespace {

std::string temp_path(const char* name) {
  return "/tmp/lw_store_" + std::to_string(getpid()) + "_" + name;
}

void remove_db(const std::string& p) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((p + suffix).c_str());
}

}  // namespace

TEST_CASE("a new database opens in WAL mode with schema version 0") {
  std::string p = temp_path("new.db");
  remove_db(p);
  auto db = Database::open(p);
  REQUIRE(db.ok());
  CHECK((*db)->exec("CREATE TABLE t(x)").ok());
  CHECK(*(*db)->user_version() == 0);
  CHECK(access((p + "-wal").c_str(), F_OK) == 0);
  auto bad = (*db)->exec("SELECT * FROM missing");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("no such table") != std::string::npos);
  db->reset();
  remove_db(p);
}

TEST_CASE("a file that is not a database is reported and left untouched") {
  std::string p = temp_path("junk.db");
  std::string junk(8192, 'j');
  std::ofstream(p) << junk;
  auto db = Database::open(p);
  REQUIRE_FALSE(db.ok());
  CHECK(db.error().message.find(p) != std::string::npos);
  std::ifstream in(p);
  std::string after((std::istreambuf_iterator<char>(in)), {});
  CHECK(after == junk);
  remove_db(p);
}

TEST_CASE("an unopenable path gives a clear error") {
  auto db = Database::open("/nonexistent-dir/x.db");
  REQUIRE_FALSE(db.ok());
  CHECK(db.error().message.find("cannot open database /nonexistent-dir/x.db") != std::string::npos);
}
