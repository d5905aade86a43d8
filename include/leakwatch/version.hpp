// version.hpp: the library version. Header-only constants; no state.
#pragma once

namespace lw {

inline constexpr int kVersionMajor = 0;
inline constexpr int kVersionMinor = 1;
inline constexpr int kVersionPatch = 0;

// version_string() returns "MAJOR.MINOR.PATCH" of the linked library (not of the headers).
const char* version_string();

}  // namespace lw
