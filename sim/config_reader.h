// YAML configuration reading for the simulator front end.
//
// A config is loaded into a ConfigDoc (files with `include:` merged, --set
// overrides applied), then consumed through ConfigReader, which reads typed,
// range-checked values, remembers which keys were asked for and rejects the
// rest, so a misspelled key is an error instead of a silently ignored setting.
// Every error is a ConfigError naming the file, line and key path.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/registry.h"

namespace hmmsim::sim {

// Bad input: names the file, the line (1-based, 0 if unknown) and the key path
// ("gpu.tlb.l1.entries"). what() reads "<file>:<line>: <keypath>: <message>";
// the line is left out when it is 0 (so values from --set read
// "--set: <keypath>: <message>") and the key path when it is empty.
struct ConfigError : std::runtime_error {
  ConfigError(std::string file, int line, std::string key, std::string message);
  std::string file;
  int line;
  std::string key;
  std::string message;
};

// A loaded document.
struct ConfigDoc {
  YAML::Node root;
  std::string file;                   // the file that was loaded
  std::set<std::string> overridden;   // key paths set by --set
  // Key path -> file its value came from, for values merged in through
  // `include:`; a path takes the entry of its longest listed prefix, and
  // paths with none belong to `file`.
  std::map<std::string, std::string> sources;
  // What the readers resolved (sim/resolved_config.h); made by the first
  // reader that records a value, shared by copies made after that.
  mutable std::shared_ptr<struct ResolvedConfig> resolved;
};
// Note: copying a ConfigDoc shares its nodes, and nothing here edits them in
// place (apply_override rebuilds the maps on its path), so copies made before
// an override keep their values. But yaml-cpp's Node::operator= writes
// through: assigning over a ConfigDoc whose root is shared with another copy
// changes that copy too. Prefer constructing a new ConfigDoc.

// Loads a YAML file. Syntax errors and missing files -> ConfigError with the
// file and line (key ""). An optional top-level `include: [a.yaml, ...]`
// (paths relative to the including file) merges the listed files first, in
// order, then this file's keys on top (maps merge deeply; scalars and
// sequences replace). Include cycles are an error.
ConfigDoc load_config_file(const std::string& path);
// Same, from text; `name` stands in for the file name (and includes resolve
// relative to its directory).
ConfigDoc load_config_string(const std::string& yaml_text, const std::string& name);

// Applies "a.b.c=value". The value is parsed as YAML ("4", "true", "[1,2]",
// "2MiB", "{x: 1}"); an empty value is the empty string. Missing intermediate
// maps are created. Malformed assignments -> ConfigError with file "--set".
// Records the path in doc.overridden, plus the topmost map it had to create
// (so "--set gpu.new.x=1" records "gpu.new.x" and "gpu.new").
void apply_override(ConfigDoc& doc, const std::string& assignment);

// Typed reader over one YAML map. Tracks which keys were asked for; finish()
// rejects the rest. A null map (e.g. "gpu:" with nothing under it) reads as
// an empty one. Keeps a pointer to `doc`, which must outlive the reader.
class ConfigReader {
 public:
  // `path` is the map's key path ("" for the root). Throws ConfigError if
  // `map` is neither a map nor null.
  ConfigReader(const ConfigDoc& doc, const YAML::Node& map, std::string path);
  ConfigReader(const ConfigReader&) = default;
  // Rebinds instead of writing through to the document (see the ConfigDoc note).
  ConfigReader& operator=(const ConfigReader& other);
  // The root must be a map (or empty), else ConfigError.
  static ConfigReader root(const ConfigDoc& doc);

  bool has(const std::string& key) const;
  // Missing (or null) child -> an empty map reader, so every value takes its
  // default; present but not a map -> ConfigError. Call finish() on it too.
  ConfigReader child(const std::string& key);

