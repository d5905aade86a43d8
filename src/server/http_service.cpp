// cpp-httplib is used only as a parser and connection loop. Every request goes through its
// pre-routing hook straight to the Router, with no handler or mount point registered, so httplib's
// own routing (regex patterns, static files) is never reached. The one exception is POST
// /debug/pprof/symbol: the pre-routing hook runs before httplib reads a body, so that request is
// checked there (token, size) and then left to one registered POST handler that has the body.
//
// Limits, so that a client cannot make the watched program pay: bodies over kMaxSymbolBody are
// refused with 413 before being read; URIs and header lines over 8 KB are refused by httplib
// (414/400, compiled into Debian's libcpp-httplib); idle connections are dropped after 2 s and
// slow ones after 5 s; a connection serves at most 100 requests.
//
// Threads: httplib's own ThreadPool names nothing; ours names each thread so that `top -H`,
// /proc/self/task and the threads profile (?internal=1) show which threads are the server's.
#include "src/server/http_service.hpp"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "src/base/log.hpp"
#include "src/base/thread_role.hpp"
#include "src/heap/hook_guard.hpp"

namespace lw::server {
namespace {

// NamedPool runs httplib's connection tasks on `n` threads named "lw-http-<i>".
class NamedPool final : public httplib::TaskQueue {
 public:
  explicit NamedPool(int n) {
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        base::set_thread_role(base::ThreadRole::kInternal);
        run();
      });
      char name[32];
      std::snprintf(name, sizeof name, "lw-http-%d", i);
      name[15] = '\0';  // the kernel's limit for a thread name
      pthread_setname_np(threads_.back().native_handle(), name);
    }
  }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void run() {
    // The one place the server's own allocations are kept out of the heap profile: every request
    // is served below this frame (they still count in MemStats, as any allocation does).
    heap::UntrackedScope untracked;
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // shutting down and drained
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // Guarded by mu_.
  bool shutdown_ = false;                   // Guarded by mu_.
  std::vector<std::thread> threads_;        // Written only by the constructor.
};

const char* status_text(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 408: return "request timeout";
    case 413: return "request too large";
    case 414: return "request URI too long";
    case 416: return "range not satisfiable";
    case 431: return "request header fields too large";
    default: return status >= 500 ? "internal error" : "bad request";
  }
}

Request to_request(const httplib::Request& in) {
  Request r;
  r.method = in.method;
  r.path = in.path;
  for (const auto& [k, v] : in.params) r.params.emplace_back(k, v);
  if (auto q = in.target.find('?'); q != std::string::npos) r.raw_query = in.target.substr(q + 1);
  r.authorization = in.get_header_value("Authorization");
  r.accept_encoding = in.get_header_value("Accept-Encoding");
  r.body = in.body;
  return r;
}

void to_response(Response&& in, httplib::Response* out) {
  out->status = in.status;
  for (auto& [k, v] : in.headers) out->set_header(k.c_str(), v);
  out->set_content(std::move(in.body), in.content_type.c_str());
}

}  // namespace

struct HttpService::Impl {
  httplib::Server http;
  std::unique_ptr<Router> router;
  std::string host;
  int port = 0;
  std::thread listener;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;  // Guarded by mu.
  bool stopped = false;   // Guarded by mu.

  // wait_seconds() sleeps for a delta profile; false when stop() interrupted it.
  bool wait_seconds(std::int64_t seconds) {
    std::unique_lock<std::mutex> lock(mu);
    return !cv.wait_for(lock, std::chrono::seconds(seconds), [this] { return stopping; });
  }
};

HttpService::HttpService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpService::~HttpService() { stop(); }

const std::string& HttpService::host() const { return impl_->host; }
int HttpService::port() const { return impl_->port; }

std::string HttpService::url() const {
  bool v6 = impl_->host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + impl_->host + "]" : impl_->host) + ":" + std::to_string(impl_->port);
}

