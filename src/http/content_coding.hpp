// content_coding.hpp: reading the Accept-Encoding header. Pure functions; thread-safe.
#pragma once

#include <string_view>

namespace lw::http {

// accepts_gzip() reads an Accept-Encoding header: true if gzip is listed without q=0, or, when
// gzip is not listed, * is (RFC 9110 section 12.5.3).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace lw::http
