// The transport is our own small HTTP/1.1 server, chosen over cpp-httplib 0.11 (which it replaced),
// libmicrohttpd and Boost.Beast by the figures in docs/http.md ("Choosing the transport"). What
// decided it: a server living inside someone else's process must never be the reason that process
// runs out of memory, descriptors or threads, and must keep answering /metrics whatever a few
// clients do. httplib gives each connection a blocking thread from a fixed pool (four slow
// clients lock everyone out) and has no total for a request's header lines; libmicrohttpd has the
// limits but no deadline for a whole request and no way to drop an old connection for a new one,
// so 64 slow clients still lock /metrics out; Beast leaves the connection model to us anyway.
//
// Model. One loop thread owns every socket: it accepts, reads each request head through a
// RequestHeadParser (budgets checked per line, the token as soon as its line is in), reads a body
// only up to max_body, and writes responses, all non-blocking. A complete request goes to a fixed
// pool of workers, which run the Handler (for the debug server: captures, symbolization, the
// 1..300 s wait of a delta profile) and hand back the response's bytes. So a slow or idle client
// costs a descriptor and a few KiB, never a thread, and the loop is never waiting on one client
// while others wait. One more thread runs the handler's tick (the live page's history) if asked.
//
// Budgets (ServerLimits, docs/http.md):
// - connections: at most max_connections, itself at most RLIMIT_NOFILE / 8, so the program keeps
//   7/8 of its descriptors whatever clients do. When the budget is full a new connection takes the
//   place of the one that has waited longest for its request to finish (idle keep-alive, slow
//   head or body); only when every connection is being answered is it refused at once (503), not
//   queued. That is the rule that keeps a few slow or idle clients from locking out /metrics.
// - time: no byte within idle_timeout_ms closes a connection; a request not in within
//   request_deadline_ms gets 408; a response not written within write_deadline_ms is dropped.
// - memory: per connection one head line (at most max_header_bytes), a body (at most max_body),
//   one read chunk of pipelined bytes, and the response being sent; responses held altogether at
//   most max_held_response_bytes before new requests (other than the inline path, /metrics) get 503.
// - requests are answered one at a time per connection, in order (pipelining works; bytes after
//   a request wait unread in the socket until its answer is written).
//
// Errors the transport answers itself (400, 408, 413, 414, 431, 501, 505, and an early 401) end
// the connection: it is shut down for writing and the rest of the client's bytes are read and
// dropped until our answer is acknowledged (at most 2 s), because closing a socket with unread
// bytes sends a reset that can destroy the answer before the client reads it.
#include "src/http/http_service.hpp"

#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "src/base/clock.hpp"
#include "src/base/log.hpp"
#include "src/base/self_scope.hpp"
#include "src/base/thread_role.hpp"
#include "src/http/access_rule.hpp"
#include "src/http/listen_socket.hpp"
#include "src/http/response_wire.hpp"

namespace lw::http {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr int kAcceptsPerWake = 32;        // then the loop serves readable connections again
constexpr std::int64_t kLingerMs = 2000;   // reading and dropping after an error answer
constexpr std::int64_t kTickMs = 50;       // how often deadlines are checked
constexpr std::int64_t kAcceptPauseMs = 100;  // after accept() ran out of descriptors
constexpr int kListenBacklog = 128;

std::int64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// connection_budget() is max_connections lowered to an eighth of the descriptors the process may
// open (at least 4).
int connection_budget(int wanted) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    long cap = static_cast<long>(rl.rlim_cur / 8);
    if (cap < 4) cap = 4;
    if (wanted > cap) wanted = static_cast<int>(cap);
  }
  return wanted < 1 ? 1 : wanted;
}

enum class Phase {
  kHead,       // reading a request head
  kBody,       // reading a request body
  kServing,    // a worker is answering; not read from
  kWriting,    // sending the answer
  kLingering,  // answered with an error; dropping what the client still sends, then closing
};

