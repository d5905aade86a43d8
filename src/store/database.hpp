// database.hpp: one SQLite file, opened for the store, and the prepared statements run on it.
// Not thread-safe: one Database per thread (SQLite serializes writers across connections; WAL lets
// readers run beside one writer). Allocates. Every failure is an Error naming the file and SQLite's
// reason; a file that is not a database or is corrupt is reported and never overwritten; a database
// locked by another writer is retried for the busy timeout, then reported as locked (and
// last_failure_busy() says so, for callers that wait and try again rather than give up).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "leakwatch/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace lw::store {

inline constexpr int kDefaultBusyTimeoutMs = 5000;

class Database {
 public:
  // open() opens or creates `path`, turns on WAL and a busy timeout of `busy_timeout_ms`, and
  // checks the file is sound before anything is written to it.
  static Result<std::unique_ptr<Database>> open(const std::string& path,
                                                int busy_timeout_ms = kDefaultBusyTimeoutMs);
  // open_read_only() opens an existing `path` for reading only (SQLITE_OPEN_READONLY): nothing is
  // written to the file and nothing is created beside it that SQLite can do without. In a
  // directory where the WAL index (-shm) cannot be created, a file with no pending WAL is opened
  // as immutable. The same soundness check as open().
  static Result<std::unique_ptr<Database>> open_read_only(const std::string& path,
                                                          int busy_timeout_ms = kDefaultBusyTimeoutMs);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // exec() runs SQL that returns no rows (several statements may be given).
  Result<void> exec(const char* sql);
  // user_version() reads PRAGMA user_version (the schema version).
  Result<std::int64_t> user_version();

  // error() turns the connection's last SQLite error into an Error that says what was being
  // done; a busy/locked database is named as such with the time waited.
  Error error(std::string_view what) const;
  // last_failure_busy() is true when the last Error made by error() or exec() was another
  // writer's lock (SQLITE_BUSY / SQLITE_LOCKED) outlasting the busy timeout.
  bool last_failure_busy() const { return last_busy_; }
  // set_busy_timeout() changes how long each statement waits for another writer's lock.
  void set_busy_timeout(int ms);
  bool read_only() const { return read_only_; }

  // last_insert_id() / changes(): the rowid of the last INSERT and the rows the last statement
  // changed, on this connection.
  std::int64_t last_insert_id();
  std::int64_t changes();

  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }
  int busy_timeout_ms() const { return busy_timeout_ms_; }

 private:
  Database(sqlite3* db, std::string path, int busy_timeout_ms, bool read_only)
      : db_(db), path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms), read_only_(read_only) {}
  // check_sound() runs quick_check: a file that is not a database, or a corrupt one, shows here.
  Result<void> check_sound();
  sqlite3* db_;
  std::string path_;
  int busy_timeout_ms_;
  bool read_only_;
  mutable bool last_busy_ = false;
};

// Statement is one prepared statement. Bind parameters are 1-based, columns 0-based, as in SQLite.
// Text and blob binds are copied by SQLite (SQLITE_TRANSIENT), so arguments may be temporaries.
class Statement {
 public:
  // prepare() compiles `sql` on `db`.
  static Result<Statement> prepare(Database& db, const char* sql);
  Statement(Statement&& o) noexcept : db_(o.db_), st_(o.st_) { o.st_ = nullptr; }
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, std::string_view text);
  Statement& bind_blob(int i, std::string_view bytes);
  // bind_static() binds text without copying it: `text` must outlive the next step()/run().
  Statement& bind_static(int i, std::string_view text);

  // step() runs to the next row: true when a row is ready, false when done.
  Result<bool> step();
  // run() steps to completion (for statements without rows) and resets for the next use.
  Result<void> run();
  // reset() makes the statement ready to run again; bindings are kept until rebound.
  void reset();

  std::int64_t int64(int col) const;
  std::string text(int col) const;
  std::string blob(int col) const;
  bool is_null(int col) const;

 private:
  Statement(Database* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  Database* db_;
  sqlite3_stmt* st_;
};

}  // namespace lw::store
