// Go's net/http/pprof ignores a malformed `debug` or `gc` (strconv.Atoi's error is dropped, so
// "debug=x" serves the binary profile). We reject them instead: a typo in a script should say so
// rather than hand back gzip where text was expected. `seconds` keeps Go's wording.
#include "src/server/profile_query.hpp"

#include <string>

#include "src/base/parse.hpp"

namespace lw::server {

Result<ProfileQuery> parse_profile_query(const http::Request& req, std::int64_t max_seconds) {
  ProfileQuery q;
  if (const std::string* v = req.param("debug"); v != nullptr && !v->empty()) {
    auto d = base::parse_int64(*v);
    if (!d || *d < 0 || *d > 2) return make_error(R"(invalid value for "debug" - must be 0, 1 or 2)");
    q.debug = static_cast<int>(*d);
  }
  if (const std::string* v = req.param("gc"); v != nullptr && !v->empty()) {
    auto g = base::parse_int64(*v);
    if (!g || *g < 0) return make_error(R"(invalid value for "gc" - must be a non-negative integer)");
  }
  if (const std::string* v = req.param("seconds"); v != nullptr && !v->empty()) {
    auto s = base::parse_int64(*v);
    if (!s || *s <= 0) return make_error(R"(invalid value for "seconds" - must be a positive integer)");
    if (*s > max_seconds)
      return make_error(R"(invalid value for "seconds" - must be at most )" + std::to_string(max_seconds));
    q.seconds = *s;
  }
  if (const std::string* v = req.param("internal"); v != nullptr && !v->empty()) {
    if (*v != "0" && *v != "1") return make_error(R"(invalid value for "internal" - must be 0 or 1)");
    q.include_internal = *v == "1";
  }
  return q;
}

}  // namespace lw::server
