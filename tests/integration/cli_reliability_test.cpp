// The CLI against targets and databases that misbehave: a gzip bomb, a body that drips or never
// ends, a slow target beside a healthy one in `watch`, a database locked by another process
// mid-watch, a file that is not ours, a read-only directory, a damaged stored snapshot. The
// hostile targets are raw loopback sockets (a library server cannot drip or lie about framing).
// Each case prints its figure (docs/benchmarks.md, "Reliability: the CLI").
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "src/snapshot/codec.hpp"
#include "src/store/store.hpp"
#include "tests/diff/synthetic_snapshot.hpp"
#include "tests/integration/run_command.hpp"

using lw::test::SnapshotBuilder;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000LL;
const std::string kCli = std::string("'") + LW_CLI + "'";

// The RSS bound is the release build's; under AddressSanitizer the CLI starts at ~57 MiB (its
// runtime and shadow) and the shadow of a 256 MiB body adds ~70 MiB more.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kRssLimitKb = 300 * 1000 + 128 * 1024;
#else
constexpr long kRssLimitKb = 300 * 1000;
#endif

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// A service whose heap site grows by 200 kB a minute (a finding after 5 snapshots).
lw::snapshot::Snapshot growing(int i) {
  SnapshotBuilder b(kT0 + i * SnapshotBuilder::kMinute);
  b.site({"operator new", "Handler::remember", "Handler::serve"}, 100'000 + i * 200'000, 1 + i * 100);
  b.site({"operator new", "Cache::put"}, 50'000, 10);
  b.task(1, "", 500 + static_cast<std::uint64_t>(i) * 7, {"main"}, {});
  return b.get();
}

// Measured is a CLI run: exit code, output, wall time and the CLI's peak RSS (wait4's ru_maxrss:
// the command is exec'd by the shell, so the child is the CLI itself).
struct Measured {
  int exit_code = -1;
  std::string output;
  double seconds = 0;
  long peak_rss_kb = 0;
};

Measured run_measured(const std::string& command) {
  Measured m;
  int out[2];
  REQUIRE(pipe(out) == 0);
  auto t0 = Clock::now();
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    close(out[0]);
    close(out[1]);
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) m.output.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  m.seconds = seconds_since(t0);
  m.peak_rss_kb = ru.ru_maxrss;
  if (WIFEXITED(status)) m.exit_code = WEXITSTATUS(status);
  return m;
}

// RawTarget listens on 127.0.0.1 (a kernel-chosen port) and runs `serve(fd, stop)` on its own
// thread for each connection, after reading the request head. `stop` turns true at teardown.
class RawTarget {
 public:
  using Serve = std::function<void(int fd, const std::atomic<bool>& stop)>;
  explicit RawTarget(Serve serve) : serve_(std::move(serve)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(listen_fd_, 64) == 0);
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~RawTarget() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    close(listen_fd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : handlers_) t.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }
  std::vector<double> request_times() {
    std::lock_guard<std::mutex> lock(mu_);
    return times_;
  }

 private:
  void accept_loop() {
    for (;;) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) < 0 || stop_) return;
      if (!(p.revents & POLLIN)) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stop_) return;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      handlers_.emplace_back([this, fd] {
        std::string head;
        char c;
        while (head.find("\r\n\r\n") == std::string::npos && recv(fd, &c, 1, 0) == 1) head += c;
        {
          std::lock_guard<std::mutex> l(mu_);
          times_.push_back(seconds_since(start_));
        }
        ++requests_;
        serve_(fd, stop_);
        close(fd);
      });
    }
  }

  Serve serve_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> handlers_;  // guarded by mu_
  std::vector<double> times_;          // guarded by mu_; seconds since start_ of each request
  Clock::time_point start_ = Clock::now();
};