struct Connection {
  int fd = -1;
  std::uint64_t id = 0;
  Phase phase = Phase::kHead;
  RequestHeadParser parser;
  RequestHead head;
  bool token_checked = false;
  std::string body;
  std::string pending;  // bytes after the request being answered (pipelined); at most kReadChunk
  std::int64_t waiting_since_ms = 0;  // accept, or the end of the last answer
  std::int64_t request_start_ms = 0;  // first byte of the current request; 0 = none yet
  std::int64_t phase_start_ms = 0;    // start of kWriting / kLingering
  std::string out;
  std::size_t out_sent = 0;
  bool close_after = false;
  bool dead = false;  // closed; erased from the table at the end of the loop's turn
  int served = 0;
  std::uint32_t events = 0;  // the epoll interest now registered

  explicit Connection(HeadLimits limits) : parser(limits) {}
};

struct Job {
  std::uint64_t conn = 0;
  Request request;
  bool head_only = false;
  bool close = false;
};

struct Done {
  std::uint64_t conn = 0;
  std::string bytes;
  bool close = false;
};

// name_thread() names `t`, cut to the 15 bytes the kernel keeps.
void name_thread(std::thread& t, const char* name) {
  char cut[16];
  std::snprintf(cut, sizeof cut, "%s", name);
  pthread_setname_np(t.native_handle(), cut);
}

}  // namespace

struct HttpService::Impl {
  ServerLimits limits;
  std::unique_ptr<Handler> handler;
  AccessRule access;
  std::string inline_path;
  std::chrono::milliseconds tick_every{0};
  std::string host;
  int port = 0;
  int max_connections = 0;
  bool loopback = false;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;  // eventfd: workers finished something, or stop()
  std::thread loop_thread;
  std::vector<std::thread> workers;
  std::thread ticker;  // the handler's tick(), every tick_every

  // Loop thread only.
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> conns;
  std::uint64_t next_id = 1;
  std::size_t held_bytes = 0;  // responses built and not yet sent
  int dead_count = 0;          // closed records in conns, not yet reaped
  bool listen_paused = false;
  std::int64_t listen_resume_ms = 0;

  std::mutex mu;
  std::condition_variable jobs_cv;  // workers wait for jobs
  std::condition_variable stop_cv;  // delta profiles wait on it
  std::deque<Job> jobs;             // Guarded by mu.
  std::deque<Done> done;            // Guarded by mu.
  bool stopping = false;            // Guarded by mu.
  bool stopped = false;             // Guarded by mu.
  std::atomic<bool> loop_stop{false};

