// json_text.hpp: writing JSON text by hand, for the documents both sides emit. Pure; thread-safe;
// allocate only what they append or return.
#pragma once

#include <string>
#include <string_view>

namespace lw::base {

// json_escape() appends `text` to `out` as a JSON string literal (quotes included). Valid UTF-8
// passes through; an invalid byte becomes U+FFFD, so the document stays valid JSON whatever the
// text holds.
void json_escape(std::string_view text, std::string* out);

// json_number() is `v` with 6 significant digits, or 0 for NaN and infinities (JSON has none).
std::string json_number(double v);

}  // namespace lw::base