bool send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// sleep_or_stop() sleeps `ms`, returning false early when `stop` turns true.
bool sleep_or_stop(int ms, const std::atomic<bool>& stop) {
  for (int i = 0; i < ms / 10; ++i) {
    if (stop) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return !stop;
}

// Serves snapshot k of `script` to the k-th request.
RawTarget::Serve snapshot_server(std::function<lw::snapshot::Snapshot(int)> script) {
  auto n = std::make_shared<std::atomic<int>>(0);
  return [script, n](int fd, const std::atomic<bool>&) {
    std::string body = lw::snapshot::encode(script((*n)++));
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  };
}

// Sends a head announcing a big body, then one byte every 500 ms until the client goes.
void drip(int fd, const std::atomic<bool>& stop) {
  if (!send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n")) return;
  while (sleep_or_stop(500, stop) && send_all(fd, "x")) {
  }
}

// gzip_bomb() is one gzip member that inflates to `size` zero bytes.
std::string gzip_bomb(std::size_t size) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  std::vector<unsigned char> zeros(1 << 20, 0);
  std::string out;
  unsigned char buf[1 << 16];
  for (std::size_t done = 0; done < size; done += zeros.size()) {
    z.next_in = zeros.data();
    z.avail_in = static_cast<uInt>(zeros.size());
    int flush = done + zeros.size() >= size ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = buf;
      z.avail_out = sizeof buf;
      deflate(&z, flush);
      out.append(reinterpret_cast<char*>(buf), sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return out;
}

struct TempDir {
  std::string dir = lw::test::make_temp_dir("clirel");
  std::string db = dir + "/leakwatch.db";
  ~TempDir() {
    chmod(dir.c_str(), 0755);
    std::system(("rm -rf '" + dir + "'").c_str());
  }
};

// exec_sql() runs SQL on `path` with its own connection (another program's, as far as the CLI
// can tell).
void exec_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
}

std::int64_t count_rows(const std::string& path, const char* table) {
  auto st = lw::store::Store::open_read_only(path);
  REQUIRE(st.ok());
  auto q = lw::store::Statement::prepare((*st)->database(), (std::string("SELECT count(*) FROM ") + table).c_str());
  REQUIRE(q.ok());
  REQUIRE(*q->step());
  return q->int64(0);
}

void store_series(const std::string& path, int n) {
  auto st = lw::store::Store::open(path);
  REQUIRE(st.ok());
  for (int i = 0; i < n; ++i) {
    auto s = growing(i);
    REQUIRE((*st)->add_snapshot("http://127.0.0.1:6060", s, lw::snapshot::encode(s)).ok());
  }
}

}  // namespace

TEST_CASE("snapshot stops a gzip bomb at the cap, within the deadline and in bounded memory") {
  std::string bomb = gzip_bomb(std::size_t{1} << 30);
  RawTarget target([&](int fd, const std::atomic<bool>&) {
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(bomb.size()) +
                     "\r\n\r\n" + bomb);
  });
  TempDir d;
  auto m = run_measured(kCli + " snapshot " + target.url() + " --timeout 3s --db " + d.db);
  std::printf("gzip bomb (%zu bytes -> 1 GiB): exit %d after %.2f s, CLI peak RSS %ld KiB: %s", bomb.size(),
              m.exit_code, m.seconds, m.peak_rss_kb, m.output.c_str());
  CHECK(m.exit_code == 2);
  // On a loaded machine the deadline may come before inflating reaches the cap: either ends it.
  CHECK_MESSAGE((contains(m.output, "leakwatch: error: " + target.url() + ": snapshot larger than 256 MiB") ||
                 contains(m.output, "leakwatch: error: " + target.url() + ": timed out after 3s reading the body")),
                m.output);
  CHECK(m.seconds < 4.0);
  CHECK(m.peak_rss_kb < kRssLimitKb);
  CHECK_FALSE(exists(d.db));  // nothing to store, so no database made

  // A smaller cap stops it sooner and smaller.
  auto small = run_measured(kCli + " snapshot " + target.url() + " --max-snapshot-bytes 16MiB --db " + d.db);
  std::printf("gzip bomb, --max-snapshot-bytes 16MiB: exit %d after %.2f s, CLI peak RSS %ld KiB\n",
              small.exit_code, small.seconds, small.peak_rss_kb);
  CHECK(small.exit_code == 2);
  CHECK(contains(small.output, "snapshot larger than 16 MiB"));
  CHECK(small.peak_rss_kb < kRssLimitKb - 236 * 1024);  // 64 MiB in a release build
}

