#include "src/profile/gzip.hpp"

#include <zlib.h>

namespace lw::profile {

std::string gzip(std::string_view data) {
  z_stream z{};
  // windowBits 15 + 16 selects the gzip wrapper.
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(data.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Result<std::string> gunzip(std::string_view data, std::size_t max_output) {
  if (data.size() < 18 || static_cast<unsigned char>(data[0]) != 0x1f ||
      static_cast<unsigned char>(data[1]) != 0x8b)
    return make_error("not gzip data");
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return make_error("zlib: cannot start inflate");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[1 << 15];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof(buf) - z.avail_out);
    if (out.size() > max_output) {
      inflateEnd(&z);
      return make_error("gzip data expands beyond " + std::to_string(max_output) + " bytes");
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      rc = Z_BUF_ERROR;  // Input ended before the stream did.
      break;
    }
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return make_error("gzip data is truncated or corrupt");
  return out;
}

}  // namespace lw::profile
