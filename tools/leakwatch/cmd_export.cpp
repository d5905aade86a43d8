// leakwatch export: a stored snapshot as a gzipped pprof profile for `go tool pprof`.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

#include "src/base/parse.hpp"
#include "src/profile/gzip.hpp"
#include "tools/leakwatch/analysis.hpp"
#include "tools/leakwatch/cli_args.hpp"
#include "tools/leakwatch/commands.hpp"
#include "tools/leakwatch/stored_profile.hpp"

namespace lw::cli {
namespace {

constexpr const char* kHelp =
    "usage: leakwatch export [--db FILE] --snapshot ID [--base ID] --profile TYPE -o OUT\n"
    "\n"
    "Writes stored snapshot ID as a gzipped pprof profile (perftools.profiles.Profile), the\n"
    "format go tool pprof reads:  go tool pprof -top OUT\n"
    "With --base, writes what changed since snapshot BASE: the base profile scaled by -1 and\n"
    "merged with this one (as pprof -base does), so every pprof viewer shows what grew.\n"
    "\n"
    "  --db FILE        the store (default ./leakwatch.db)\n"
    "  --snapshot ID    the snapshot (ids are printed by 'snapshot' and 'diff')\n"
    "  --base ID        subtract this earlier snapshot (a delta profile)\n"
    "  --profile TYPE   heap (inuse_space by default), allocs (alloc_space by default),\n"
    "                   goroutine, goroutineleak, threads, threadleak, threadcreate,\n"
    "                   block, mutex, or the name of a custom profile (lw::Profile) the\n"
    "                   snapshot holds\n"
    "  -o OUT           the file to write ('-' for standard output)\n";

Result<std::int64_t> snapshot_id(const Args& a, std::string_view flag) {
  auto v = a.get(flag);
  if (!v) return make_error(std::string(flag) + " is required");
  auto id = base::parse_int64(*v);
  if (!id || *id <= 0) return make_error(std::string(flag) + ": want a snapshot id, got '" + *v + "'");
  return *id;
}

// write_out() writes beside the destination and renames, so a failed export never leaves half a
// profile where a good one was.
Result<void> write_out(const std::string& path, const std::string& data) {
  if (path == "-") {
    if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size() || std::fflush(stdout) != 0)
      return make_error("cannot write to standard output");
    return {};
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error("cannot write " + path + ": " + std::strerror(errno));
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return make_error("cannot write " + path);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return make_error("cannot write " + path + ": " + why);
  }
  return {};
}

}  // namespace

int cmd_export(int argc, char** argv) {
  auto args = parse_args("export", argc, argv, 2,
                         {{"--db", true}, {"--snapshot", true}, {"--base", true}, {"--profile", true}, {"-o", true}});
  if (!args) return usage_error("export", args.error().message);
  if (args->help) return std::fputs(kHelp, stdout), kExitClean;
  if (!args->positional.empty()) return usage_error("export", "unexpected argument '" + args->positional[0] + "'");
  auto id = snapshot_id(*args, "--snapshot");
  if (!id) return usage_error("export", id.error().message);
  std::optional<std::int64_t> base_id;
  if (args->has("--base")) {
    auto b = snapshot_id(*args, "--base");
    if (!b) return usage_error("export", b.error().message);
    base_id = *b;
  }
  std::string kind = args->get("--profile").value_or("");
  if (kind.empty()) return usage_error("export", std::string("--profile is required (") + kProfileKindList + ")");
  auto out = args->get("-o");
  if (!out || out->empty()) return usage_error("export", "-o OUT is required");

  auto st = open_store(args->get("--db").value_or(kDefaultDb), true);
  if (!st) return runtime_error(st.error().message);
  auto data = stored_profile(**st, *id, kind, base_id);
  if (!data) return runtime_error(data.error().message);
  if (auto w = write_out(*out, profile::gzip(*data)); !w) return runtime_error(w.error().message);
  return kExitClean;
}

}  // namespace lw::cli
