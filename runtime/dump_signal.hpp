// dump_signal.hpp: the dump-on-signal thread. LEAKWATCH_DUMP_SIGNAL (default SIGUSR1; a number,
// "SIGUSR2"/"USR2", or "off") and LEAKWATCH_DUMP_FILE (default: stderr, appended) are read once.
// The handler only writes one byte to a pipe; a dedicated thread ("lw-dump") wakes and writes the
// full debug=2 dump, so the program keeps running. Each dump opens with a header line (time in
// RFC 3339 UTC, pid); at most one dump is written a second, later signals being coalesced into the
// next dump, whose header counts them. A signal whose disposition is not the default (the program
// handles it itself) is left alone. Thread-safe; allocates once at start and on the dump thread.
#pragma once

#include <string>

namespace lw::rt {

// start_dump_signal_once() installs the handler and starts the thread, the first time only.
void start_dump_signal_once() noexcept;

// dump_requests() counts dumps written so far (for tests).
unsigned long dump_requests() noexcept;

// dump_header() is the line (and a blank line) that opens each dump:
// "leakwatch dump 2026-12-02T05:30:00.123456Z pid 4242", then, when `skipped` signals were
// coalesced into this dump, " (skipped 149 signals: at most one dump a second)".
std::string dump_header(long long wall_unix_ns, int pid, unsigned long skipped);

}  // namespace lw::rt
