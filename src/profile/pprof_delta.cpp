// delta_pprof(): current minus base, as `pprof -base` and Go's ?seconds=N show it.
//
// Both inputs are decoded and checked (string indexes in range, ids defined before use, one value
// per sample type), so a truncated or hostile input is an Error, never a crash or a profile that
// readers reject. Everything is merged by content, not by id: a mapping by (file, build id, file
// offset, size), a function by its names, file and start line, a location by its mapping and
// mapping-relative address and lines, a sample by its locations and labels. So two profiles of
// one process (or of two runs of one binary, whose mappings load elsewhere) line up; base values
// are scaled by -1, samples that cancel to zero are dropped. The merge runs twice: the second
// pass over the merged samples keeps only the locations, functions, mappings and strings that
// surviving samples still use, so a delta of two similar heap profiles stays small.
#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "src/profile/gzip.hpp"
#include "src/profile/pprof_builder.hpp"
#include "src/profile/pprof_strings.hpp"
#include "src/profile/profile.pb.h"

namespace lw::profile {
namespace {

namespace pb = leakwatch::pprof;

// Decoded is one input profile with its ids indexed. It has passed validate().
struct Decoded {
  pb::Profile p;
  std::unordered_map<std::uint64_t, const pb::Mapping*> mappings;
  std::unordered_map<std::uint64_t, const pb::Location*> locations;
  std::unordered_map<std::uint64_t, const pb::Function*> functions;
  const std::string& str(std::int64_t i) const { return p.string_table(static_cast<int>(i)); }
};

Result<void> validate(Decoded& d) {
  const pb::Profile& p = d.p;
  const auto n = static_cast<std::int64_t>(p.string_table_size());
  if (n == 0 || !p.string_table(0).empty())
    return make_error("its string table does not start with the empty string");
  auto bad = [n](std::int64_t i) { return i < 0 || i >= n; };
  if (p.sample_type_size() == 0) return make_error("it has no sample types");
  for (const auto& vt : p.sample_type())
    if (bad(vt.type()) || bad(vt.unit())) return make_error("a sample type names no string");
  if (bad(p.period_type().type()) || bad(p.period_type().unit()) || bad(p.drop_frames()) ||
      bad(p.keep_frames()) || bad(p.default_sample_type()) || bad(p.doc_url()))
    return make_error("a profile field names no string");
  for (auto c : p.comment())
    if (bad(c)) return make_error("a comment names no string");
  for (const auto& m : p.mapping()) {
    if (m.id() == 0 || !d.mappings.emplace(m.id(), &m).second)
      return make_error("a mapping id is zero or repeated");
    if (bad(m.filename()) || bad(m.build_id())) return make_error("a mapping names no string");
  }
  for (const auto& f : p.function()) {
    if (f.id() == 0 || !d.functions.emplace(f.id(), &f).second)
      return make_error("a function id is zero or repeated");
    if (bad(f.name()) || bad(f.system_name()) || bad(f.filename()))
      return make_error("a function names no string");
  }
  for (const auto& l : p.location()) {
    if (l.id() == 0 || !d.locations.emplace(l.id(), &l).second)
      return make_error("a location id is zero or repeated");
    if (l.mapping_id() != 0 && !d.mappings.count(l.mapping_id()))
      return make_error("a location names an unknown mapping");
    for (const auto& line : l.line())
      if (!d.functions.count(line.function_id()))
        return make_error("a location names an unknown function");
  }
  for (const auto& s : p.sample()) {
    if (s.value_size() != p.sample_type_size())
      return make_error("a sample's value count differs from its sample types");
    for (auto id : s.location_id())
      if (!d.locations.count(id)) return make_error("a sample names an unknown location");
    for (const auto& l : s.label())
      if (bad(l.key()) || bad(l.str()) || bad(l.num_unit()))
        return make_error("a label names no string");
  }
  return {};
}

Result<Decoded> decode(std::string_view data, const char* which) {
  std::string plain;
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
      static_cast<unsigned char>(data[1]) == 0x8b) {
    auto out = gunzip(data);
    if (!out.ok()) return make_error(std::string(which) + " profile: " + out.error().message);
    plain = std::move(*out);
    data = plain;
  }
  if (data.empty()) return make_error(std::string(which) + " profile is empty");
  if (data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return make_error(std::string(which) + " profile is larger than 2 GiB");
  Decoded d;
  if (!d.p.ParseFromArray(data.data(), static_cast<int>(data.size())))
    return make_error(std::string(which) +
                      " profile is not a pprof protobuf (truncated or corrupt)");
  if (auto ok = validate(d); !ok.ok())
    return make_error(std::string(which) + " profile is malformed: " + ok.error().message);
  return d;
}

std::string type_list(const Decoded& d) {
  std::string out = "[";
  for (int i = 0; i < d.p.sample_type_size(); ++i) {
    if (i) out += ", ";
    out += d.str(d.p.sample_type(i).type()) + "/" + d.str(d.p.sample_type(i).unit());
  }
  return out + "]";
}

// Merger builds one output profile from samples of inputs, adding each mapping, function,
// location and string the first time a sample uses it.
class Merger {
 public:
  Merger() : strings_(&out_) {}

