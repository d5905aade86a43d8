#include "src/server/debug_service.hpp"

#include <chrono>

namespace lw::server {

namespace {

// The live page's history gets a point this often with no page open.
constexpr std::chrono::milliseconds kLiveSampleEvery{10'000};

}  // namespace

Result<std::unique_ptr<http::HttpService>> start_debug_service(ServiceOptions options) {
  http::ServiceOptions so;
  so.address = std::move(options.address);
  so.token = std::move(options.token);
  so.threads = options.threads;
  so.limits = options.limits;
  so.name = "lw-http";
  so.inline_path = "/metrics";
  so.tick_every = kLiveSampleEvery;
  so.tick_thread_name = "lw-http-live";
  so.describe = "debug server";
  so.make_handler = [router = std::move(options.router)](const http::ServiceContext& context) mutable {
    router.wait = context.wait;
    return std::make_unique<Router>(std::move(router));
  };
  return http::HttpService::start(std::move(so));
}

}  // namespace lw::server
