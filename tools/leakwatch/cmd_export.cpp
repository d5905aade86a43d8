// leakwatch export: a stored snapshot as a gzipped pprof profile for `go tool pprof`.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

#include "src/base/parse.hpp"
#include "src/profile/gzip.hpp"
#include "src/profile/pprof_builder.hpp"
#include "tools/leakwatch/analysis.hpp"
#include "tools/leakwatch/cli_args.hpp"
#include "tools/leakwatch/commands.hpp"

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

constexpr const char* kKinds[] = {"heap",    "allocs",     "goroutine",    "goroutineleak", "threads",
                                  "threadleak", "threadcreate", "block", "mutex"};
constexpr const char* kKindList = "heap, allocs, goroutine, goroutineleak, threads, threadleak, threadcreate, block or mutex";

bool known_kind(const std::string& kind) {
  for (const char* k : kKinds)
    if (kind == k) return true;
  return false;
}

// custom_profile_names() lists the snapshot's custom profiles for an error message.
std::string custom_profile_names(const snapshot::Snapshot& s) {
  std::string out;
  for (const auto& p : s.custom_profiles) out += (out.empty() ? "" : ", ") + p.name;
  return out.empty() ? "none" : out;
}

// build() renders profile `kind` of `s`: a built-in one, else the custom profile of that name.
Result<std::string> build(const snapshot::Snapshot& s, const std::string& kind) {
  if (!known_kind(kind)) {
    if (const auto* custom = snapshot::find_custom_profile(s, kind)) return profile::custom_pprof(s, *custom);
    return make_error(std::string("--profile: want ") + kKindList + ", got '" + kind +
                      "' (nor is it a custom profile of the snapshot; it has " + custom_profile_names(s) + ")");
  }
  if (kind == "heap") return profile::heap_pprof(s, profile::HeapView::kInuse);
  if (kind == "allocs") return profile::heap_pprof(s, profile::HeapView::kAlloc);
  if (kind == "goroutine") return profile::goroutine_pprof(s, profile::TaskSelection::kAll);
  if (kind == "goroutineleak") return profile::goroutine_pprof(s, profile::TaskSelection::kLeaked);
  if (kind == "threads") return profile::threads_pprof(s, profile::ThreadSelection::kAll);
  if (kind == "threadleak") return profile::threads_pprof(s, profile::ThreadSelection::kLeaked);
  if (kind == "block") return profile::contention_pprof(s, base::ContentionProfile::kBlock);
  if (kind == "mutex") return profile::contention_pprof(s, base::ContentionProfile::kMutex);
  return profile::threadcreate_pprof(s);
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
  if (kind.empty()) return usage_error("export", std::string("--profile is required (") + kKindList + ")");
  auto out = args->get("-o");
  if (!out || out->empty()) return usage_error("export", "-o OUT is required");

  auto st = open_store(args->get("--db").value_or(kDefaultDb), true);
  if (!st) return runtime_error(st.error().message);
  auto snap = (*st)->load_snapshot(*id);
  if (!snap) return runtime_error(snap.error().message);
  auto data = build(*snap, kind);
  if (!data) return runtime_error(data.error().message);
  if (base_id) {
    auto base = (*st)->load_snapshot(*base_id);
    if (!base) return runtime_error(base.error().message);
    auto base_data = build(*base, kind);
    if (!base_data) return runtime_error(base_data.error().message);
    auto delta = profile::delta_pprof(*base_data, *data);
    if (!delta) return runtime_error("cannot subtract snapshot " + std::to_string(*base_id) + ": " + delta.error().message);
    data = std::move(*delta);
  }
  if (auto w = write_out(*out, profile::gzip(*data)); !w) return runtime_error(w.error().message);
  return kExitClean;
}

}  // namespace lw::cli
