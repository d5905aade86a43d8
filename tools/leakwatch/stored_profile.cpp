#include "tools/leakwatch/stored_profile.hpp"

#include "src/profile/pprof_builder.hpp"

namespace lw::cli {
namespace {

constexpr const char* kKinds[] = {"heap",       "allocs",       "goroutine", "goroutineleak", "threads",
                                  "threadleak", "threadcreate", "block",     "mutex"};

bool known_kind(const std::string& kind) {
  for (const char* k : kKinds)
    if (kind == k) return true;
  return false;
}

// custom_profile_names() lists the snapshot's custom profiles for an error message.
std::string custom_profile_names(const snapshot::Snapshot& s) {
  std::string out;
  for (const auto& p : s.custom_profiles) out += (out.empty() ? "" : ", ") + p.name;
  return out.empty() ? "none" : out;
}

// build() renders profile `kind` of `s`: a built-in one, else the custom profile of that name.
Result<std::string> build(const snapshot::Snapshot& s, const std::string& kind) {
  if (!known_kind(kind)) {
    if (const auto* custom = snapshot::find_custom_profile(s, kind)) return profile::custom_pprof(s, *custom);
    return make_error(std::string("--profile: want ") + kProfileKindList + ", got '" + kind +
                      "' (nor is it a custom profile of the snapshot; it has " + custom_profile_names(s) + ")");
  }
  if (kind == "heap") return profile::heap_pprof(s, profile::HeapView::kInuse);
  if (kind == "allocs") return profile::heap_pprof(s, profile::HeapView::kAlloc);
  if (kind == "goroutine") return profile::goroutine_pprof(s, profile::TaskSelection::kAll);
  if (kind == "goroutineleak") return profile::goroutine_pprof(s, profile::TaskSelection::kLeaked);
  if (kind == "threads") return profile::threads_pprof(s, profile::ThreadSelection::kAll);
  if (kind == "threadleak") return profile::threads_pprof(s, profile::ThreadSelection::kLeaked);
  if (kind == "block") return profile::contention_pprof(s, base::ContentionProfile::kBlock);
  if (kind == "mutex") return profile::contention_pprof(s, base::ContentionProfile::kMutex);
  return profile::threadcreate_pprof(s);
}

}  // namespace

Result<std::string> stored_profile(store::Store& st, std::int64_t id, const std::string& kind,
                                   std::optional<std::int64_t> base_id) {
  auto snap = st.load_snapshot(id);
  if (!snap) return snap.error();
  auto data = build(*snap, kind);
  if (!data || !base_id) return data;
  auto base = st.load_snapshot(*base_id);
  if (!base) return base.error();
  auto base_data = build(*base, kind);
  if (!base_data) return base_data.error();
  auto delta = profile::delta_pprof(*base_data, *data);
  if (!delta) return make_error("cannot subtract snapshot " + std::to_string(*base_id) + ": " + delta.error().message);
  return std::move(*delta);
}

}  // namespace lw::cli
