// database.hpp: one SQLite file, opened for the store. Not thread-safe: one Database per thread
// (SQLite serializes writers across connections; WAL lets readers run beside one writer).
// Allocates. Every failure is an Error naming the file and SQLite's reason; a file that is not a
// database or is corrupt is reported and never overwritten.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "leakwatch/result.hpp"

struct sqlite3;

namespace lw::store {

class Database {
 public:
  // open() opens or creates `path`, turns on WAL and a busy timeout, and checks the file is sound.
  static Result<std::unique_ptr<Database>> open(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // exec() runs SQL that returns no rows.
  Result<void> exec(const char* sql);
  // user_version() reads PRAGMA user_version (the schema version).
  Result<std::int64_t> user_version();

  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

}  // namespace lw::store