  void header(const Decoded& from) {
    const pb::Profile& p = from.p;
    for (const auto& vt : p.sample_type()) {
      pb::ValueType* o = out_.add_sample_type();
      o->set_type(str(from, vt.type()));
      o->set_unit(str(from, vt.unit()));
    }
    out_.mutable_period_type()->set_type(str(from, p.period_type().type()));
    out_.mutable_period_type()->set_unit(str(from, p.period_type().unit()));
    out_.set_period(p.period());
    out_.set_default_sample_type(str(from, p.default_sample_type()));
    out_.set_drop_frames(str(from, p.drop_frames()));
    out_.set_keep_frames(str(from, p.keep_frames()));
    out_.set_doc_url(str(from, p.doc_url()));
    for (auto c : p.comment()) out_.add_comment(str(from, c));
    out_.set_time_nanos(p.time_nanos());
  }

  // add() accumulates every sample of `from`, scaled by `scale`.
  void add(const Decoded& from, std::int64_t scale) {
    for (const auto& s : from.p.sample()) {
      SampleKey key;
      for (auto id : s.location_id()) key.first.push_back(location(from, *from.locations.at(id)));
      for (const auto& l : s.label())
        key.second.emplace_back(str(from, l.key()), str(from, l.str()), l.num(),
                                str(from, l.num_unit()));
      std::sort(key.second.begin(), key.second.end());
      auto [it, fresh] = samples_.try_emplace(key, order_.size());
      if (fresh) order_.push_back({key, std::vector<std::int64_t>(s.value_size(), 0)});
      auto& values = order_[it->second].second;
      for (int i = 0; i < s.value_size(); ++i) values[i] += scale * s.value(i);
    }
  }

  // finish() writes the non-zero samples and returns the profile.
  pb::Profile finish() {
    for (const auto& [key, values] : order_) {
      if (std::all_of(values.begin(), values.end(), [](std::int64_t v) { return v == 0; }))
        continue;
      pb::Sample* s = out_.add_sample();
      for (auto id : key.first) s->add_location_id(id);
      for (auto v : values) s->add_value(v);
      for (const auto& [k, v, num, unit] : key.second) {
        pb::Label* l = s->add_label();
        l->set_key(k);
        l->set_str(v);
        l->set_num(num);
        l->set_num_unit(unit);
      }
    }
    return std::move(out_);
  }

 private:
  using Label = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>;
  using SampleKey = std::pair<std::vector<std::uint64_t>, std::vector<Label>>;

  std::int64_t str(const Decoded& from, std::int64_t i) { return strings_.index(from.str(i)); }

  // mapping() returns the output mapping for `m` (merged by file, build id, offset and size).
  const pb::Mapping& mapping(const Decoded& from, const pb::Mapping& m) {
    auto key = std::make_tuple(from.str(m.filename()), from.str(m.build_id()), m.file_offset(),
                               m.memory_limit() - m.memory_start());
    auto it = mappings_.find(key);
    if (it != mappings_.end()) return out_.mapping(it->second);
    pb::Mapping* o = out_.add_mapping();
    *o = m;
    o->set_id(static_cast<std::uint64_t>(out_.mapping_size()));
    o->set_filename(str(from, m.filename()));
    o->set_build_id(str(from, m.build_id()));
    mappings_.emplace(std::move(key), out_.mapping_size() - 1);
    return *o;
  }

