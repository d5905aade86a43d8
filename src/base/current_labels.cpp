// with_labels() and current_labels() (include/leakwatch/labels.hpp) over the current-label-set
// slot. They sit in base because both a task and a plain thread can call them: the runtime and
// the thread registry each publish their party's home here (current_labels.hpp), so this code
// needs neither of them. enter_labels/leave_labels stay out of line on purpose: a task may park
// inside with_labels and resume on another thread, and a TLS address computed before the park
// must not be reused after it.
#include "src/base/current_labels.hpp"

#include "leakwatch/labels.hpp"
#include "src/base/current_task.hpp"

namespace lw {
namespace base {
namespace {

std::atomic<LabelHomeProvider> g_provider{nullptr};

}  // namespace

void set_label_home_provider(LabelHomeProvider provider) noexcept { g_provider.store(provider, std::memory_order_release); }
LabelHomeProvider label_home_provider() noexcept { return g_provider.load(std::memory_order_acquire); }

}  // namespace base

Labels current_labels() { return base::label_set(base::current_label_set()); }

namespace detail {

std::uint32_t enter_labels(const Labels& labels) {
  const base::LabelSetId previous = base::current_label_set();
  const base::LabelSetId next = base::merge_label_set(previous, labels);
  // A plain thread publishes its labels in its registry slot, found on its first with_labels.
  if (base::tls_label_home == nullptr && base::current_task_id() == 0)
    if (base::LabelHomeProvider provider = base::label_home_provider()) base::tls_label_home = provider();
  base::set_current_label_set(next);
  return static_cast<std::uint32_t>(previous);
}

void leave_labels(std::uint32_t previous) noexcept { base::set_current_label_set(base::LabelSetId{previous}); }

}  // namespace detail
}  // namespace lw
