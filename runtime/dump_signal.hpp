// dump_signal.hpp: the dump-on-signal thread. LEAKWATCH_DUMP_SIGNAL (default SIGUSR1; a number,
// "SIGUSR2"/"USR2", or "off") and LEAKWATCH_DUMP_FILE (default: stderr, appended) are read once.
// The handler only writes one byte to a pipe; a dedicated thread ("lw-dump") wakes and writes the
// full debug=2 dump, so the program keeps running. A signal whose disposition is not the default
// (the program handles it itself) is left alone. Thread-safe; allocates once at start.
#pragma once

namespace lw::rt {

// start_dump_signal_once() installs the handler and starts the thread, the first time only.
void start_dump_signal_once() noexcept;

// dump_requests() counts dumps written so far (for tests).
unsigned long dump_requests() noexcept;

}  // namespace lw::rt
