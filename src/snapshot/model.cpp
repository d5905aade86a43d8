#include "src/snapshot/model.hpp"

#include <array>

namespace lw::snapshot {
namespace {

constexpr std::array<std::string_view, 5> kStateNames = {"runnable", "running", "waiting",
                                                         "syscall", "dead"};

constexpr std::array<std::string_view, 5> kThreadStateNames = {"running", "waiting", "syscall",
                                                               "stopped", "exited"};
constexpr std::array<std::string_view, 4> kJoinStateNames = {"joinable", "detached", "joined",
                                                             "unknown"};

template <typename Enum, std::size_t N>
bool from_names(const std::array<std::string_view, N>& names, std::string_view s, Enum* out) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) {
      *out = static_cast<Enum>(i);
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(ThreadState s) { return kThreadStateNames[static_cast<std::size_t>(s)]; }
bool thread_state_from_string(std::string_view s, ThreadState* out) {
  return from_names(kThreadStateNames, s, out);
}
std::string_view to_string(JoinState s) { return kJoinStateNames[static_cast<std::size_t>(s)]; }
bool join_state_from_string(std::string_view s, JoinState* out) { return from_names(kJoinStateNames, s, out); }

std::string_view to_string(TaskState s) { return kStateNames[static_cast<std::size_t>(s)]; }

bool task_state_from_string(std::string_view s, TaskState* out) { return from_names(kStateNames, s, out); }

const Stack* find_stack(const Snapshot& s, StackId id) {
  for (const Stack& st : s.stacks)
    if (st.id == id) return &st;
  return nullptr;
}

const Location* find_location(const Snapshot& s, std::uint64_t address) {
  for (const Location& l : s.locations)
    if (l.address == address) return &l;
  return nullptr;
}

const CustomProfile* find_custom_profile(const Snapshot& s, std::string_view name) {
  for (const CustomProfile& p : s.custom_profiles)
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace lw::snapshot
