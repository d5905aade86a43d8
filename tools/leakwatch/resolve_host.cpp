// A lookup that the deadline cuts short is cancelled; if the resolver is already working on it
// (gai_cancel cannot stop it then), its request block is left to it rather than freed under it:
// a few hundred bytes per such timeout, in the CLI's process, never in a target.
#include "tools/leakwatch/resolve_host.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <ctime>

namespace lw::cli {
namespace {

// Request is one asynchronous lookup: its strings and hints must live as long as the lookup.
struct Request {
  std::string host, port;
  addrinfo hints{};
  gaicb cb{};
};

}  // namespace

Result<AddressList> resolve_host(const std::string& host, const std::string& port, base::Nanos deadline_ns) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  addrinfo* list = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &list) == 0) return AddressList(list);

  auto* req = new Request{host, port, hints, {}};
  req->hints.ai_flags = AI_NUMERICSERV;
  req->cb.ar_name = req->host.c_str();
  req->cb.ar_service = req->port.c_str();
  req->cb.ar_request = &req->hints;
  gaicb* batch[1] = {&req->cb};
  if (int rc = getaddrinfo_a(GAI_NOWAIT, batch, 1, nullptr); rc != 0) {
    delete req;
    return make_error(std::string("cannot resolve host: ") + gai_strerror(rc));
  }
  while (gai_error(&req->cb) == EAI_INPROGRESS) {
    const base::Nanos left = deadline_ns - base::now_ns();
    if (left <= 0) break;
    timespec wait{static_cast<time_t>(left / base::kNanosPerSecond), static_cast<long>(left % base::kNanosPerSecond)};
    gai_suspend(batch, 1, &wait);  // EAI_AGAIN (time up) and EAI_INTR alike: look again
  }
  const int rc = gai_error(&req->cb);
  if (rc == EAI_INPROGRESS) {
    if (gai_cancel(&req->cb) == EAI_CANCELED) delete req;  // else the resolver keeps it
    return make_error("timed out resolving the host");
  }
  AddressList out(req->cb.ar_result);
  delete req;
  if (rc != 0) return make_error(std::string("cannot resolve host: ") + gai_strerror(rc));
  return out;
}

}  // namespace lw::cli
