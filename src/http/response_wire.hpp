// response_wire.hpp: a Response as the bytes of an HTTP/1.1 response. Every response gets
// Content-Length, X-Content-Type-Options: nosniff (unless it set its own) and, when the
// connection ends after it, Connection: close. Pure functions; thread-safe; allocate the result.
#pragma once

#include <string>

#include "src/http/http_message.hpp"

namespace lw::http {

// response_bytes() serializes `r`. `head_only` (a HEAD request) keeps Content-Length but leaves
// the body out; `close` adds Connection: close.
std::string response_bytes(const Response& r, bool head_only, bool close);

// error_response() is a plain-text answer the transport makes itself (400, 408, 413, ...).
Response error_response(int status, const char* text);

// reason_phrase() is the standard phrase for `status` ("Not Found"), "Unknown" if none.
const char* reason_phrase(int status);

}  // namespace lw::http
