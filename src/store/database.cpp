// The store's SQLite connection.
//
// Choices:
// - WAL journal: a watcher writes while `leakwatch diff` reads from another process, and a crash
//   (kill -9) in the middle of a write leaves the last committed state readable. Rejected: the
//   default rollback journal, where a reader blocks the writer and the writer every reader.
// - Busy timeout instead of our own retry loop: SQLite's handler sleeps and retries while another
//   connection holds the write lock; after the timeout we say "locked" with the time waited, so a
//   user sees who to stop rather than a bare SQLITE_BUSY.
// - quick_check on open: a file that is not a database, or is corrupt, is found before anything
//   is written to it, and it is never "repaired" by overwriting.
// - Read-only opens use SQLITE_OPEN_READONLY through a "mode=ro" URI. A WAL file still needs its
//   -shm index, which SQLite creates beside it; in a directory the reader cannot write (a
//   read-only mount, a colleague's directory) that fails, and the file is then opened with
//   "immutable=1" (no locks, no index) when no -wal holds pending pages: the main file is then
//   the whole database. With pending WAL pages, immutable would read a stale database, so that
//   case is an error naming the reason. Rejected: copying the file to a temporary directory
//   (unbounded, and stale as well).
#include "src/store/database.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

namespace lw::store {
namespace {

// uri_path() escapes what SQLite's URI parser would read as syntax.
std::string uri_path(const std::string& path) {
  std::string out = "file:";
  for (char c : path) {
    if (c == '%') out += "%25";
    else if (c == '?') out += "%3f";
    else if (c == '#') out += "%23";
    else out += c;
  }
  return out;
}

Error open_error(sqlite3* db, const std::string& path, const char* what) {
  return make_error(std::string(what) + " " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

Result<std::unique_ptr<Database>> Database::open(const std::string& path, int busy_timeout_ms) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    Error e = open_error(db, path, "cannot open database");
    sqlite3_close(db);
    return e;
  }
  std::unique_ptr<Database> d(new Database(db, path, busy_timeout_ms, false));
  sqlite3_busy_timeout(db, busy_timeout_ms);
  if (auto r = d->check_sound(); !r) return r.error();
  // Snapshots are appended in large pieces (a blob of megabytes, 100k task rows): 64 KiB pages
  // take a quarter fewer CPU per stored snapshot than the 4 KiB default. Only takes effect on a
  // new, empty file (before WAL mode is set); existing files keep their page size.
  if (auto r = d->exec("PRAGMA page_size=65536"); !r) return r.error();
  if (auto r = d->exec("PRAGMA journal_mode=WAL"); !r) return r.error();
  if (auto r = d->exec("PRAGMA foreign_keys=ON"); !r) return r.error();
  // NORMAL is durable across a process crash in WAL mode (only a power loss can drop the last
  // transactions), and it avoids an fsync per snapshot.
  if (auto r = d->exec("PRAGMA synchronous=NORMAL"); !r) return r.error();
  return d;
}

Result<std::unique_ptr<Database>> Database::open_read_only(const std::string& path, int busy_timeout_ms) {
  for (bool immutable : {false, true}) {
    std::string uri = uri_path(path) + (immutable ? "?mode=ro&immutable=1" : "?mode=ro");
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
    if (rc != SQLITE_OK) {
      Error e = open_error(db, path, "cannot open database");
      sqlite3_close(db);
      return e;
    }
    std::unique_ptr<Database> d(new Database(db, path, busy_timeout_ms, true));
    sqlite3_busy_timeout(db, busy_timeout_ms);
    auto sound = d->check_sound();
    if (sound) return d;
    int code = sqlite3_errcode(db) & 0xff;
    if (immutable || (code != SQLITE_CANTOPEN && code != SQLITE_READONLY)) return sound.error();
    // The WAL index could not be made (a directory we cannot write): immutable is right only if
    // no WAL pages are pending.
    struct stat wal {};
    if (stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0)
      return make_error("cannot read database " + path + ": its directory is read-only and " + path +
                        "-wal holds changes not yet in the file (open it once where it can be written)");
  }
  return make_error("cannot open database " + path);
}

Result<void> Database::check_sound() {
  // quick_check reads every page: it is where a file that is not a database, or a corrupt one,
  // shows itself, before anything is written.
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA quick_check", -1, &st, nullptr) != SQLITE_OK) {
    int code = sqlite3_errcode(db_) & 0xff;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return error("cannot open database");
    return open_error(db_, path_, "not a usable leakwatch database:");
  }
  int step = sqlite3_step(st);
  bool sound = step == SQLITE_ROW &&
               std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ok";
  sqlite3_finalize(st);
  if (step == SQLITE_BUSY) return error("cannot open database");
  if (step != SQLITE_ROW && step != SQLITE_DONE) return open_error(db_, path_, "not a usable leakwatch database:");
  if (!sound) return make_error("database " + path_ + " is corrupt; it was left untouched");
  return {};
}

void Database::set_busy_timeout(int ms) {
  busy_timeout_ms_ = ms;
  sqlite3_busy_timeout(db_, ms);
}

Database::~Database() { sqlite3_close(db_); }

Error Database::error(std::string_view what) const {
  int code = sqlite3_errcode(db_) & 0xff;
  last_busy_ = code == SQLITE_BUSY || code == SQLITE_LOCKED;
  if (last_busy_)
    return make_error(std::string(what) + ": database " + path_ +
                      " is locked by another writer (gave up after " +
                      std::to_string(busy_timeout_ms_) + " ms)");
  return make_error(std::string(what) + ": database " + path_ + ": " + sqlite3_errmsg(db_));
}

Result<void> Database::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    int code = sqlite3_errcode(db_) & 0xff;
    std::string text = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return error("cannot write");
    last_busy_ = false;
    return make_error("database " + path_ + ": " + text);
  }
  return {};
}

Result<std::int64_t> Database::user_version() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr) != SQLITE_OK)
    return error("cannot read the schema version");
  std::int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  return v;
}

std::int64_t Database::last_insert_id() { return sqlite3_last_insert_rowid(db_); }
std::int64_t Database::changes() { return sqlite3_changes(db_); }

Result<Statement> Statement::prepare(Database& db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db.handle(), sql, -1, &st, nullptr) != SQLITE_OK)
    return db.error("cannot prepare a query");
  return Statement(&db, st);
}

Statement::~Statement() {
  if (st_) sqlite3_finalize(st_);
}

Statement& Statement::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(st_, i, v);
  return *this;
}

Statement& Statement::bind(int i, std::string_view text) {
  sqlite3_bind_text(st_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_static(int i, std::string_view text) {
  sqlite3_bind_text(st_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  return *this;
}

Statement& Statement::bind_blob(int i, std::string_view bytes) {
  sqlite3_bind_blob64(st_, i, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = db_->error("query failed");
  sqlite3_reset(st_);
  return e;
}

Result<void> Statement::run() {
  auto r = step();
  sqlite3_reset(st_);
  if (!r) return r.error();
  return {};
}

void Statement::reset() { sqlite3_reset(st_); }

std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(st_, col); }

std::string Statement::text(int col) const {
  const unsigned char* p = sqlite3_column_text(st_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(st_, col)) : std::string();
}

std::string Statement::blob(int col) const {
  const void* p = sqlite3_column_blob(st_, col);
  return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(st_, col)) : std::string();
}

bool Statement::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

}  // namespace lw::store
