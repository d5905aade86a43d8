// term_color.hpp: colours for the CLI's text on a terminal. On only when the stream is a TTY,
// NO_COLOR is unset or empty (no-color.org) and TERM is not "dumb"; never in a pipe or a file, so
// scripts and the JSON forms read plain text. Pure but for the look at the environment; no
// allocation.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace lw::cli {

// Palette holds the escape sequences in force: all empty when colour is off.
struct Palette {
  const char* bold = "";
  const char* red = "";      // leaks: what can never recover
  const char* yellow = "";   // growth and stuck: what looks wrong over time
  const char* cyan = "";     // the user's own frame, the one to read first
  const char* dim = "";      // machinery: creation stacks, counts
  const char* reset = "";
  bool on() const { return *reset != '\0'; }
};

// palette_for() is the palette for text written to `out`.
const Palette& palette_for(std::FILE* out);
// plain_palette() is the palette with colour off.
const Palette& plain_palette();

// paint() is `text` between `colour` and the reset (just `text` when colour is off).
std::string paint(const Palette& p, const char* colour, std::string_view text);

// paint_dump() colours a Go-format stack dump (goroutine/thread text): record headers bold, the
// "created by" lines dim.
std::string paint_dump(const Palette& p, std::string_view dump);

}  // namespace lw::cli