  // tick() runs the handler's tick until stop(). Its own thread: the debug server's tick captures,
  // which can wait behind a full capture (the thread stacks' lock); the loop must never wait so.
  // The first tick waits a period too: a server started from a constructor must not capture
  // while the program is still being set up.
  void tick() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop_cv.wait_for(lock, tick_every, [this] { return stopping; })) {
      lock.unlock();
      handler->tick();
      lock.lock();
    }
  }

  // wait_seconds() sleeps for a handler (a delta profile); false when stop() interrupted it.
  bool wait_seconds(std::int64_t seconds) {
    std::unique_lock<std::mutex> lock(mu);
    return !stop_cv.wait_for(lock, std::chrono::seconds(seconds), [this] { return stopping; });
  }

  // answer() is the handler's response to `req`, or the access rule's refusal of it.
  Response answer(const Request& req) {
    if (auto refused = refusal(req, access)) return *std::move(refused);
    return handler->handle(req);
  }

  void wake() {
    std::uint64_t one = 1;
    (void)!write(wake_fd, &one, sizeof one);
  }

  // --- workers ---
  void worker() {
    // The server's own allocations are kept out of the heap profile: every request is served
    // below this frame (they still count in MemStats, as any allocation does).
    base::SelfScope untracked;
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu);
        jobs_cv.wait(lock, [this] { return stopping || !jobs.empty(); });
        if (stopping) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      Response r = answer(job.request);
      Done d{job.conn, response_bytes(r, job.head_only, job.close), job.close};
      {
        std::lock_guard<std::mutex> lock(mu);
        done.push_back(std::move(d));
      }
      wake();
    }
  }

  // --- the loop ---
  void set_events(Connection& c, std::uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.id;
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = events;
  }

  // close_conn() closes the socket at once and leaves the record to reap(), so that a caller up
  // the stack still holding the Connection (consume(), write_some()) sees `dead` instead of freed
  // memory.
  void close_conn(std::uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end() || it->second->dead) return;
    Connection& c = *it->second;
    if (c.phase == Phase::kWriting) held_bytes -= c.out.size();
    c.out = std::string();
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.dead = true;
    ++dead_count;
  }

  void reap() {
    if (dead_count == 0) return;
    for (auto it = conns.begin(); it != conns.end();) it = it->second->dead ? conns.erase(it) : std::next(it);
    dead_count = 0;
  }

  int live_connections() const { return static_cast<int>(conns.size()) - dead_count; }

  void loop() {
    base::SelfScope untracked;
    std::vector<epoll_event> events(64);
    std::int64_t last_tick = now_ms();
    while (!loop_stop.load(std::memory_order_relaxed)) {
      int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), static_cast<int>(kTickMs));
      for (int i = 0; i < n; ++i) {
        std::uint64_t id = events[i].data.u64;
        if (id == 0) {
          accept_some();
        } else if (id == UINT64_MAX) {
          std::uint64_t count;
          (void)!read(wake_fd, &count, sizeof count);
          take_done();
        } else {
          on_event(id, events[i].events);
        }
      }
      std::int64_t now = now_ms();
      if (now - last_tick >= kTickMs) {
        last_tick = now;
        check_deadlines(now);
      }
      reap();
    }
    std::vector<std::uint64_t> ids;
    for (auto& [id, c] : conns) ids.push_back(id);
    for (std::uint64_t id : ids) close_conn(id);
    reap();
  }

  // victim() is the connection that has waited longest for its request to finish, among those
  // not being answered; 0 if every connection is being answered.
  std::uint64_t victim() {
    std::uint64_t best = 0;
    std::int64_t best_since = INT64_MAX;
    for (auto& [id, c] : conns) {
      std::int64_t since;
      if (c->dead) continue;
      if (c->phase == Phase::kLingering) since = INT64_MIN;
      else if (c->phase == Phase::kHead || c->phase == Phase::kBody)
        since = c->request_start_ms != 0 ? c->request_start_ms : c->waiting_since_ms;
      else continue;
      if (since < best_since) {
        best_since = since;
        best = id;
      }
    }
    return best;
  }

  void accept_some() {
    for (int i = 0; i < kAcceptsPerWake; ++i) {
      int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors (the program's, not ours: ours are budgeted). Stop accepting for a
          // moment instead of spinning on a listener that stays readable.
          pause_listening(now_ms());
        }
        return;
      }
      if (live_connections() >= max_connections) {
        std::uint64_t v = victim();
        if (v == 0) {
          static constexpr char kBusy[] =
              "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: 21\r\nRetry-After: 1\r\nX-Content-Type-Options: nosniff\r\n"
              "Connection: close\r\n\r\ntoo many connections\n";
          (void)!send(fd, kBusy, sizeof kBusy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
          close(fd);
          continue;
        }
        close_conn(v);
      }
      int yes = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
      auto c = std::make_unique<Connection>(limits.head);
      c->fd = fd;
      c->id = next_id++;
      c->waiting_since_ms = now_ms();
      c->events = EPOLLIN | EPOLLRDHUP;
      epoll_event ev{};
      ev.events = c->events;
      ev.data.u64 = c->id;
      if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        continue;
      }
      conns.emplace(c->id, std::move(c));
    }
  }

  void pause_listening(std::int64_t now) {
    if (listen_paused) return;
    epoll_event ev{};
    ev.data.u64 = 0;
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
    listen_paused = true;
    listen_resume_ms = now + kAcceptPauseMs;
  }

  void on_event(std::uint64_t id, std::uint32_t ev) {
    auto it = conns.find(id);
    if (it == conns.end() || it->second->dead) return;
    Connection& c = *it->second;
    if (c.phase == Phase::kWriting && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
      write_some(c);
      return;
    }
    if (c.phase == Phase::kLingering) {
      linger_read(c);
      return;
    }
    if (c.phase == Phase::kServing && (ev & (EPOLLERR | EPOLLHUP))) {
      // The client is gone (a reset) while a worker answers; epoll reports that whatever the
      // interest, so it must be handled or the loop spins. The worker's answer will find no one.
      close_conn(c.id);
      return;
    }
    if (c.phase == Phase::kHead || c.phase == Phase::kBody) read_some(c);
  }

  void read_some(Connection& c) {
    char buf[kReadChunk];
    // Bounded: a connection gets at most a few chunks per wake, so one fast sender cannot keep
    // the loop from the others.
    for (int round = 0; round < 4 && !c.dead && (c.phase == Phase::kHead || c.phase == Phase::kBody); ++round) {
      ssize_t got = recv(c.fd, buf, sizeof buf, 0);
      if (got == 0) {
        close_conn(c.id);
        return;
      }
      if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) close_conn(c.id);
        return;
      }
      if (!consume(c, std::string_view(buf, static_cast<std::size_t>(got)))) return;
    }
  }

  // consume() runs the bytes through the request's phases; false if the connection was closed.
  bool consume(Connection& c, std::string_view data) {
    while (!data.empty() && !c.dead) {
      if (c.phase == Phase::kHead) {
        std::size_t used = c.parser.feed(data);
        data.remove_prefix(used);
        if (c.request_start_ms == 0 && c.parser.started()) c.request_start_ms = now_ms();
        if (!c.token_checked && c.parser.head().has_authorization && !access.token.empty()) {
          c.token_checked = true;
          if (!token_matches(c.parser.head().authorization, access.token)) {
            answer_now(c, unauthorized());
            return true;
          }
        }
        if (c.parser.state() == HeadState::kError) {
          answer_now(c, error_response(c.parser.error_status(), c.parser.error_text()));
          return true;
        }
        if (c.parser.state() == HeadState::kDone && !head_done(c)) return true;
      } else if (c.phase == Phase::kBody) {
        std::size_t want = static_cast<std::size_t>(c.head.content_length) - c.body.size();
        std::size_t take = want < data.size() ? want : data.size();
        c.body.append(data.substr(0, take));
        data.remove_prefix(take);
        if (c.body.size() == c.head.content_length) dispatch(c);
      } else {
        // Being answered: keep what follows for after the answer (pipelining).
        c.pending.append(data);
        return true;
      }
    }
    return true;
  }

  // head_done() moves on after a complete head; false if it answered with an error instead.
  bool head_done(Connection& c) {
    c.head = c.parser.take_head();
    if (c.head.has_transfer_encoding) {
      answer_now(c, error_response(501, "Transfer-Encoding is not supported; send Content-Length"));
      return false;
    }
    if (c.head.content_length > limits.max_body) {
      std::string text = "request too large: at most " + std::to_string(limits.max_body) + " bytes of body";
      answer_now(c, error_response(413, text.c_str()));
      return false;
    }
    if (c.head.content_length == 0) {
      dispatch(c);
      return true;
    }
    if (c.head.expect_continue) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      (void)!send(c.fd, kContinue, sizeof kContinue - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    c.phase = Phase::kBody;
    c.body.reserve(static_cast<std::size_t>(c.head.content_length));
    return true;
  }

  void dispatch(Connection& c) {
    Target t = parse_target(c.head.target);
    if (!t.ok) {
      answer_now(c, error_response(400, "malformed request target"));
      return;
    }
    c.phase = Phase::kServing;
    ++c.served;
    Job job;
    job.conn = c.id;
    job.head_only = c.head.method == "HEAD";
    job.close = c.head.connection_close || !c.head.http11 || c.served >= limits.max_requests_per_connection;
    const bool inline_answer = !inline_path.empty() && t.path == inline_path;
    if (held_bytes >= limits.max_held_response_bytes && !inline_answer) {
      Response busy = error_response(503, "busy: too many answers waiting for slow readers; try again");
      busy.headers.emplace_back("Retry-After", "1");
      start_writing(c, response_bytes(busy, job.head_only, job.close), job.close);
      return;
    }
    Request& r = job.request;
    r.method = std::move(c.head.method);
    r.path = std::move(t.path);
    r.params = std::move(t.params);
    r.raw_query = std::move(t.raw_query);
    r.authorization = std::move(c.head.authorization);
    r.accept_encoding = std::move(c.head.accept_encoding);
    r.host = std::move(c.head.host);
    r.body = std::move(c.body);
    c.body = std::string();
    if (inline_answer) {
      // Answered here, not by a worker: the debug server's /metrics is built from counters at most
      // 100 ms old (~20 us), and the two thread hand-offs a worker costs were most of a scrape's
      // time (docs/benchmarks.md). A recapture of the counters (~0.2 ms, once per 100 ms) is the
      // longest the loop waits.
      start_writing(c, response_bytes(answer(r), job.head_only, job.close), job.close);
      return;
    }
    set_events(c, 0);
    {
      std::lock_guard<std::mutex> lock(mu);
      jobs.push_back(std::move(job));
    }
    jobs_cv.notify_one();
  }

  // answer_now() sends a transport-made error and ends the connection after it.
  void answer_now(Connection& c, const Response& r) {
    c.phase = Phase::kServing;
    c.pending.clear();
    start_writing(c, response_bytes(r, false, true), true);
  }

  void start_writing(Connection& c, std::string bytes, bool close) {
    c.out = std::move(bytes);
    c.out_sent = 0;
    c.close_after = close;
    c.phase = Phase::kWriting;
    c.phase_start_ms = now_ms();
    held_bytes += c.out.size();
    write_some(c);
  }

  void take_done() {
    std::deque<Done> ready;
    {
      std::lock_guard<std::mutex> lock(mu);
      ready.swap(done);
    }
    for (Done& d : ready) {
      auto it = conns.find(d.conn);
      if (it == conns.end() || it->second->dead) continue;
      start_writing(*it->second, std::move(d.bytes), d.close);
    }
  }

  void write_some(Connection& c) {
    while (c.out_sent < c.out.size()) {
      ssize_t n = send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          set_events(c, EPOLLOUT);  // the rest when the socket has room
          return;
        }
        close_conn(c.id);
        return;
      }
      c.out_sent += static_cast<std::size_t>(n);
    }
    held_bytes -= c.out.size();
    c.out = std::string();
    c.out_sent = 0;
    if (c.close_after) {
      shutdown(c.fd, SHUT_WR);
      c.phase = Phase::kLingering;
      c.phase_start_ms = now_ms();
      set_events(c, EPOLLIN | EPOLLRDHUP);
      linger_read(c);
      return;
    }
    // Ready for the next request; bytes already read for it are consumed now.
    c.phase = Phase::kHead;
    c.parser.reset();
    c.token_checked = false;
    c.head = RequestHead{};
    c.request_start_ms = 0;
    c.waiting_since_ms = now_ms();
    set_events(c, EPOLLIN | EPOLLRDHUP);
    if (!c.pending.empty()) {
      std::string next = std::move(c.pending);
      c.pending.clear();
      consume(c, next);
    }
  }

  void linger_read(Connection& c) {
    char buf[kReadChunk];
    for (int round = 0; round < 4; ++round) {
      ssize_t got = recv(c.fd, buf, sizeof buf, 0);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        close_conn(c.id);
        return;
      }
      if (got < 0) break;
    }
    if (unacknowledged(c) == 0) close_conn(c.id);
  }

  static int unacknowledged(const Connection& c) {
    int outq = 0;
    if (ioctl(c.fd, SIOCOUTQ, &outq) != 0) return 0;
    return outq;
  }

  void check_deadlines(std::int64_t now) {
    if (listen_paused && now >= listen_resume_ms) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = 0;
      epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
      listen_paused = false;
    }
    std::vector<std::uint64_t> expired, late;
    for (auto& [id, c] : conns) {
      if (c->dead) continue;
      switch (c->phase) {
        case Phase::kHead:
        case Phase::kBody:
          if (c->request_start_ms == 0) {
            if (now - c->waiting_since_ms >= limits.idle_timeout_ms) expired.push_back(id);
          } else if (now - c->request_start_ms >= limits.request_deadline_ms) {
            late.push_back(id);
          }
          break;
        case Phase::kWriting:
          if (now - c->phase_start_ms >= limits.write_deadline_ms) expired.push_back(id);
          break;
        case Phase::kLingering:
          if (now - c->phase_start_ms >= kLingerMs || unacknowledged(*c) == 0) expired.push_back(id);
          break;
        case Phase::kServing:
          break;
      }
    }
    for (std::uint64_t id : expired) close_conn(id);
    for (std::uint64_t id : late) {
      auto it = conns.find(id);
      if (it != conns.end() && !it->second->dead) answer_now(*it->second, error_response(408, "request timeout"));
    }
  }
};

