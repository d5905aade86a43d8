// current_labels.hpp: the thread-local "current label set" slot, and where it is published.
// with_labels writes it; the runtime points it at the running task at every switch; the CPU
// profiler's signal handler and the heap tracker read it (one initial-exec TLS load: no
// __tls_get_addr, which may malloc in a dlopen'ed library, so it is async-signal-safe). Living in
// base lets runtime, heap, threads and cpu meet here without including each other. Never allocates.
//
// Other threads cannot read this thread's TLS, so every write also goes to the "home": an atomic
// that dumps read. On a task the home is the task's own field (set by the runtime when it switches
// the task in); on a plain thread it is its thread-registry slot (found through the provider the
// thread registry installs); with neither, dumps just do not see the labels.
#pragma once

#include <atomic>
#include <cstdint>

#include "src/base/label_sets.hpp"

namespace lw::base {

// The labels the code now running on this thread has. Written only by this thread.
inline thread_local std::uint32_t tls_label_set __attribute__((tls_model("initial-exec"))) = 0;
// Where tls_label_set is published for other threads; null: nowhere. Written only by this thread.
inline thread_local std::atomic<std::uint32_t>* tls_label_home __attribute__((tls_model("initial-exec"))) = nullptr;

// current_label_set() is the calling code's label set (kNoLabels when it has none). Async-signal-
// safe; what block, mutex and other profiles attach to an event (label_set() turns it into labels).
inline LabelSetId current_label_set() noexcept { return LabelSetId{tls_label_set}; }

// set_current_label_set() changes the caller's labels: this thread's slot and its home.
inline void set_current_label_set(LabelSetId id) noexcept {
  tls_label_set = static_cast<std::uint32_t>(id);
  if (tls_label_home != nullptr) tls_label_home->store(static_cast<std::uint32_t>(id), std::memory_order_relaxed);
}

// switch_label_home() makes `home` the caller's home and loads the label set kept there (null:
// no home, no labels). The runtime calls it when a task is switched in (its field) and out (null).
inline void switch_label_home(std::atomic<std::uint32_t>* home) noexcept {
  tls_label_home = home;
  tls_label_set = home != nullptr ? home->load(std::memory_order_relaxed) : 0;
}

// LabelHomeProvider returns the calling plain thread's home, or null. Installed by the thread
// registry; called by with_labels on a plain thread that has no home yet.
using LabelHomeProvider = std::atomic<std::uint32_t>* (*)() noexcept;
void set_label_home_provider(LabelHomeProvider provider) noexcept;
LabelHomeProvider label_home_provider() noexcept;

}  // namespace lw::base