  uint64_t u64(const std::string& key, uint64_t def, uint64_t min, uint64_t max);
  int64_t i64(const std::string& key, int64_t def, int64_t min, int64_t max);
  double real(const std::string& key, double def, double min, double max);
  // true/false, yes/no, on/off (any case).
  bool boolean(const std::string& key, bool def);
  std::string str(const std::string& key, const std::string& def);
  std::string choice(const std::string& key, const std::string& def,
                     const std::vector<std::string>& allowed);
  // A component family's `impl:` (common/registry.h): an unknown name is an
  // error that lists the registered ones.
  std::string impl(const std::string& key, const std::string& def, const std::vector<std::string>& registered);
  // Reports a Spec's validation failure (key relative to this map), if any.
  void check(const std::optional<common::SpecError>& err) const;
  // 4096, 0x1000, "512B", "4KiB", "2 MiB", "1.5GiB", "64K", "1G": every unit
  // is binary (K = Ki = KiB = 1024; M, G, T, P, E likewise). "8KB", "64MB"
  // are refused as ambiguous, with the binary unit suggested.
  uint64_t bytes(const std::string& key, uint64_t def, uint64_t min, uint64_t max);
  // A plain number is nanoseconds; units ps, ns, us (or µs), ms, s.
  double time_ns(const std::string& key, double def, double min, double max);
  // In GB/s (10^9 bytes/s): a plain number is GB/s; "25.6GB/s", "16GiB/s",
  // "200Gb/s" (bits) and the other units of units::parse_bandwidth convert.
  double bandwidth(const std::string& key, double def, double min, double max);
  std::vector<uint64_t> u64_list(const std::string& key, const std::vector<uint64_t>& def);

  // A list of maps: one reader per element, with path "key[i]". Missing or
  // null -> empty; anything else -> ConfigError. Call finish() on each.
  std::vector<ConfigReader> list(const std::string& key);

  const YAML::Node& node() const;
  const ConfigDoc& doc() const { return *doc_; }
  const std::string& path() const;
  std::string key_path(const std::string& key) const;  // "gpu.tlb" + "entries"

  // Marks a key as used without reading it (for keys read by other means);
  // its value, if present, goes into the resolved config as written.
  void mark_used(const std::string& key);
  // Accepts a key without reading or recording it (config.json's provenance).
  void ignore(const std::string& key) { asked_.insert(key); }
  // Records `value` as the resolved value of `key` instead of what the file
  // says (e.g. a path made absolute).
  void resolve_as(const std::string& key, const std::string& value);
  // Keeps `key` out of the resolved config unless the file gives it: for
  // keys whose mere presence changes what others mean.
  void keep_as_written(const std::string& key);
  // Throws ConfigError on the first unread key (in document order):
  // "unknown key; allowed keys here: a, b, c" (the keys asked about, sorted).
  void finish() const;
  // ConfigError located at `key` (or at this map if `key` is empty).
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  // The same error, returned: for checks made after parsing (keep its
  // file, line and key, and throw a copy with the real message).
  ConfigError error(const std::string& key, const std::string& message) const;

 private:
  // The value of `key` in this map, with the key node (for its line).
  struct Entry {
    YAML::Node key;
    YAML::Node value;
  };
  bool find(const std::string& key, Entry& out) const;
  // Record the value a typed read returns, and return it.
  uint64_t note(const std::string& key, uint64_t v);
  int64_t note(const std::string& key, int64_t v);
  double note(const std::string& key, double v);
  bool note(const std::string& key, bool v);
  std::string note(const std::string& key, const std::string& v);
  std::vector<uint64_t> note(const std::string& key, const std::vector<uint64_t>& v);
  // Registers `key` as known and returns its entry if present.
  bool take(const std::string& key, Entry& out);
  [[noreturn]] void fail_at(const std::string& keypath, const YAML::Mark& mark,
                            const std::string& message) const;

  const ConfigDoc* doc_;
  YAML::Node map_;
  std::string path_;
  int line_;  // 1-based line of this map (its key in the parent), 0 if unknown
  std::set<std::string> asked_;  // keys the caller read, checked or marked used
};

}  // namespace hmmsim::sim