TEST_CASE("snapshot keeps one deadline for the whole request against dripping and endless targets") {
  TempDir d;
  struct Case {
    const char* what;
    RawTarget::Serve serve;
    std::string expect;
  } cases[] = {
      {"a body byte every 500 ms", drip, "timed out after 2s reading the body"},
      {"a head byte every 500 ms",
       [](int fd, const std::atomic<bool>& stop) {
         for (char c : std::string("HTTP/1.1 200 OK\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n"))
           if (!sleep_or_stop(500, stop) || !send_all(fd, std::string(1, c))) return;
       },
       "timed out after 2s waiting for the response"},
      {"an endless chunked body, as fast as it goes",
       [](int fd, const std::atomic<bool>& stop) {
         if (!send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) return;
         std::string chunk = "10000\r\n" + std::string(0x10000, 'z') + "\r\n";
         while (!stop && send_all(fd, chunk)) {
         }
       },
       "snapshot larger than 256 MiB|timed out after 2s reading the body"},
      {"no answer at all",
       [](int, const std::atomic<bool>& stop) { sleep_or_stop(10'000, stop); },
       "timed out after 2s waiting for the response"},
      {"a status line that is not HTTP",
       [](int fd, const std::atomic<bool>&) { send_all(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n"); },
       "malformed HTTP response (bad status line 'SSH-2.0-OpenSSH_9.2')"},
      {"a 401 with a reason",
       [](int fd, const std::atomic<bool>&) {
         send_all(fd, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 22\r\n\r\nmissing or wrong token");
       },
       "/debug/leakwatch/snapshot: HTTP 401: missing or wrong token"},
  };
  for (Case& c : cases) {
    RawTarget target(c.serve);
    auto m = run_measured(kCli + " snapshot " + target.url() + " --timeout 2s --db " + d.db);
    std::printf("%s: exit %d after %.2f s, CLI peak RSS %ld KiB: %s", c.what, m.exit_code, m.seconds, m.peak_rss_kb,
                m.output.c_str());
    CHECK_MESSAGE(m.exit_code == 2, std::string(c.what));
    CHECK_MESSAGE(contains(m.output, "leakwatch: error: " + target.url()), std::string(c.what) << ": " << m.output);
    bool expected = false;  // one of the '|'-separated messages
    for (std::size_t at = 0; at <= c.expect.size();) {
      std::size_t bar = std::min(c.expect.find('|', at), c.expect.size());
      expected = expected || contains(m.output, c.expect.substr(at, bar - at));
      at = bar + 1;
    }
    CHECK_MESSAGE(expected, std::string(c.what) << ": " << m.output);
    CHECK_MESSAGE(m.seconds < 3.0, std::string(c.what));
    CHECK_MESSAGE(m.peak_rss_kb < kRssLimitKb, std::string(c.what));
  }
  // Go's duration forms reach the deadline: 0.5s.
  RawTarget slow(drip);
  auto m = run_measured(kCli + " snapshot " + slow.url() + " --timeout 0.5s --db " + d.db);
  std::printf("drip, --timeout 0.5s: exit %d after %.2f s\n", m.exit_code, m.seconds);
  CHECK(contains(m.output, "timed out after 500ms"));
  CHECK(m.seconds < 1.5);
}

TEST_CASE("watch: a dripping target never delays a healthy one's rounds") {
  RawTarget healthy(snapshot_server(growing));
  RawTarget dripping(drip);
  TempDir d;
  // The deadline (2 s) is longer than the interval (0.5 s): the dripping target's request spans
  // rounds, and the healthy target must still be read every 0.5 s.
  auto m = run_measured(kCli + " watch " + healthy.url() + " " + dripping.url() +
                        " --every 0.5s --timeout 2s --count 8 --db " + d.db);
  auto times = healthy.request_times();
  double worst = 0;
  for (std::size_t i = 1; i < times.size(); ++i) worst = std::max(worst, times[i] - times[i - 1]);
  std::printf("watch, healthy + dripping target, --every 0.5s --timeout 2s, 8 rounds: healthy read %zu times, "
              "longest gap %.3f s; dripping target read %d times; whole watch %.2f s\n",
              times.size(), worst, dripping.requests(), m.seconds);
  CHECK(times.size() == 8);
  CHECK(worst < 0.75);
  CHECK(contains(m.output, "timed out after 2s"));
  CHECK(count_rows(d.db, "snapshots") == 8);
  CHECK(m.seconds < 8 * 0.5 + 2 + 1.5);
}

TEST_CASE("watch: a database locked by another writer for 8 s loses no snapshot") {
  RawTarget target(snapshot_server(growing));
  TempDir d;
  std::atomic<bool> held{false};
  double held_for = 0;
  std::thread locker([&] {
    // Wait for the watch's first snapshot, then hold the write lock for 8 s.
    auto t0 = Clock::now();
    while (seconds_since(t0) < 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!exists(d.db)) continue;
      sqlite3* db = nullptr;
      if (sqlite3_open_v2(d.db.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        continue;
      }
      sqlite3_busy_timeout(db, 2000);
      sqlite3_stmt* st = nullptr;
      bool one = sqlite3_prepare_v2(db, "SELECT count(*) FROM snapshots", -1, &st, nullptr) == SQLITE_OK &&
                 sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
      sqlite3_finalize(st);
      if (one && sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO targets(url) VALUES('held')", nullptr, nullptr,
                              nullptr) == SQLITE_OK) {
        held = true;
        auto h0 = Clock::now();
        std::this_thread::sleep_for(std::chrono::seconds(8));
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        held_for = seconds_since(h0);
        sqlite3_close(db);
        return;
      }
      sqlite3_close(db);
    }
  });
  auto m = run_measured(kCli + " watch " + target.url() + " --every 0.5s --count 22 --db " + d.db);
  locker.join();
  REQUIRE(held);
  auto rows = count_rows(d.db, "snapshots");
  std::printf("watch, database locked for %.1f s mid-watch, --every 0.5s, 22 rounds: %lld of %d snapshots stored, "
              "exit %d after %.2f s\n%s",
              held_for, static_cast<long long>(rows), target.requests(), m.exit_code, m.seconds, m.output.c_str());
  CHECK(m.exit_code != 2);
  CHECK(rows == 22);
  CHECK(target.requests() == 22);
  CHECK(contains(m.output, "is locked by another writer"));
  CHECK(contains(m.output, "waiting snapshots written"));
  CHECK(contains(m.output, "waited for the database lock"));
  // Every round during the lock waited: about 8 s / 0.5 s of them.
  auto at = m.output.find(" waited for the database lock");
  REQUIRE(at != std::string::npos);
  auto num = m.output.rfind(", ", at);
  long waited = std::atol(m.output.c_str() + num + 2);
  std::printf("snapshots that waited for the lock: %ld\n", waited);
  CHECK(waited >= 12);
  CHECK(m.seconds < 22 * 0.5 + 3);
}

TEST_CASE("a file that is not a leakwatch database is refused and left byte for byte") {
  RawTarget target(snapshot_server(growing));
  TempDir d;
  struct Case {
    const char* what;
    std::string sql;
  } cases[] = {
      {"another program's SQLite file", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users(name) VALUES('ada')"},
      {"another program's SQLite file with a schema version",
       "CREATE TABLE orders(id INTEGER PRIMARY KEY); PRAGMA user_version=3"},
  };
  for (const Case& c : cases) {
    std::string path = d.dir + "/foreign.db";
    std::remove(path.c_str());
    exec_sql(path, c.sql);
    std::string before = file_bytes(path);
    for (const std::string& cmd : {"snapshot " + target.url() + " --db " + path,
                                   "watch " + target.url() + " --count 1 --db " + path, "diff --db " + path,
                                   "export --snapshot 1 --profile heap -o " + d.dir + "/out.pb.gz --db " + path}) {
      auto r = lw::test::run_command(kCli + " " + cmd);
      CHECK_MESSAGE(r.exit_code == 2, c.what << ": " << cmd);
      CHECK_MESSAGE(contains(r.output, "is not a leakwatch database"), c.what << ": " << cmd << " -> " << r.output);
      CHECK_MESSAGE(contains(r.output, "it was left untouched"), cmd);
    }
    CHECK_MESSAGE(file_bytes(path) == before, c.what);
    CHECK_FALSE(exists(path + "-wal"));
    CHECK_FALSE(exists(path + "-shm"));
    std::printf("%s: refused by snapshot, watch, diff and export; %zu bytes identical after, no -wal/-shm\n", c.what,
                before.size());
  }
  // Not SQLite at all.
  std::string junk = d.dir + "/notes.db";
  std::ofstream(junk) << "these are my notes, not a database\n" << std::string(5000, 'n');
  std::string before = file_bytes(junk);
  auto r = lw::test::run_command(kCli + " snapshot " + target.url() + " --db " + junk);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, junk));
  CHECK(file_bytes(junk) == before);
  CHECK_FALSE(exists(junk + "-wal"));
}

TEST_CASE("diff and export read a database in a read-only directory without writing to it") {
  TempDir d;
  store_series(d.db, 6);
  REQUIRE_FALSE(exists(d.db + "-wal"));  // checkpointed and removed on close
  std::string before = file_bytes(d.db);
  std::string out = lw::test::make_temp_dir("clirel_out");
  std::ofstream(out + "/read.sh") << kCli << " diff --db " << d.db << "; echo diff-exit=$?\n"
                                 << kCli << " export --snapshot 6 --profile heap -o " << out << "/heap.pb.gz --db "
                                 << d.db << "; echo export-exit=$?\n";
  std::string commands = "sh '" + out + "/read.sh'";
  std::string how;
  lw::test::CommandResult r;
  if (geteuid() == 0) {
    // chmod does not stop root: a read-only bind mount in a private mount namespace does.
    auto probe = lw::test::run_command("unshare -m sh -c \"mount --bind -o ro '" + d.dir + "' '" + d.dir +
                                       "' && ! touch '" + d.dir + "/probe'\"");
    if (probe.exit_code == 0) {
      how = "read-only bind mount";
      r = lw::test::run_command("unshare -m sh -c \"mount --bind -o ro '" + d.dir + "' '" + d.dir + "' && " + commands + "\"");
    }
  } else {
    how = "chmod 0555";
    chmod(d.dir.c_str(), 0555);
    r = lw::test::run_command(commands);
    chmod(d.dir.c_str(), 0755);
  }
  if (how.empty()) {
    how = "writable directory (root without mount rights): only checked that nothing is written";
    r = lw::test::run_command(commands);
  }
  std::printf("read-only database (%s): %s", how.c_str(), r.output.c_str());
  CHECK_MESSAGE(contains(r.output, "diff-exit=1"), r.output);
  CHECK(contains(r.output, "heap_growth"));
  CHECK(contains(r.output, "export-exit=0"));
  CHECK(exists(out + "/heap.pb.gz"));
  CHECK(file_bytes(d.db) == before);
  CHECK_FALSE(exists(d.db + "-wal"));
  std::system(("rm -rf '" + out + "'").c_str());
}

TEST_CASE("a stored snapshot that does not decode is reported and skipped; the rest is judged") {
  TempDir d;
  store_series(d.db, 8);
  exec_sql(d.db, "UPDATE task_sets SET records = x'ff01ff01ff' WHERE snapshot_id = 3");
  exec_sql(d.db, "UPDATE thread_sets SET records = x'07' WHERE snapshot_id = 5");
  auto r = lw::test::run_command(kCli + " diff --db " + d.db);
  std::printf("two damaged snapshots of 8: exit %d\n%s", r.exit_code, r.output.c_str());
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "leakwatch: warning: snapshot 3: "));
  CHECK(contains(r.output, "snapshot 3 skipped, the others judged"));
  CHECK(contains(r.output, "snapshot 5 skipped"));
  CHECK(contains(r.output, "heap_growth"));
  CHECK(contains(r.output, "(6 snapshots, 1 series)"));
}

TEST_CASE("snapshot reads a chunked body of two gzip members, as curl would") {
  auto s = growing(2);
  std::string body = lw::snapshot::encode(s);
  auto gz = [](const std::string& data) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
  };
  std::string wire = gz(body.substr(0, body.size() / 2)) + gz(body.substr(body.size() / 2));
  RawTarget target([&](int fd, const std::atomic<bool>&) {
    std::string out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n";
    for (std::size_t at = 0; at < wire.size(); at += 100) {
      std::string piece = wire.substr(at, 100);
      char size[16];
      std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
      out += size + piece + "\r\n";
    }
    send_all(fd, out + "0\r\nX-Trailer: ok\r\n\r\n");
  });
  TempDir d;
  auto r = lw::test::run_command(kCli + " snapshot " + target.url() + " --db " + d.db);
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output == "1\n");
  auto st = lw::store::Store::open_read_only(d.db);
  REQUIRE(st.ok());
  CHECK(*(*st)->snapshot_blob(1) == body);
}
