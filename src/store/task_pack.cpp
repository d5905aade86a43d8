// Varints keep the common values (small ids, counts, indexes) to a byte or two, so 100k tasks
// pack into ~2 MB. Rejected: fixed 64-bit fields (6 MB, three times the bytes to write for
// nothing) and protobuf (the snapshot's own TaskRecord carries strings per task).
#include "src/store/task_pack.hpp"

namespace lw::store {
namespace {

constexpr std::string_view kMagic = "LWT1";

void put_varint(std::string* out, std::uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Reader walks the blob; any read past its end or malformed varint sets ok = false.
struct Reader {
  std::string_view in;
  bool ok = true;

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in.empty()) break;
      auto b = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok = false;
    return 0;
  }

  std::string_view bytes(std::uint64_t n) {
    if (n > in.size()) {
      ok = false;
      return {};
    }
    std::string_view s = in.substr(0, n);
    in.remove_prefix(n);
    return s;
  }
};

}  // namespace

std::uint64_t TaskPacker::string_index(std::string_view s) {
  auto [it, added] = string_ids_.try_emplace(std::string(s), strings_.size());
  if (added) strings_.push_back(it->first);
  return it->second;
}

void TaskPacker::add(std::uint64_t task_id, snapshot::TaskState state, std::string_view wait_reason,
                     std::int64_t wait_since_unix_ns, std::uint64_t switch_count, std::int64_t stack_id,
                     std::int64_t create_stack_id, bool leaked, std::string_view leak_reason) {
  put_varint(&records_, task_id);
  put_varint(&records_, string_index(snapshot::to_string(state)));  // by name: enum order may change
  put_varint(&records_, string_index(wait_reason));
  put_varint(&records_, zigzag(wait_since_unix_ns));
  put_varint(&records_, switch_count);
  put_varint(&records_, zigzag(stack_id));
  put_varint(&records_, zigzag(create_stack_id));
  put_varint(&records_, leaked ? 1 : 0);
  put_varint(&records_, string_index(leak_reason));
  ++count_;
}

std::string TaskPacker::finish() const {
  std::string out(kMagic);
  put_varint(&out, count_);
  put_varint(&out, strings_.size());
  for (std::string_view s : strings_) {
    put_varint(&out, s.size());
    out.append(s);
  }
  out.append(records_);
  return out;
}

Result<std::vector<StoredTask>> unpack_tasks(std::string_view blob) {
  if (blob.substr(0, kMagic.size()) != kMagic) return make_error("task records: not in the LWT1 layout");
  Reader r{blob.substr(kMagic.size())};
  std::uint64_t count = r.varint();
  std::uint64_t nstrings = r.varint();
  // Each string takes at least a byte and each task nine: larger counts can only be corrupt.
  if (!r.ok || nstrings > r.in.size() || count > r.in.size() / 9)
    return make_error("task records: truncated or corrupt header");
  std::vector<std::string_view> strings;
  strings.reserve(nstrings);
  for (std::uint64_t i = 0; i < nstrings && r.ok; ++i) strings.push_back(r.bytes(r.varint()));
  auto string_at = [&](std::uint64_t i) -> std::string {
    if (i >= strings.size()) {
      r.ok = false;
      return {};
    }
    return std::string(strings[i]);
  };
  std::vector<StoredTask> out;
  out.reserve(count);
  for (std::uint64_t i = 0; i < count && r.ok; ++i) {
    StoredTask& t = out.emplace_back();
    t.task_id = r.varint();
    if (!snapshot::task_state_from_string(string_at(r.varint()), &t.state)) r.ok = false;
    t.wait_reason = string_at(r.varint());
    t.wait_since_unix_ns = unzigzag(r.varint());
    t.switch_count = r.varint();
    t.stack_id = unzigzag(r.varint());
    t.create_stack_id = unzigzag(r.varint());
    t.leaked = r.varint() != 0;
    t.leak_reason = string_at(r.varint());
  }
  if (!r.ok) return make_error("task records: truncated or corrupt (" + std::to_string(out.size()) + " of " +
                               std::to_string(count) + " read)");
  if (!r.in.empty()) return make_error("task records: " + std::to_string(r.in.size()) + " bytes past the last task");
  return out;
}

}  // namespace lw::store