  std::uint64_t function(const Decoded& from, const pb::Function& f) {
    auto key = std::make_tuple(from.str(f.name()), from.str(f.system_name()),
                               from.str(f.filename()), f.start_line());
    auto it = functions_.find(key);
    if (it != functions_.end()) return it->second;
    pb::Function* o = out_.add_function();
    o->set_id(static_cast<std::uint64_t>(out_.function_size()));
    o->set_name(str(from, f.name()));
    o->set_system_name(str(from, f.system_name()));
    o->set_filename(str(from, f.filename()));
    o->set_start_line(f.start_line());
    functions_.emplace(std::move(key), o->id());
    return o->id();
  }

  std::uint64_t location(const Decoded& from, const pb::Location& l) {
    std::uint64_t mapping_id = 0;
    std::uint64_t address = l.address();
    if (l.mapping_id() != 0) {
      const pb::Mapping& in = *from.mappings.at(l.mapping_id());
      const pb::Mapping& o = mapping(from, in);
      mapping_id = o.id();
      address = address - in.memory_start() + o.memory_start();  // same code, maybe moved
    }
    LocationKey key{mapping_id, address, {}, l.is_folded()};
    for (const auto& line : l.line())
      key.lines.emplace_back(function(from, *from.functions.at(line.function_id())), line.line(),
                             line.column());
    auto it = locations_.find(key);
    if (it != locations_.end()) return it->second;
    pb::Location* o = out_.add_location();
    o->set_id(static_cast<std::uint64_t>(out_.location_size()));
    o->set_mapping_id(mapping_id);
    o->set_address(address);
    o->set_is_folded(l.is_folded());
    for (const auto& [fn, line, column] : key.lines) {
      pb::Line* ol = o->add_line();
      ol->set_function_id(fn);
      ol->set_line(line);
      ol->set_column(column);
    }
    locations_.emplace(std::move(key), o->id());
    return o->id();
  }

  struct LocationKey {
    std::uint64_t mapping_id;
    std::uint64_t address;
    std::vector<std::tuple<std::uint64_t, std::int64_t, std::int64_t>> lines;
    bool folded;
    bool operator<(const LocationKey& o) const {
      return std::tie(mapping_id, address, lines, folded) <
             std::tie(o.mapping_id, o.address, o.lines, o.folded);
    }
  };

  pb::Profile out_;
  PprofStrings strings_;
  std::map<std::tuple<std::string, std::string, std::uint64_t, std::uint64_t>, int> mappings_;
  std::map<std::tuple<std::string, std::string, std::string, std::int64_t>, std::uint64_t>
      functions_;
  std::map<LocationKey, std::uint64_t> locations_;
  std::map<SampleKey, std::size_t> samples_;
  std::vector<std::pair<SampleKey, std::vector<std::int64_t>>> order_;
};

}  // namespace

Result<std::string> delta_pprof(std::string_view base, std::string_view current) {
  auto b = decode(base, "base");
  if (!b.ok()) return b.error();
  auto c = decode(current, "current");
  if (!c.ok()) return c.error();
  if (type_list(*b) != type_list(*c))
    return make_error("cannot subtract profiles with different sample types: base has " +
                      type_list(*b) + ", current has " + type_list(*c));

  Merger merge;
  merge.header(*c);
  merge.add(*c, 1);
  merge.add(*b, -1);
  Decoded merged;
  merged.p = merge.finish();
  // Second pass: keep only what the surviving samples use.
  if (auto ok = validate(merged); !ok.ok())
    return make_error("delta profile is malformed: " + ok.error().message);
  Merger compact;
  compact.header(merged);
  compact.add(merged, 1);
  pb::Profile out = compact.finish();
  const std::int64_t tb = b->p.time_nanos(), tc = c->p.time_nanos();
  out.set_duration_nanos(tb != 0 && tc > tb ? tc - tb : 0);
  return out.SerializeAsString();
}

}  // namespace lw::profile
