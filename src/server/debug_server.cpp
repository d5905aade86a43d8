// lw::DebugServer is a thin public face over the debug service (server::start_debug_service), keeping the transport and the
// router's test hooks (an injected snapshot source) out of the public header. Starting and
// stopping are leakwatch's own work (base::SelfScope): what the server allocates, and frees when it
// stops, is never counted as the program's heap, whichever thread calls.
#include "leakwatch/debug_server.hpp"

#include "src/base/self_scope.hpp"
#include "src/server/debug_service.hpp"

namespace lw {

struct DebugServer::Impl {
  std::unique_ptr<http::HttpService> service;
};

DebugServer::DebugServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DebugServer::~DebugServer() {
  base::SelfScope self;
  stop();
  impl_.reset();
}

Result<std::unique_ptr<DebugServer>> DebugServer::start(const DebugServerOptions& options) {
  base::SelfScope self;
  auto address = http::parse_listen_address(options.address);
  if (!address) return address.error();
  if (options.max_profile_seconds < 1) return make_error("max_profile_seconds must be at least 1");
  if (options.threads < 1 || options.threads > 64) return make_error("threads must be from 1 to 64");
  server::ServiceOptions so;
  so.address = *address;
  so.threads = options.threads;
  so.token = options.token;
  so.router.max_profile_seconds = options.max_profile_seconds;
  auto service = server::start_debug_service(std::move(so));
  if (!service) return service.error();
  auto impl = std::make_unique<Impl>();
  impl->service = std::move(*service);
  return std::unique_ptr<DebugServer>(new DebugServer(std::move(impl)));
}

int DebugServer::port() const { return impl_->service->port(); }

std::string DebugServer::url() const { return impl_->service->url(); }

void DebugServer::stop() {
  base::SelfScope self;
  if (impl_ && impl_->service) impl_->service->stop();
}

}  // namespace lw
