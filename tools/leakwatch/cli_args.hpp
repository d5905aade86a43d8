// cli_args.hpp: the flag parser shared by every subcommand, and the CLI's error conventions
// ("leakwatch: error: ..." on stderr, exit 2). Not thread-safe; allocates.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "leakwatch/result.hpp"

namespace lw::cli {

inline constexpr int kExitClean = 0;     // no findings
inline constexpr int kExitFindings = 1;  // findings
inline constexpr int kExitError = 2;     // usage or runtime error

inline constexpr const char* kDefaultDb = "leakwatch.db";

// Flag is one accepted option: "--db" (takes a value) or "--group" (a switch).
struct Flag {
  std::string_view name;
  bool takes_value;
};

struct Args {
  std::map<std::string, std::string, std::less<>> values;  // flag -> value ("" for switches)
  std::vector<std::string> positional;
  std::vector<std::string> rest;  // everything after "--" (run's program and its arguments)
  bool help = false;

  bool has(std::string_view flag) const { return values.find(flag) != values.end(); }
  std::optional<std::string> get(std::string_view flag) const;
};

// parse_args() reads argv[first..argc) for `command`: "--flag value", "--flag=value", switches,
// "--help"/"-h", positionals, and "--" after which everything is `rest`. With
// `positional_ends_flags`, the first positional also starts `rest` (run's PROGRAM ARGS...).
Result<Args> parse_args(std::string_view command, int argc, char** argv, int first,
                        std::initializer_list<Flag> flags, bool positional_ends_flags = false);

// usage_error() prints "leakwatch: error: <command>: <message>" and a pointer to --help; returns 2.
int usage_error(std::string_view command, std::string_view message);
// runtime_error() prints "leakwatch: error: <message>"; returns 2.
int runtime_error(std::string_view message);

// Checked flag values: each returns an Error naming the flag and the bad value.
Result<std::int64_t> duration_flag(const Args& a, std::string_view flag, std::int64_t fallback_ns);
Result<std::int64_t> positive_int_flag(const Args& a, std::string_view flag, std::int64_t fallback);
// size_flag() reads a positive byte count: "1048576", "64KiB", "256MiB", "1GiB".
Result<std::int64_t> size_flag(const Args& a, std::string_view flag, std::int64_t fallback);

}  // namespace lw::cli
