// leakwatch snapshot URL [--db FILE]: take one snapshot, store it, print its id.
#include <cstdio>

#include "tools/leakwatch/analysis.hpp"
#include "tools/leakwatch/cli_args.hpp"
#include "tools/leakwatch/commands.hpp"
#include "tools/leakwatch/target.hpp"

namespace lw::cli {
namespace {

constexpr const char* kHelp =
    "usage: leakwatch snapshot URL [--db FILE] [--timeout D] [--max-snapshot-bytes N]\n"
    "\n"
    "Takes one snapshot of the target (GET URL/debug/leakwatch/snapshot), stores it and prints\n"
    "its id.\n"
    "\n"
    "  URL          http://host:port or host:port\n"
    "  --db FILE    the store (default ./leakwatch.db)\n"
    "  --timeout D  deadline for the whole request: connect, send, answer (default 10s)\n"
    "  --max-snapshot-bytes N  refuse a bigger snapshot, received or inflated (default 256MiB)\n";

}  // namespace

int cmd_snapshot(int argc, char** argv) {
  auto args = parse_args("snapshot", argc, argv, 2, {{"--db", true}, {"--timeout", true}, {"--max-snapshot-bytes", true}});
  if (!args) return usage_error("snapshot", args.error().message);
  if (args->help) return std::fputs(kHelp, stdout), kExitClean;
  if (args->positional.size() != 1)
    return usage_error("snapshot", args->positional.empty() ? "no target URL given" : "give exactly one target URL");
  auto url = normalize_target(args->positional[0]);
  if (!url) return usage_error("snapshot", url.error().message);
  auto timeout = duration_flag(*args, "--timeout", kDefaultHttpTimeoutNs);
  if (!timeout) return usage_error("snapshot", timeout.error().message);
  auto max_bytes = size_flag(*args, "--max-snapshot-bytes", kDefaultMaxSnapshotBytes);
  if (!max_bytes) return usage_error("snapshot", max_bytes.error().message);
  std::string db = args->get("--db").value_or(kDefaultDb);

  auto fetched = fetch_snapshot(*url, *timeout, *max_bytes);
  if (!fetched) return runtime_error(fetched.error().message);
  auto st = open_store(db, false);
  if (!st) return runtime_error(st.error().message);
  auto id = (*st)->add_snapshot(*url, fetched->snapshot, fetched->bytes.view());
  if (!id) return runtime_error(id.error().message);
  std::printf("%lld\n", static_cast<long long>(*id));
  return kExitClean;
}

}  // namespace lw::cli
