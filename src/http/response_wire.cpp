#include "src/http/response_wire.hpp"

namespace lw::http {

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

Response error_response(int status, const char* text) {
  Response r;
  r.status = status;
  r.body = text;
  r.body += '\n';
  return r;
}

std::string response_bytes(const Response& r, bool head_only, bool close) {
  const bool no_body = r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
  std::string out;
  out.reserve(256 + (head_only || no_body ? 0 : r.body.size()));
  out += "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += reason_phrase(r.status);
  out += "\r\nContent-Type: ";
  out += r.content_type;
  if (!no_body) {
    out += "\r\nContent-Length: ";
    out += std::to_string(r.body.size());
  }
  bool nosniff = false;
  for (const auto& [k, v] : r.headers) {
    if (k == "X-Content-Type-Options") nosniff = true;
    out += "\r\n";
    out += k;
    out += ": ";
    out += v;
  }
  if (!nosniff) out += "\r\nX-Content-Type-Options: nosniff";
  if (close) out += "\r\nConnection: close";
  out += "\r\n\r\n";
  if (!head_only && !no_body) out += r.body;
  return out;
}

}  // namespace lw::http