HttpService::HttpService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpService::~HttpService() { stop(); }

const std::string& HttpService::host() const { return impl_->host; }
int HttpService::port() const { return impl_->port; }
int HttpService::max_connections() const { return impl_->max_connections; }
bool HttpService::loopback() const { return impl_->loopback; }

std::string HttpService::url() const {
  bool v6 = impl_->host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + impl_->host + "]" : impl_->host) + ":" + std::to_string(impl_->port);
}

Result<std::unique_ptr<HttpService>> HttpService::start(ServiceOptions options) {
  base::SelfScope untracked;  // the server's set-up is not the program's heap either
  auto impl = std::make_unique<Impl>();
  Impl* self = impl.get();
  impl->limits = options.limits;
  impl->host = options.address.host;
  impl->max_connections = connection_budget(options.limits.max_connections);
  const int threads = options.threads < 1 ? 1 : options.threads > 64 ? 64 : options.threads;

  auto listening = listen_on(impl->host, options.address.port, kListenBacklog);
  if (!listening) return listening.error();
  impl->listen_fd = listening->fd;
  impl->port = listening->port;
  impl->loopback = listening->loopback;

  if (!impl->loopback && options.token.empty())
    base::log_write("warning: %s on %s:%d is not on a loopback address and has no token: anyone "
                    "who can reach it reads what it serves; set LEAKWATCH_TOKEN (docs/http.md)",
                    options.describe.c_str(), impl->host.c_str(), impl->port);
  impl->access.token = std::move(options.token);
  impl->access.loopback_hosts_only = impl->loopback;
  impl->inline_path = std::move(options.inline_path);
  impl->tick_every = options.tick_every;
  ServiceContext context;
  context.loopback = impl->loopback;
  context.wait = [self](std::int64_t s) { return self->wait_seconds(s); };
  impl->handler = options.make_handler ? options.make_handler(context) : nullptr;
  if (!impl->handler) {
    close(impl->listen_fd);
    return make_error("http service: no handler");
  }

  impl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->epoll_fd < 0 || impl->wake_fd < 0) {
    if (impl->epoll_fd >= 0) close(impl->epoll_fd);
    if (impl->wake_fd >= 0) close(impl->wake_fd);
    close(impl->listen_fd);
    return make_error(options.describe + ": " + std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->listen_fd, &ev);
  ev.data.u64 = UINT64_MAX;
  epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->wake_fd, &ev);

  // The server's threads block every signal: signals sent to the process (SIGTERM, SIGINT,
  // SIGHUP, a dump signal) are the program's to take, and a program that waits for them with
  // sigwait() only blocks them in its own threads.
  {
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    impl->loop_thread = std::thread([self] {
      base::set_thread_role(base::ThreadRole::kInternal);
      base::SelfScope own_memory;  // everything this thread allocates is leakwatch's
      self->loop();
    });
    name_thread(impl->loop_thread, options.name.c_str());
    if (impl->tick_every.count() > 0) {
      impl->ticker = std::thread([self] {
        base::set_thread_role(base::ThreadRole::kInternal);
        base::SelfScope own_memory;
        self->tick();
      });
      name_thread(impl->ticker, (options.tick_thread_name.empty() ? options.name + "-tick" : options.tick_thread_name).c_str());
    }
    for (int i = 0; i < threads; ++i) {
      impl->workers.emplace_back([self] {
        base::set_thread_role(base::ThreadRole::kInternal);
        base::SelfScope own_memory;
        self->worker();
      });
      name_thread(impl->workers.back(), (options.name + "-" + std::to_string(i)).c_str());
    }
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  }
  return std::unique_ptr<HttpService>(new HttpService(std::move(impl)));
}

void HttpService::stop() {
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  impl_->jobs_cv.notify_all();
  for (std::thread& t : impl_->workers)
    if (t.joinable()) t.join();
  if (impl_->ticker.joinable()) impl_->ticker.join();
  impl_->loop_stop.store(true);
  impl_->wake();
  if (impl_->loop_thread.joinable()) impl_->loop_thread.join();
  close(impl_->listen_fd);
  close(impl_->epoll_fd);
  close(impl_->wake_fd);
}

}  // namespace lw::http
