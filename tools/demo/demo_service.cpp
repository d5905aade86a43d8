// demo_service: a small order-lookup service on the leakwatch runtime, driving its own traffic,
// with three task and heap faults planted on purpose and two healthy parts that look alike at
// first sight. Its plain OS threads, with three thread faults of their own, are in demo_threads.cpp.
//
// Faults (what `leakwatch watch` must name):
//   1. heap_growth    demo::append_audit_record keeps every request's audit record forever.
//   2. leaked_tasks   demo::query_inventory is a forgotten sender: when the handler gives up
//                     after its timeout, the sender blocks on an unbuffered channel that nobody
//                     can ever receive from again.
//   3. stuck tasks    demo::session_keepalive is a worker started per session and never
//                     stopped: it waits on an inbox that is registered globally but never used.
// Healthy parts (what it must not name):
//   - demo::ProductCache is bounded: it fills during the first seconds, then only replaces.
//   - demo::render_response allocates and frees per request (steady churn).
//
// Start it with LEAKWATCH_HTTP=127.0.0.1:0 so its debug server comes up; it runs until killed, or
// for --seconds N; --rate R sets requests a second (default 200). --fixed runs the repaired service (each fault fixed the usual way), which
// leakwatch must find nothing in: the tests use it as the healthy twin.
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <leakwatch/leakwatch.hpp>

#include "tools/demo/demo_threads.hpp"

namespace demo {

using namespace std::chrono_literals;

bool g_fixed = false;  // Written once in main before the runtime starts.

struct Request {
  std::uint64_t id;
  int product;
  bool slow_backend;  // the inventory backend will answer after the handler's timeout
};

// ---- Fault 1: an audit log that only grows. ----------------------------------------------------

// Each record keeps a copy of the response it audits (4 KiB): about 48 MiB a minute at the demo's
// rate, enough to stand out at the default sample rate (one sample per 512 KiB on average).
struct AuditRecord {
  std::uint64_t request_id;
  std::array<char, 4096> details;
};

lw::Mutex g_audit_mu;
std::vector<std::unique_ptr<AuditRecord>> g_audit_log;  // Guarded by g_audit_mu.

[[gnu::noinline]] void append_audit_record(const Request& r) {
  auto rec = std::make_unique<AuditRecord>();
  rec->request_id = r.id;
  std::snprintf(rec->details.data(), rec->details.size(), "lookup product=%d", r.product);
  std::lock_guard lock(g_audit_mu);
  g_audit_log.push_back(std::move(rec));
  // The fix: keep only the most recent records (a bounded window instead of the whole history).
  if (g_fixed && g_audit_log.size() > 200) g_audit_log.erase(g_audit_log.begin(), g_audit_log.begin() + 100);
}

// ---- Healthy: a bounded cache that fills, then only replaces. --------------------------------

class ProductCache {
 public:
  explicit ProductCache(std::size_t capacity) : capacity_(capacity) {}

  [[gnu::noinline]] const std::string& get(int product) {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(product); it != index_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return it->second->second;
    }
    if (index_.size() >= capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    order_.emplace_front(product, std::string(2048, static_cast<char>('a' + product % 26)));
    index_[product] = order_.begin();
    return order_.front().second;
  }