Result<std::unique_ptr<HttpService>> HttpService::start(ServiceOptions options) {
  heap::UntrackedScope untracked;  // the server's set-up is not the program's heap either
  auto impl = std::make_unique<Impl>();
  Impl* self = impl.get();
  options.router.wait = [self](std::int64_t s) { return self->wait_seconds(s); };
  impl->router = std::make_unique<Router>(std::move(options.router));
  impl->host = options.address.host;
  const int threads = options.threads < 1 ? 1 : options.threads;

  httplib::Server& http = impl->http;
  // The pool is made on the listener thread when it starts listening; start() waits for it so
  // that every server thread exists (and is named) when start() returns.
  auto pool_made = std::make_shared<std::promise<void>>();
  std::future<void> pool_ready = pool_made->get_future();
  http.new_task_queue = [threads, pool_made] {
    auto* pool = new NamedPool(threads);
    pool_made->set_value();
    return pool;
  };
  // Not httplib's default options: those add SO_REUSEPORT, which would let a second process
  // bind the same port and silently take half the requests.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http.set_payload_max_length(kMaxSymbolBody);
  http.set_keep_alive_max_count(100);
  http.set_keep_alive_timeout(2);
  http.set_read_timeout(5);
  http.set_write_timeout(5);
  http.set_tcp_nodelay(true);

  Router* router = impl->router.get();
  http.set_pre_routing_handler([router](const httplib::Request& req, httplib::Response& res) {
    Request r = to_request(req);
    if (r.method == "POST" && r.path == "/debug/pprof/symbol") {
      // Answer here only what can be answered without the body; the POST handler gets the rest.
      Response pre = router->handle(Request{"HEAD", r.path, {}, {}, r.authorization, {}, {}});
      if (pre.status != 200) {
        to_response(std::move(pre), &res);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    }
    to_response(router->handle(r), &res);
    return httplib::Server::HandlerResponse::Handled;
  });
  http.Post("/debug/pprof/symbol", [router](const httplib::Request& req, httplib::Response& res) {
    to_response(router->handle(to_request(req)), &res);
  });
  // Errors httplib raises itself (413 body too large, 414 URI too long, 400 malformed) come with
  // no body: give them a plain one. Ours already have one and are left alone.
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        res.set_content(std::string(status_text(res.status)) + "\n", "text/plain; charset=utf-8");
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("internal error\n", "text/plain; charset=utf-8");
  });

  if (options.address.port == 0) {
    impl->port = http.bind_to_any_port(impl->host);
    if (impl->port < 0) return make_error("cannot listen on " + impl->host + ":0");
  } else {
    if (!http.bind_to_port(impl->host, options.address.port))
      return make_error("cannot listen on " + impl->host + ":" + std::to_string(options.address.port) +
                        " (address in use, or not an address of this machine)");
    impl->port = options.address.port;
  }
  // The server's threads block every signal (the pool inherits the listener's mask): signals
  // sent to the process (SIGTERM, SIGINT, SIGHUP, a dump signal) are the program's to take, and a
  // program that waits for them with sigwait() only blocks them in its own threads.
  {
    struct BlockSignals {
      sigset_t saved;
      BlockSignals() {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
      }
      ~BlockSignals() { pthread_sigmask(SIG_SETMASK, &saved, nullptr); }
    } blocked;
    impl->listener = std::thread([self] {
      base::set_thread_role(base::ThreadRole::kInternal);
      heap::UntrackedScope untracked;  // the accept loop allocates each connection's task
      self->http.listen_after_bind();
    });
  }
  pthread_setname_np(impl->listener.native_handle(), "lw-http");
  if (pool_ready.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    base::log_write("debug server: worker threads slow to start");
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
  impl_->cv.notify_all();
  impl_->http.stop();
  if (impl_->listener.joinable()) impl_->listener.join();
}

}  // namespace lw::server
