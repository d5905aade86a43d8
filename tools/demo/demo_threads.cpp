// Faults (what `leakwatch watch` must name):
//   4. stuck_threads     demo::wait_for_shipment_event: a detached thread per order that waits
//                        on a condition variable nobody ever signals.
//   5. leaked_threads    demo::reconcile_ledger and demo::rebuild_search_index take the same two
//                        locks in opposite orders: a deadlock, proven.
//   6. unjoined_threads  demo::warm_cache_shard threads are joinable and never joined.
// Healthy (what it must not name):
//   - demo::mail_worker: a fixed pool of three, woken for every request.
//   - demo::compress_report: a short-lived thread per report, joined.
// The fixes: the shipment waiter gives up after a timeout, the ledger threads lock in one order
// (std::scoped_lock), the warm-up threads are joined.
#include "tools/demo/demo_threads.hpp"

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace demo {

using namespace std::chrono_literals;

// ---- Fault 4: a waiter per order for an event nobody sends. ------------------------------------

std::mutex g_shipments_mu;
std::condition_variable g_shipment_sent;  // never notified: the shipping system was removed
bool g_shipment_arrived = false;          // Guarded by g_shipments_mu; never set.

[[gnu::noinline]] void wait_for_shipment_event(std::uint64_t order, bool fixed) {
  std::unique_lock<std::mutex> lock(g_shipments_mu);
  if (fixed) {
    g_shipment_sent.wait_for(lock, 200ms, [] { return g_shipment_arrived; });
    return;
  }
  g_shipment_sent.wait(lock, [] { return g_shipment_arrived; });
  (void)order;
}

// ---- Fault 5: two locks taken in opposite orders. ---------------------------------------------

std::mutex g_ledger_mu, g_index_mu;

[[gnu::noinline]] void reconcile_ledger(bool fixed) {
  for (;;) {
    if (fixed) {
      std::scoped_lock both(g_ledger_mu, g_index_mu);
    } else {
      std::lock_guard<std::mutex> ledger(g_ledger_mu);
      std::this_thread::sleep_for(5ms);
      std::lock_guard<std::mutex> index(g_index_mu);
    }
    std::this_thread::sleep_for(20ms);
  }
}

[[gnu::noinline]] void rebuild_search_index(bool fixed) {
  for (;;) {
    if (fixed) {
      std::scoped_lock both(g_ledger_mu, g_index_mu);
    } else {
      std::lock_guard<std::mutex> index(g_index_mu);
      std::this_thread::sleep_for(5ms);
      std::lock_guard<std::mutex> ledger(g_ledger_mu);
    }
    std::this_thread::sleep_for(20ms);
  }
}

// ---- Fault 6: joinable threads nobody joins. --------------------------------------------------

[[gnu::noinline]] void* warm_cache_shard(void*) {
  std::this_thread::sleep_for(10ms);
  return nullptr;
}

// ---- Healthy: a fixed pool, woken per request. ------------------------------------------------

std::mutex g_mail_mu;
std::condition_variable g_mail_ready;
int g_mail_queued = 0;  // Guarded by g_mail_mu.

[[gnu::noinline]] void mail_worker() {
  for (;;) {
    std::unique_lock<std::mutex> lock(g_mail_mu);
    g_mail_ready.wait(lock, [] { return g_mail_queued > 0; });
    --g_mail_queued;
  }
}

// ---- Healthy: a short-lived thread per report, joined. ----------------------------------------

[[gnu::noinline]] void compress_report(std::uint64_t id) {
  volatile std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < 10000; ++i) sum = sum + (i ^ id);
}

void start_background_threads(bool fixed) {
  for (int i = 0; i < 3; ++i) std::thread(mail_worker).detach();
  std::thread(reconcile_ledger, fixed).detach();
  std::thread(rebuild_search_index, fixed).detach();
}

void on_request(std::uint64_t id, bool fixed) {
  {
    std::lock_guard<std::mutex> lock(g_mail_mu);
    ++g_mail_queued;
  }
  g_mail_ready.notify_one();
  if (id % 100 == 0) std::thread(wait_for_shipment_event, id, fixed).detach();
  if (id % 50 == 0) std::thread(compress_report, id).join();
  if (id % 400 == 0) {
    pthread_t shard;
    if (pthread_create(&shard, nullptr, warm_cache_shard, nullptr) == 0 && fixed) pthread_join(shard, nullptr);
  }
}

}  // namespace demo
