// Varints keep the common values (small ids, counts, indexes) to a byte or two, so 100k tasks
// pack into ~2 MB. Rejected: fixed 64-bit fields (6 MB, three times the bytes to write for
// nothing) and protobuf (the snapshot's own TaskRecord carries strings per task).
#include "src/store/task_pack.hpp"

namespace lw::store {
namespace {

constexpr std::string_view kMagic = "LWT1";

}  // namespace

void TaskPacker::add(std::uint64_t task_id, snapshot::TaskState state, std::string_view wait_reason,
                     std::int64_t wait_since_unix_ns, std::uint64_t switch_count, std::int64_t stack_id,
                     std::int64_t create_stack_id, bool leaked, std::string_view leak_reason) {
  put_varint(&records_, task_id);
  put_varint(&records_, strings_.index(snapshot::to_string(state)));  // by name: enum order may change
  put_varint(&records_, strings_.index(wait_reason));
  put_varint(&records_, zigzag(wait_since_unix_ns));
  put_varint(&records_, switch_count);
  put_varint(&records_, zigzag(stack_id));
  put_varint(&records_, zigzag(create_stack_id));
  put_varint(&records_, leaked ? 1 : 0);
  put_varint(&records_, strings_.index(leak_reason));
  ++count_;
}

std::string TaskPacker::finish() const {
  std::string out(kMagic);
  put_varint(&out, count_);
  strings_.write(&out);
  out.append(records_);
  return out;
}

Result<std::vector<StoredTask>> unpack_tasks(std::string_view blob) {
  if (blob.substr(0, kMagic.size()) != kMagic) return make_error("task records: not in the LWT1 layout");
  PackReader r{blob.substr(kMagic.size())};
  std::uint64_t count = r.varint();
  r.read_strings();
  // Each task takes at least nine bytes: a larger count can only be corrupt.
  if (!r.ok || count > r.in.size() / 9) return make_error("task records: truncated or corrupt header");
  std::vector<StoredTask> out;
  out.reserve(count);
  for (std::uint64_t i = 0; i < count && r.ok; ++i) {
    StoredTask& t = out.emplace_back();
    t.task_id = r.varint();
    if (!snapshot::task_state_from_string(r.string(), &t.state)) r.ok = false;
    t.wait_reason = r.string();
    t.wait_since_unix_ns = unzigzag(r.varint());
    t.switch_count = r.varint();
    t.stack_id = unzigzag(r.varint());
    t.create_stack_id = unzigzag(r.varint());
    t.leaked = r.varint() != 0;
    t.leak_reason = r.string();
  }
  if (!r.ok) return make_error("task records: truncated or corrupt (" + std::to_string(out.size()) + " of " +
                               std::to_string(count) + " read)");
  if (!r.in.empty()) return make_error("task records: " + std::to_string(r.in.size()) + " bytes past the last task");
  return out;
}

}  // namespace lw::store
