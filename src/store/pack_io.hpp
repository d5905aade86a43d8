// pack_io.hpp: the pieces every packed blob of the store is made of (task_pack, thread_pack):
// LEB128 varints, zigzag for signed values, a table that stores each distinct string once, and a
// reader that never reads past the end of its input. Plain values; not thread-safe; allocates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lw::store {

// put_varint() appends `v` as a LEB128 varint (7 bits a byte, low bits first).
inline void put_varint(std::string* out, std::uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// zigzag() / unzigzag() map signed values to unsigned ones with small magnitudes kept small.
inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// PackStrings numbers each distinct string in the order first seen; write() appends
// "count {length bytes}...".
class PackStrings {
 public:
  std::uint64_t index(std::string_view s) {
    auto [it, added] = ids_.try_emplace(std::string(s), strings_.size());
    if (added) strings_.push_back(it->first);
    return it->second;
  }
  void write(std::string* out) const {
    put_varint(out, strings_.size());
    for (std::string_view s : strings_) {
      put_varint(out, s.size());
      out->append(s);
    }
  }

 private:
  std::vector<std::string_view> strings_;  // views into ids_' keys (node-based: they stay put)
  std::unordered_map<std::string, std::uint64_t> ids_;
};

// PackReader walks a blob; any read past its end, malformed varint or string index it does not
// hold sets ok = false (and returns 0 / empty), so a caller checks once at the end.
struct PackReader {
  explicit PackReader(std::string_view input) : in(input) {}

  std::string_view in;
  bool ok = true;
  std::vector<std::string_view> strings;  // filled by read_strings()

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
  std::int64_t signed_varint() { return unzigzag(varint()); }

  std::string_view bytes(std::uint64_t n) {
    if (n > in.size()) {
      ok = false;
      return {};
    }
    std::string_view s = in.substr(0, n);
    in.remove_prefix(n);
    return s;
  }

  // read_strings() reads a table written by PackStrings::write(). Each string takes at least a
  // byte, so a larger count can only be corrupt.
  void read_strings() {
    std::uint64_t n = varint();
    if (!ok || n > in.size()) {
      ok = false;
      return;
    }
    strings.reserve(n);
    for (std::uint64_t i = 0; i < n && ok; ++i) strings.push_back(bytes(varint()));
  }

  // string() reads an index into the table and returns that string.
  std::string string() {
    std::uint64_t i = varint();
    if (i >= strings.size()) {
      ok = false;
      return {};
    }
    return std::string(strings[i]);
  }
};

}  // namespace lw::store
