#include "tools/leakwatch/term_color.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace lw::cli {
namespace {

constexpr Palette kPlain{};
constexpr Palette kAnsi{"\033[1m", "\033[31m", "\033[33m", "\033[36m", "\033[2m", "\033[0m"};

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

const Palette& plain_palette() { return kPlain; }

const Palette& palette_for(std::FILE* out) {
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  if (no_color != nullptr && *no_color != '\0') return kPlain;
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return kPlain;
  return isatty(fileno(out)) == 1 ? kAnsi : kPlain;
}

std::string paint(const Palette& p, const char* colour, std::string_view text) {
  if (!p.on()) return std::string(text);
  std::string out(colour);
  out += text;
  out += p.reset;
  return out;
}

std::string paint_dump(const Palette& p, std::string_view dump) {
  if (!p.on()) return std::string(dump);
  std::string out;
  out.reserve(dump.size() + dump.size() / 8);
  while (!dump.empty()) {
    std::size_t end = dump.find('\n');
    std::string_view line = dump.substr(0, end == std::string_view::npos ? dump.size() : end);
    if (starts_with(line, "goroutine ") || starts_with(line, "thread ") || starts_with(line, "threads profile:"))
      out += paint(p, p.bold, line);
    else if (starts_with(line, "created by ") || starts_with(line, "\tcreated by ") || starts_with(line, "# labels:"))
      out += paint(p, p.dim, line);
    else
      out += line;
    if (end == std::string_view::npos) break;
    out += '\n';
    dump.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace lw::cli
