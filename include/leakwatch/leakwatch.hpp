// leakwatch.hpp: the umbrella header. Include this one; every public piece is behind it.
#pragma once

#include "leakwatch/debug_server.hpp"  // IWYU pragma: export
#include "leakwatch/result.hpp"   // IWYU pragma: export
#include "leakwatch/version.hpp"  // IWYU pragma: export
#include "leakwatch/heap.hpp"     // IWYU pragma: export
#include "leakwatch/cpu_profile.hpp"  // IWYU pragma: export
#include "leakwatch/contention_profile.hpp"  // IWYU pragma: export
#include "leakwatch/labels.hpp"     // IWYU pragma: export
#include "leakwatch/profile.hpp"      // IWYU pragma: export
#include "leakwatch/runtime.hpp"    // IWYU pragma: export
#include "leakwatch/chan.hpp"       // IWYU pragma: export
#include "leakwatch/select.hpp"     // IWYU pragma: export
#include "leakwatch/sync.hpp"       // IWYU pragma: export
#include "leakwatch/task_info.hpp"  // IWYU pragma: export
#include "leakwatch/thread_info.hpp"  // IWYU pragma: export
#include "leakwatch/blocking.hpp"   // IWYU pragma: export
