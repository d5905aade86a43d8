// Go's expvar handler writes "{\n", then `"name": value` entries joined by ",\n", then "\n}\n";
// the layout is kept so that line-oriented scripts written against Go services keep working.
#include "src/server/expvar_json.hpp"

#include "src/base/json_text.hpp"

#include <cstdint>
#include <cstdio>
#include <utility>

namespace lw::server {

std::string write_expvar_json(const snapshot::Snapshot& s) {
  std::string out = "{\n\"cmdline\": [";
  for (std::size_t i = 0; i < s.process.cmdline.size(); ++i) {
    if (i > 0) out += ", ";
    base::json_escape(s.process.cmdline[i], &out);
  }
  out += "],\n\"memstats\": {";
  const snapshot::MemStats& m = s.mem;
  const std::pair<const char*, std::uint64_t> fields[] = {
      {"Alloc", m.alloc},        {"TotalAlloc", m.total_alloc},   {"Sys", m.sys},
      {"Lookups", 0},            {"Mallocs", m.mallocs},          {"Frees", m.frees},
      {"HeapAlloc", m.heap_alloc}, {"HeapSys", m.heap_sys},       {"HeapIdle", m.heap_idle},
      {"HeapInuse", m.heap_inuse}, {"HeapReleased", m.heap_released}, {"HeapObjects", m.heap_objects},
      {"StackInuse", m.stack_inuse}, {"StackSys", m.stack_sys},   {"MSpanInuse", 0},
      {"MSpanSys", 0},           {"MCacheInuse", 0},              {"MCacheSys", 0},
      {"BuckHashSys", 0},        {"GCSys", 0},                    {"OtherSys", 0},
      {"NextGC", 0},             {"LastGC", 0},                   {"PauseTotalNs", 0},
  };
  bool first = true;
  for (const auto& [name, value] : fields) {
    if (!first) out += ',';
    first = false;
    out += '"';
    out += name;
    out += "\":";
    out += std::to_string(value);
  }
  out += ",\"PauseNs\":[],\"PauseEnd\":[],\"NumGC\":0,\"NumForcedGC\":0,\"GCCPUFraction\":0,"
         "\"EnableGC\":false,\"DebugGC\":false,\"BySize\":[]},\n";
  // Ours, under their own key so Go's MemStats stays exactly Go's.
  out += "\"leakwatch\": {\"tasks\":" + std::to_string(m.num_tasks) +
         ",\"threads\":" + std::to_string(m.num_threads) + ",\"rss\":" + std::to_string(m.rss) +
         ",\"max_rss\":" + std::to_string(m.max_rss) + ",\"leaked_tasks_total\":" +
         std::to_string(s.leaked_tasks) + "}\n}\n";
  return out;
}

}  // namespace lw::server
