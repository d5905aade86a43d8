// leakwatch.hpp: the umbrella header. Include this one; every public piece is behind it.
#pragma once

#include "leakwatch/debug_server.hpp"  // IWYU pragma: export
#include "leakwatch/result.hpp"   // IWYU pragma: export
#include "leakwatch/version.hpp"  // IWYU pragma: export
