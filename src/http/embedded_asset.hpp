// embedded_asset.hpp: a page's files (HTML, the bundled script and styles) compiled into a binary
// at build time (cmake/LeakwatchWeb.cmake), so a server never reads a file, and the answer that
// serves one. Lookup functions over a page's assets are generated. Thread-safe.
#pragma once

#include <string_view>

#include "src/http/http_message.hpp"

namespace lw::http {

struct EmbeddedAsset {
  std::string_view name;  // "index.html", "live.js", ...
  const char* content_type;
  std::string_view body;
};

// asset_response() serves `asset`: revalidated on every load (no-cache), under a policy that lets
// the page run only its own script, talk only to its own server, and never be framed. Allocates
// the body.
Response asset_response(const EmbeddedAsset& asset);

}  // namespace lw::http
