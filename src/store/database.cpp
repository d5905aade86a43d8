#include "src/store/database.hpp"

#include <sqlite3.h>

namespace lw::store {
namespace {

Error sqlite_error(sqlite3* db, const std::string& path, const char* what) {
  return make_error(std::string(what) + " " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

Result<std::unique_ptr<Database>> Database::open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(db, path, "cannot open database");
    sqlite3_close(db);
    return e;
  }
  std::unique_ptr<Database> d(new Database(db, path));
  // A locked database is retried for up to 5 s before the caller sees SQLITE_BUSY.
  sqlite3_busy_timeout(db, 5000);
  // quick_check reads every page: it is where a file that is not a database, or a corrupt one,
  // shows itself, before anything is written.
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, nullptr) != SQLITE_OK)
    return sqlite_error(db, path, "not a usable leakwatch database:");
  bool sound = sqlite3_step(st) == SQLITE_ROW &&
               std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ok";
  sqlite3_finalize(st);
  if (!sound) return make_error("database " + path + " is corrupt; it was left untouched");
  if (auto r = d->exec("PRAGMA journal_mode=WAL"); !r) return r.error();
  if (auto r = d->exec("PRAGMA foreign_keys=ON"); !r) return r.error();
  return d;
}

Database::~Database() { sqlite3_close(db_); }

Result<void> Database::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    return make_error("database " + path_ + ": " + text);
  }
  return {};
}

Result<std::int64_t> Database::user_version() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr) != SQLITE_OK)
    return sqlite_error(db_, path_, "cannot read schema version of");
  std::int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  return v;
}

}  // namespace lw::store
