// The thread layout follows the task one (varints, one string table) so that both blobs are read
// by the same code (pack_io.hpp); it has its own magic so that a task blob is never read as
// threads or the other way round. Every ThreadRecord field is kept: the differ needs the waits,
// CPU time, join state and stacks, and `leakwatch stacks` may one day print stored threads.
#include "src/store/thread_pack.hpp"

namespace lw::store {
namespace {

constexpr std::string_view kMagic = "LWH1";
// The fewest bytes one thread takes: one per field, no labels.
constexpr std::uint64_t kMinThreadBytes = 19;
constexpr std::uint64_t kKnownFlags = 0xf;

}  // namespace

void ThreadPacker::add(const snapshot::ThreadRecord& t, std::int64_t stack_id, std::int64_t create_stack_id) {
  std::uint64_t flags = (t.runtime_worker ? 1u : 0u) | (t.internal ? 2u : 0u) | (t.timed_wait ? 4u : 0u) |
                        (t.leaked ? 8u : 0u);
  put_varint(&records_, zigzag(t.tid));
  put_varint(&records_, strings_.index(t.name));
  put_varint(&records_, flags);
  put_varint(&records_, strings_.index(snapshot::to_string(t.state)));
  put_varint(&records_, strings_.index(t.wait_reason));
  put_varint(&records_, zigzag(t.wait_since_unix_ns));
  put_varint(&records_, t.wait_object);
  put_varint(&records_, strings_.index(t.wait_detail));
  put_varint(&records_, zigzag(t.creator_tid));
  put_varint(&records_, t.creator_task);
  put_varint(&records_, zigzag(t.start_time_unix_ns));
  put_varint(&records_, zigzag(t.exit_time_unix_ns));
  put_varint(&records_, strings_.index(snapshot::to_string(t.join)));
  put_varint(&records_, t.cpu_ns);
  put_varint(&records_, zigzag(stack_id));
  put_varint(&records_, strings_.index(t.stack_error));
  put_varint(&records_, zigzag(create_stack_id));
  put_varint(&records_, t.labels.size());
  for (const auto& [key, value] : t.labels) {
    put_varint(&records_, strings_.index(key));
    put_varint(&records_, strings_.index(value));
  }
  put_varint(&records_, strings_.index(t.leak_reason));
  ++count_;
}

std::string ThreadPacker::finish() const {
  std::string out(kMagic);
  put_varint(&out, count_);
  strings_.write(&out);
  out.append(records_);
  return out;
}

Result<std::vector<StoredThread>> unpack_threads(std::string_view blob) {
  if (blob.substr(0, kMagic.size()) != kMagic) return make_error("thread records: not in the LWH1 layout");
  PackReader r{blob.substr(kMagic.size())};
  std::uint64_t count = r.varint();
  r.read_strings();
  if (!r.ok || count > r.in.size() / kMinThreadBytes)
    return make_error("thread records: truncated or corrupt header");
  std::vector<StoredThread> out;
  out.reserve(count);
  for (std::uint64_t i = 0; i < count && r.ok; ++i) {
    StoredThread& t = out.emplace_back();
    t.tid = r.signed_varint();
    t.name = r.string();
    std::uint64_t flags = r.varint();
    if (flags & ~kKnownFlags) r.ok = false;
    t.runtime_worker = flags & 1;
    t.internal = flags & 2;
    t.timed_wait = flags & 4;
    t.leaked = flags & 8;
    if (!snapshot::thread_state_from_string(r.string(), &t.state)) r.ok = false;
    t.wait_reason = r.string();
    t.wait_since_unix_ns = r.signed_varint();
    t.wait_object = r.varint();
    t.wait_detail = r.string();
    t.creator_tid = r.signed_varint();
    t.creator_task = r.varint();
    t.start_time_unix_ns = r.signed_varint();
    t.exit_time_unix_ns = r.signed_varint();
    if (!snapshot::join_state_from_string(r.string(), &t.join)) r.ok = false;
    t.cpu_ns = r.varint();
    t.stack_id = static_cast<snapshot::StackId>(r.signed_varint());
    t.stack_error = r.string();
    t.create_stack_id = static_cast<snapshot::StackId>(r.signed_varint());
    std::uint64_t labels = r.varint();
    // Each label takes at least two bytes.
    if (labels > r.in.size() / 2) r.ok = false;
    for (std::uint64_t k = 0; k < labels && r.ok; ++k) {
      std::string key = r.string();
      t.labels.emplace_back(std::move(key), r.string());
    }
    t.leak_reason = r.string();
  }
  if (!r.ok) return make_error("thread records: truncated or corrupt (" + std::to_string(out.size()) + " of " +
                               std::to_string(count) + " read)");
  if (!r.in.empty())
    return make_error("thread records: " + std::to_string(r.in.size()) + " bytes past the last thread");
  return out;
}

}  // namespace lw::store
