#include "tools/leakwatch/cli_args.hpp"

#include <cstdio>

#include "src/base/parse.hpp"

namespace lw::cli {

std::optional<std::string> Args::get(std::string_view flag) const {
  auto it = values.find(flag);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

Result<Args> parse_args(std::string_view command, int argc, char** argv, int first,
                        std::initializer_list<Flag> flags, bool positional_ends_flags) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) a.rest.emplace_back(argv[i]);
      break;
    }
    if (arg == "--help" || arg == "-h") {
      a.help = true;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      if (positional_ends_flags) {
        for (; i < argc; ++i) a.rest.emplace_back(argv[i]);
        break;
      }
      a.positional.emplace_back(arg);
      continue;
    }
    std::string_view name = arg, value;
    bool inline_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos && arg.rfind("--", 0) == 0) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    const Flag* spec = nullptr;
    for (const Flag& f : flags)
      if (f.name == name) spec = &f;
    if (spec == nullptr)
      return make_error("unknown flag '" + std::string(name) + "'");
    if (!spec->takes_value) {
      if (inline_value) return make_error("flag " + std::string(name) + " takes no value");
      a.values[std::string(name)] = "";
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc) return make_error("flag " + std::string(name) + " needs a value");
      value = argv[++i];
    }
    a.values[std::string(name)] = std::string(value);
  }
  (void)command;
  return a;
}

int usage_error(std::string_view command, std::string_view message) {
  std::fprintf(stderr, "leakwatch: error: %.*s: %.*s\nRun 'leakwatch %.*s --help' for usage.\n",
               static_cast<int>(command.size()), command.data(), static_cast<int>(message.size()),
               message.data(), static_cast<int>(command.size()), command.data());
  return kExitError;
}

int runtime_error(std::string_view message) {
  std::fprintf(stderr, "leakwatch: error: %.*s\n", static_cast<int>(message.size()), message.data());
  return kExitError;
}

Result<std::int64_t> duration_flag(const Args& a, std::string_view flag, std::int64_t fallback_ns) {
  auto v = a.get(flag);
  if (!v) return fallback_ns;
  auto ns = base::parse_duration_ns(*v);
  if (!ns || *ns <= 0)
    return make_error(std::string(flag) + ": bad duration '" + *v + "' (want e.g. 30s, 5m, 1h30m)");
  return *ns;
}

Result<std::int64_t> positive_int_flag(const Args& a, std::string_view flag, std::int64_t fallback) {
  auto v = a.get(flag);
  if (!v) return fallback;
  auto n = base::parse_int64(*v);
  if (!n || *n <= 0) return make_error(std::string(flag) + ": want a positive whole number, got '" + *v + "'");
  return *n;
}

Result<std::int64_t> size_flag(const Args& a, std::string_view flag, std::int64_t fallback) {
  auto v = a.get(flag);
  if (!v) return fallback;
  auto n = base::parse_size_bytes(*v);
  if (!n || *n <= 0) return make_error(std::string(flag) + ": want a size (1048576, 64KiB, 256MiB, 1GiB), got '" + *v + "'");
  return *n;
}

}  // namespace lw::cli
