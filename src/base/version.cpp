#include "leakwatch/version.hpp"

namespace lw {

const char* version_string() { return "0.1.0"; }

}  // namespace lw
