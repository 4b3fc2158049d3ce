// ConfigReader: typed, range-checked reading of one YAML map (the loading
// of documents is in config_reader.cpp).
#include <cctype>
#include <limits>

#include "sim/config_reader.h"
#include "sim/config_reader_detail.h"
#include "sim/config_units.h"
#include "sim/resolved_config.h"

namespace hmmsim::sim {

using namespace units;
using namespace detail;

namespace {
void record(const ConfigDoc& doc, const std::string& path, nlohmann::json v) {
  if (!doc.resolved) doc.resolved = std::make_shared<ResolvedConfig>();
  doc.resolved->set(path, std::move(v));
}

// "64MB": which reading is meant cannot be told, so the error says both and
// names the binary unit (what hmmsim read it as before it was refused).
std::string ambiguous_bytes(const std::string& written) {
  std::size_t at = written.size();
  while (at > 0 && std::isalpha(static_cast<unsigned char>(written[at - 1]))) --at;
  const std::string number = trim(written.substr(0, at)), unit = written.substr(at);
  const char prefix = static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0])));
  const int power = 1 + static_cast<int>(std::string("KMGTPE").find(prefix));
  return "'" + written + "' is ambiguous (" + unit + ": 10^" + std::to_string(3 * power) + " bytes in SI, 2^" +
         std::to_string(10 * power) + " by habit); write " + number + prefix + "iB for 2^" +
         std::to_string(10 * power) + ", or the number of bytes";
}
}  // namespace

// ---- ConfigReader ----------------------------------------------------------

ConfigReader::ConfigReader(const ConfigDoc& doc, const YAML::Node& map, std::string path)
    : doc_(&doc), map_(YAML::NodeType::Map), path_(std::move(path)), line_(0) {
  if (!map.IsDefined() || map.IsNull()) return;
  line_ = line_of(map.Mark());
  if (!map.IsMap()) throw_at(doc, path_, line_, "expected a map, " + got(map));
  map_.reset(map);
}

// yaml-cpp's Node::operator= writes through to the node it referred to (it
// would overwrite a map inside the document); reset() only rebinds.
ConfigReader& ConfigReader::operator=(const ConfigReader& other) {
  doc_ = other.doc_;
  map_.reset(other.map_);
  path_ = other.path_;
  line_ = other.line_;
  asked_ = other.asked_;
  return *this;
}

ConfigReader ConfigReader::root(const ConfigDoc& doc) {
  if (doc.root.IsDefined() && !doc.root.IsNull() && !doc.root.IsMap())
    throw ConfigError(doc.file, line_of(doc.root.Mark()), "",
                      "top level must be a map, " + got(doc.root));
  return ConfigReader(doc, doc.root, "");
}

bool ConfigReader::find(const std::string& key, Entry& out) const {
  return find_key(map_, key, out.key, out.value);
}

bool ConfigReader::take(const std::string& key, Entry& out) {
  asked_.insert(key);
  return find(key, out);
}

bool ConfigReader::has(const std::string& key) const {
  Entry e;
  return find(key, e);
}

ConfigReader ConfigReader::child(const std::string& key) {
  Entry e;
  if (!take(key, e)) {
    ConfigReader r(*doc_, YAML::Node(), key_path(key));
    r.line_ = line_;  // nothing to point at; the parent map is the best guess
    return r;
  }
  if (!e.value.IsMap() && !e.value.IsNull()) fail(key, "expected a map, " + got(e.value));
  ConfigReader r(*doc_, e.value, key_path(key));
  r.line_ = line_of(e.key.Mark());
  return r;
}

uint64_t ConfigReader::u64(const std::string& key, uint64_t def, uint64_t min, uint64_t max) {
  Entry e;
  if (!take(key, e)) return note(key, def);
  uint64_t v = 0;
  Parse p = e.value.IsScalar() ? parse_unsigned(e.value.Scalar(), v) : Parse::bad;
  if (p == Parse::bad) fail(key, "expected unsigned integer, " + got(e.value));
  if (p == Parse::overflow || v < min || v > max)
    fail(key, range_msg(e.value.Scalar(), std::to_string(min), std::to_string(max)));
  return note(key, v);
}