 private:
  std::size_t capacity_;
  lw::Mutex mu_;
  std::list<std::pair<int, std::string>> order_;  // Guarded by mu_.
  std::unordered_map<int, std::list<std::pair<int, std::string>>::iterator> index_;  // Guarded by mu_.
};

ProductCache g_cache(1500);

// ---- Healthy: per-request buffers, freed before the request ends. ----------------------------

[[gnu::noinline]] std::size_t render_response(const Request& r, const std::string& product) {
  std::vector<char> body(1024 + (r.id % 7) * 256);
  std::memcpy(body.data(), product.data(), std::min(body.size(), product.size()));
  return body.size();
}

// ---- Fault 2: the forgotten sender. ----------------------------------------------------------

[[gnu::noinline]] void query_inventory(lw::Chan<int> reply, Request r) {
  lw::sleep_for(r.slow_backend ? 200ms : 1ms);
  reply.send(r.product % 100);  // blocks forever once the handler has stopped listening
}

[[gnu::noinline]] std::optional<int> fetch_stock(const Request& r) {
  lw::Chan<int> reply(g_fixed ? 1 : 0);  // the fix: room for the late answer, so the sender exits
  lw::go([reply, r] { query_inventory(reply, r); });
  std::optional<int> stock;
  lw::select(lw::recv_case(reply, [&](std::optional<int> v) { stock = v; }),
             lw::timeout_case(50ms));
  return stock;  // on timeout the sender is left behind with the only other handle gone
}

// ---- Fault 3: a worker per session, never stopped. -------------------------------------------

struct Session {
  lw::Chan<std::string> inbox{1};
};

lw::Mutex g_sessions_mu;
std::vector<std::shared_ptr<Session>> g_sessions;  // Guarded by g_sessions_mu.

[[gnu::noinline]] void session_keepalive(lw::Chan<std::string> inbox) {
  for (std::string msg : inbox) {  // nobody ever sends or closes: waits forever
    (void)msg;
  }
}

[[gnu::noinline]] void open_session() {
  auto s = std::make_shared<Session>();
  {
    std::lock_guard lock(g_sessions_mu);
    g_sessions.push_back(s);
    // The fix: sessions end, and closing the inbox stops their worker.
    if (g_fixed && g_sessions.size() > 2) {
      g_sessions.front()->inbox.close();
      g_sessions.erase(g_sessions.begin());
    }
  }
  lw::go(lw::Labels{{"component", "sessions"}}, [inbox = s->inbox] { session_keepalive(inbox); });
}

// ---- The handler and the traffic. -------------------------------------------------------------

[[gnu::noinline]] void handle_request(const Request& r) {
  append_audit_record(r);
  const std::string& product = g_cache.get(r.product);
  (void)render_response(r, product);
  (void)fetch_stock(r);
}

void serve(double seconds, double rate) {
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<int> product(0, 1499);
  std::uniform_int_distribution<int> percent(0, 99);
  auto start = std::chrono::steady_clock::now();
  lw::WaitGroup inflight;
  for (std::uint64_t id = 1;; ++id) {
    if (seconds > 0 && std::chrono::steady_clock::now() - start > std::chrono::duration<double>(seconds)) break;
    Request r{id, product(rng), percent(rng) < 3};
    inflight.add(1);
    lw::go(lw::Labels{{"handler", "/stock"}}, [r, &inflight] {
      handle_request(r);
      inflight.done();
    });
    if (id % 200 == 0) open_session();
    on_request(id, g_fixed);
    lw::sleep_for(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(1.0 / rate)));
  }
  inflight.wait();
}

}  // namespace demo

int main(int argc, char** argv) {
  double seconds = 0;
  double rate = 200;  // requests a second
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
      rate = std::atof(argv[++i]);
      if (!(rate > 0 && rate <= 100000)) {
        std::fprintf(stderr, "demo: --rate must be between 0 and 100000 requests a second\n");
        return 2;
      }
    } else if (std::strcmp(argv[i], "--fixed") == 0) {
      demo::g_fixed = true;
    } else {
      std::fprintf(stderr, "usage: %s [--seconds N] [--rate R] [--fixed]\n", argv[0]);
      return 2;
    }
  }
  if (std::getenv("LEAKWATCH_HTTP") == nullptr)
    std::fprintf(stderr, "demo: set LEAKWATCH_HTTP=127.0.0.1:0 to watch it with leakwatch\n");
  demo::start_background_threads(demo::g_fixed);
  return lw::run([seconds, rate] { demo::serve(seconds, rate); });
}
