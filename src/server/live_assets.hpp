// live_assets.hpp: the live page's files (its HTML, the bundled script and styles), compiled into
// the library at build time (cmake/LeakwatchWeb.cmake). The definition is generated. Thread-safe;
// never allocates.
#pragma once

#include <string_view>

#include "src/http/embedded_asset.hpp"

namespace lw::server {

// find_live_asset() is the asset called `name`, or nullptr.
const http::EmbeddedAsset* find_live_asset(std::string_view name);

}  // namespace lw::server