int64_t ConfigReader::i64(const std::string& key, int64_t def, int64_t min, int64_t max) {
  Entry e;
  if (!take(key, e)) return note(key, def);
  int64_t v = 0;
  Parse p = e.value.IsScalar() ? parse_signed(e.value.Scalar(), v) : Parse::bad;
  if (p == Parse::bad) fail(key, "expected integer, " + got(e.value));
  if (p == Parse::overflow || v < min || v > max)
    fail(key, range_msg(e.value.Scalar(), std::to_string(min), std::to_string(max)));
  return note(key, v);
}

double ConfigReader::real(const std::string& key, double def, double min, double max) {
  Entry e;
  if (!take(key, e)) return note(key, def);
  double v = 0;
  if (!e.value.IsScalar() || !parse_real(e.value.Scalar(), v))
    fail(key, "expected number, " + got(e.value));
  if (v < min || v > max) fail(key, range_msg(e.value.Scalar(), fmt_double(min), fmt_double(max)));
  return note(key, v);
}

bool ConfigReader::boolean(const std::string& key, bool def) {
  Entry e;
  if (!take(key, e)) return note(key, def);
  bool v = false;
  if (!e.value.IsScalar() || !parse_bool(e.value.Scalar(), v))
    fail(key, "expected boolean (true/false), " + got(e.value));
  return note(key, v);
}

std::string ConfigReader::str(const std::string& key, const std::string& def) {
  Entry e;
  if (!take(key, e)) return note(key, def);
  if (!e.value.IsScalar()) fail(key, "expected string, " + got(e.value));
  return note(key, e.value.Scalar());
}

std::string ConfigReader::choice(const std::string& key, const std::string& def,
                                 const std::vector<std::string>& allowed) {
  Entry e;
  if (!take(key, e)) return note(key, def);
  if (e.value.IsScalar())
    for (const auto& a : allowed)
      if (e.value.Scalar() == a) return note(key, a);
  fail(key, "expected one of [" + join(allowed, ", ") + "], " + got(e.value));
}

std::string ConfigReader::impl(const std::string& key, const std::string& def,
                               const std::vector<std::string>& registered) {
  Entry e;
  if (!take(key, e)) return note(key, def);
  if (e.value.IsScalar())
    for (const auto& a : registered)
      if (e.value.Scalar() == a) return note(key, a);
  fail(key, "unknown implementation " + (e.value.IsScalar() ? "'" + e.value.Scalar() + "'" : got(e.value)) +
                "; registered: " + join(registered, ", "));
}

void ConfigReader::check(const std::optional<common::SpecError>& err) const {
  if (err) fail(err->key, err->message);
}

uint64_t ConfigReader::bytes(const std::string& key, uint64_t def, uint64_t min, uint64_t max) {
  Entry e;
  if (!take(key, e)) return note(key, def);
  uint64_t v = 0;
  Parse p = e.value.IsScalar() ? parse_bytes(e.value.Scalar(), v) : Parse::bad;
  if (p == Parse::bad) fail(key, "expected byte size (e.g. 4096, 64KiB, 2MiB), " + got(e.value));
  if (p == Parse::ambiguous) fail(key, ambiguous_bytes(e.value.Scalar()));
  if (p == Parse::overflow || v < min || v > max)
    fail(key, range_msg(e.value.Scalar(), fmt_bytes(min), fmt_bytes(max)));
  return note(key, v);
}

double ConfigReader::time_ns(const std::string& key, double def, double min, double max) {
  Entry e;
  if (!take(key, e)) return note(key, def);
  double v = 0;
  if (!e.value.IsScalar() || !parse_time(e.value.Scalar(), v))
    fail(key, "expected time (e.g. 100ns, 45us, 1.5ms), " + got(e.value));
  if (v < min || v > max) fail(key, range_msg(e.value.Scalar(), fmt_ns(min), fmt_ns(max)));
  return note(key, v);
}

double ConfigReader::bandwidth(const std::string& key, double def, double min, double max) {
  Entry e;
  if (!take(key, e)) return note(key, def);
  double v = 0;
  if (!e.value.IsScalar() || !parse_bandwidth(e.value.Scalar(), v))
    fail(key, "expected bandwidth (e.g. 25.6GB/s, 16GiB/s, 200Gb/s; a plain number is GB/s), " + got(e.value));
  if (v < min || v > max) fail(key, range_msg(e.value.Scalar(), fmt_double(min) + "GB/s", fmt_double(max) + "GB/s"));
  return note(key, v);
}

