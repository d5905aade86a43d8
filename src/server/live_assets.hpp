// live_assets.hpp: the live page's files (its HTML, the bundled script and styles), compiled into
// the library at build time (cmake/LeakwatchWeb.cmake), so the server never reads a file. The
// definitions are generated. Thread-safe; never allocates.
#pragma once

#include <string_view>

namespace lw::server {

struct LiveAsset {
  std::string_view name;  // "index.html", "live.js", "live.css"
  const char* content_type;
  std::string_view body;
};

// find_live_asset() is the asset called `name`, or nullptr.
const LiveAsset* find_live_asset(std::string_view name);

}  // namespace lw::server
