// task_cancelled.hpp: the exception that unwinds a parked task when run() shuts down. Not derived
// from std::exception so that `catch (const std::exception&)` in user code does not stop it.
// Thrown only at blocking points; never allocates beyond the exception object.
#pragma once

namespace lw::rt {

struct TaskCancelled {};

}  // namespace lw::rt
