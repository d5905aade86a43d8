// report.hpp: findings as people read them (text) and as programs read them (JSON), and the
// human forms of bytes and durations. Pure; allocates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/diff/finding.hpp"
#include "tools/leakwatch/term_color.hpp"

namespace lw::cli {

// format_bytes() gives "512 B", "12.0 KiB", "3.4 MiB"; format_duration() gives Go's "1h2m3s".
std::string format_bytes(double bytes);
std::string format_duration(std::int64_t ns);

// is_allocator_frame() is true for malloc/operator new/mimalloc/leakwatch heap hook frames.
bool is_allocator_frame(const std::string& function);
// display_frames() is what a person needs of a stack: without the allocator and leakwatch
// runtime frames at the innermost end (the user's call that allocated or blocked comes first) and
// without the runtime's task entry frames at the outermost end. At least one frame is kept. JSON
// output keeps every frame. With `syscall` (a thread blocked in that system call, e.g. "read"),
// the C library's wrappers of it at the innermost end go too ("read", "__libc_read", "read@GLIBC_2.2.5").
std::vector<std::string> display_frames(const std::vector<std::string>& frames, std::string_view syscall = {});

// finding_text() is one finding in a few lines: a headline, then its frames indented; with a
// palette that is on, the kind is red (leaks) or yellow (growth, stuck), the first frame cyan.
std::string finding_text(const diff::Finding& f, const Palette& palette = plain_palette());
// findings_json() is {"findings":[...]} (one object per finding; see docs/cli.md).
std::string findings_json(const std::vector<diff::Finding>& findings);
// finding_key() identifies a finding across watch rounds (kind, target, run, site, reason).
std::string finding_key(const diff::Finding& f);

}  // namespace lw::cli
