// pprof_raw.hpp: reads the text that `go tool pprof -raw` prints back into samples whose stacks
// are function names, so tests can assert on what the real client understood. For tests only.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace lw::test {

struct RawSample {
  std::vector<long long> values;
  std::vector<std::string> frames;  // function names innermost first; "" for unsymbolized
  std::vector<std::string> labels;  // label lines as printed, e.g. "bytes:[64]"
};

struct RawProfile {
  std::string header;  // everything before "Samples:"
  std::string sample_types;
  std::vector<RawSample> samples;
  std::map<std::string, std::string> locations;  // id -> rest of the line
  std::string mappings;
};

inline std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// parse_raw() parses `go tool pprof -raw` output.
inline RawProfile parse_raw(const std::string& out) {
  RawProfile p;
  std::istringstream in(out);
  std::string line;
  enum { kHeader, kTypes, kSamples, kLocations, kMappings } part = kHeader;
  std::vector<std::vector<std::string>> sample_locs;
  while (std::getline(in, line)) {
    if (line == "Samples:") {
      part = kTypes;
      continue;
    }
    if (line == "Locations") {
      part = kLocations;
      continue;
    }
    if (line == "Mappings") {
      part = kMappings;
      continue;
    }
    switch (part) {
      case kHeader:
        p.header += line + "\n";
        break;
      case kTypes:
        p.sample_types = line;
        part = kSamples;
        break;
      case kSamples: {
        auto colon = line.find(':');
        std::string t = trim(line);
        if (t.empty()) break;
        // A label line ("bytes:[64]", "stage:[consume]") has no digits-only prefix before ':'.
        std::string before = trim(line.substr(0, colon));
        bool is_values = colon != std::string::npos && !before.empty() &&
                         before.find_first_not_of("-0123456789 ") == std::string::npos;
        if (is_values) {
          RawSample s;
          std::istringstream vs(before);
          for (long long v; vs >> v;) s.values.push_back(v);
          std::istringstream ls(line.substr(colon + 1));
          std::vector<std::string> ids;
          for (std::string id; ls >> id;) ids.push_back(id);
          sample_locs.push_back(ids);
          p.samples.push_back(s);
        } else if (!p.samples.empty()) {
          p.samples.back().labels.push_back(t);
        }
        break;
      }
      case kLocations: {
        std::string t = trim(line);
        auto colon = t.find(':');
        if (colon != std::string::npos) p.locations[t.substr(0, colon)] = trim(t.substr(colon + 1));
        break;
      }
      case kMappings:
        p.mappings += line + "\n";
        break;
    }
  }
  // Resolve frames: a location line is "0xADDR M=1 func file:line s=0" or "0xADDR M=1".
  for (std::size_t i = 0; i < p.samples.size(); ++i) {
    for (const auto& id : sample_locs[i]) {
      std::string rest = p.locations[id];
      std::string fn;
      auto m = rest.find(" M=");
      std::string after =
          rest.substr(rest.find(' ') == std::string::npos ? rest.size() : rest.find(' ') + 1);
      if (m != std::string::npos) {
        auto sp = rest.find(' ', m + 1);
        after = sp == std::string::npos ? "" : rest.substr(sp + 1);
      }
      // Strip " file:line s=N" from the end.
      auto s_pos = after.rfind(" s=");
      if (s_pos != std::string::npos) {
        after = after.substr(0, s_pos);
        auto sp = after.rfind(' ');
        fn = sp == std::string::npos ? after : after.substr(0, sp);
      }
      p.samples[i].frames.push_back(trim(fn));
    }
  }
  return p;
}

// find_sample() returns the sample whose frames are exactly `frames`, or nullptr.
inline const RawSample* find_sample(const RawProfile& p, const std::vector<std::string>& frames) {
  for (const auto& s : p.samples)
    if (s.frames == frames) return &s;
  return nullptr;
}

}  // namespace lw::test
