#include "src/snapshot/model.hpp"

#include <array>

namespace lw::snapshot {
namespace {

constexpr std::array<std::string_view, 5> kStateNames = {"runnable", "running", "waiting",
                                                         "syscall", "dead"};

}  // namespace

std::string_view to_string(TaskState s) { return kStateNames[static_cast<std::size_t>(s)]; }

bool task_state_from_string(std::string_view s, TaskState* out) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == s) {
      *out = static_cast<TaskState>(i);
      return true;
    }
  }
  return false;
}

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

}  // namespace lw::snapshot
