// Checks the layering of docs/architecture.md from the #include lines: a module includes only
// itself and the modules it is allowed to use, and tools/ never reach the in-process tracker.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace fs = std::filesystem;

namespace {

// module_of() names the module a project path belongs to ("" if none of ours).
std::string module_of(const std::string& path) {
  static const std::regex kSnapshotModel(R"(^src/snapshot/(model|stack_interner)\.)");
  static const std::regex kSnapshotCapture(R"(^src/snapshot/(capture|task_dump))");
  if (std::regex_search(path, kSnapshotModel)) return "snapshot_model";
  if (std::regex_search(path, kSnapshotCapture)) return "capture";
  if (path.rfind("runtime/", 0) == 0) return "runtime";
  if (path.rfind("tools/", 0) == 0) return "tools";
  if (path.rfind("src/", 0) == 0) {
    auto end = path.find('/', 4);
    return end == std::string::npos ? "" : path.substr(4, end - 4);
  }
  return "";
}

// Which modules each module may include, besides itself. Layer order: base 0; unwind,
// snapshot_model 1; runtime, heap 2 (never each other); snapshot (codec), capture, profile, store,
// diff, http 3; server 4; tools 5 (analysis side only).
const std::map<std::string, std::set<std::string>> kAllowed = {
    {"base", {}},
    {"unwind", {"base"}},
    {"snapshot_model", {"base"}},
    {"runtime", {"base", "unwind"}},
    {"heap", {"base", "unwind"}},
    {"threads", {"base", "unwind"}},
    {"snapshot", {"base", "snapshot_model"}},
    {"profile", {"base", "snapshot_model"}},
    {"capture", {"base", "unwind", "snapshot_model", "runtime", "heap", "threads", "profile"}},
    {"cpu", {"base", "unwind", "heap", "threads", "snapshot_model", "capture", "profile"}},
    {"store", {"base", "snapshot_model", "snapshot"}},
    {"diff", {"base", "snapshot_model", "snapshot", "profile"}},
    {"http", {"base"}},
    {"server", {"base", "unwind", "snapshot_model", "runtime", "heap", "threads", "snapshot", "capture", "profile", "cpu", "http"}},
    {"tools", {"base", "snapshot_model", "snapshot", "profile", "store", "diff", "http"}},
};

}  // namespace

TEST_CASE("module_of maps paths to modules") {
  CHECK(module_of("src/base/log.hpp") == "base");
  CHECK(module_of("src/snapshot/model.hpp") == "snapshot_model");
  CHECK(module_of("src/snapshot/codec.hpp") == "snapshot");
  CHECK(module_of("src/snapshot/capture.cpp") == "capture");
  CHECK(module_of("runtime/scheduler.cpp") == "runtime");
  CHECK(module_of("tools/leakwatch/main.cpp") == "tools");
}

TEST_CASE("every #include respects the layering") {
  const fs::path root = LW_SOURCE_DIR;
  static const std::regex kInclude(R"(^\s*#\s*include\s*"([^"]+)\")");
  int files = 0;
  for (const char* dir : {"src", "runtime", "tools"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      auto ext = entry.path().extension();
      if (ext != ".cpp" && ext != ".hpp" && ext != ".h") continue;
      std::string rel = fs::relative(entry.path(), root).string();
      std::string from = module_of(rel);
      if (from.empty() || rel.rfind("tools/bench/", 0) == 0) continue;
      REQUIRE_MESSAGE(kAllowed.count(from), "no layering rule for module " << from << " (" << rel << ")");
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      while (std::getline(in, line)) {
        std::smatch m;
        if (!std::regex_search(line, m, kInclude)) continue;
        std::string to = module_of(m[1].str());
        if (to.empty() || to == from) continue;
        CHECK_MESSAGE(kAllowed.at(from).count(to), rel << " includes " << m[1].str() << " (" << from
                                                       << " may not use " << to << ")");
      }
    }
  }
  CHECK(files > 10);
}