std::vector<uint64_t> ConfigReader::u64_list(const std::string& key,
                                             const std::vector<uint64_t>& def) {
  Entry e;
  if (!take(key, e)) return note(key, def);
  if (!e.value.IsSequence()) fail(key, "expected list of unsigned integers, " + got(e.value));
  std::vector<uint64_t> out;
  std::size_t i = 0;
  for (const auto& item : e.value) {
    std::string where = key_path(key) + "[" + std::to_string(i++) + "]";
    uint64_t v = 0;
    Parse p = item.IsScalar() ? parse_unsigned(item.Scalar(), v) : Parse::bad;
    if (p == Parse::bad) fail_at(where, item.Mark(), "expected unsigned integer, " + got(item));
    if (p == Parse::overflow)
      fail_at(where, item.Mark(),
              range_msg(item.Scalar(), "0", std::to_string(std::numeric_limits<uint64_t>::max())));
    out.push_back(v);
  }
  return note(key, out);
}

std::vector<ConfigReader> ConfigReader::list(const std::string& key) {
  Entry e;
  std::vector<ConfigReader> out;
  if (!take(key, e) || !e.value || e.value.IsNull()) return out;
  if (!e.value.IsSequence()) fail(key, "expected a list");
  for (size_t i = 0; i < e.value.size(); ++i) {
    const std::string path = key_path(key) + "[" + std::to_string(i) + "]";
    const YAML::Node item = e.value[i];
    if (!item.IsMap()) fail_at(path, item.Mark(), "expected a map");
    out.emplace_back(*doc_, item, path);
  }
  return out;
}

const YAML::Node& ConfigReader::node() const { return map_; }
const std::string& ConfigReader::path() const { return path_; }

std::string ConfigReader::key_path(const std::string& key) const { return join_path(path_, key); }

void ConfigReader::mark_used(const std::string& key) {
  asked_.insert(key);
  Entry e;
  if (find(key, e)) record(*doc_, key_path(key), yaml_to_json(e.value));
}

void ConfigReader::keep_as_written(const std::string& key) {
  if (!has(key) && doc_->resolved) doc_->resolved->erase(key_path(key));
}

void ConfigReader::resolve_as(const std::string& key, const std::string& value) {
  record(*doc_, key_path(key), value);
}

uint64_t ConfigReader::note(const std::string& key, uint64_t v) { return record(*doc_, key_path(key), v), v; }
int64_t ConfigReader::note(const std::string& key, int64_t v) { return record(*doc_, key_path(key), v), v; }
double ConfigReader::note(const std::string& key, double v) { return record(*doc_, key_path(key), v), v; }
bool ConfigReader::note(const std::string& key, bool v) { return record(*doc_, key_path(key), v), v; }
std::string ConfigReader::note(const std::string& key, const std::string& v) {
  return record(*doc_, key_path(key), v), v;
}
std::vector<uint64_t> ConfigReader::note(const std::string& key, const std::vector<uint64_t>& v) {
  return record(*doc_, key_path(key), v), v;
}

void ConfigReader::finish() const {
  for (const auto& kv : map_) {
    std::string name = kv.first.IsScalar() ? kv.first.Scalar() : describe(kv.first);
    if (asked_.count(name)) continue;
    std::vector<std::string> known(asked_.begin(), asked_.end());  // std::set: already sorted
    fail_at(key_path(name), kv.first.Mark(),
            "unknown key; allowed keys here: " + (known.empty() ? "(none)" : join(known, ", ")));
  }
}

ConfigError ConfigReader::error(const std::string& key, const std::string& message) const {
  if (key.empty()) return error_at(*doc_, path_, line_, message);
  Entry e;
  if (!find(key, e)) return error_at(*doc_, key_path(key), line_, message);
  return error_at(*doc_, key_path(key), line_of(e.key.Mark()), message);
}

void ConfigReader::fail(const std::string& key, const std::string& message) const { throw error(key, message); }

void ConfigReader::fail_at(const std::string& keypath, const YAML::Mark& mark,
                           const std::string& message) const {
  throw_at(*doc_, keypath, line_of(mark), message);
}

}  // namespace hmmsim::sim
