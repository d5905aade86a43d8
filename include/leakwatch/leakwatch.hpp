// leakwatch.hpp: the umbrella header. Include this one; every public piece is behind it.
#pragma once

#include "leakwatch/result.hpp"   // IWYU pragma: export
#include "leakwatch/version.hpp"  // IWYU pragma: export
#include "leakwatch/heap.hpp"     // IWYU pragma: export
