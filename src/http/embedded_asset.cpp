#include "src/http/embedded_asset.hpp"

namespace lw::http {

Response asset_response(const EmbeddedAsset& asset) {
  Response r;
  r.content_type = asset.content_type;
  r.body.assign(asset.body);
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                         "connect-src 'self'; frame-ancestors 'none'");
  return r;
}

}  // namespace lw::http
