// demo_threads.hpp: the demo service's plain OS threads (most services are made of these), with
// three thread faults planted beside two healthy thread parts. Driven from the request loop.
// Not thread-safe: call from the one request loop.
#pragma once

#include <cstdint>

namespace demo {

// start_background_threads() starts the fixed mail pool and, unless `fixed`, the two ledger
// threads that deadlock by lock order.
void start_background_threads(bool fixed);

// on_request() drives the per-request thread work for request `id`.
void on_request(std::uint64_t id, bool fixed);

// The threads' bodies (named here so that reports name them as demo::...).
void wait_for_shipment_event(std::uint64_t order, bool fixed);
void reconcile_ledger(bool fixed);
void rebuild_search_index(bool fixed);
void* warm_cache_shard(void*);
void mail_worker();
void compress_report(std::uint64_t id);

}  // namespace demo
