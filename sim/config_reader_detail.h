#pragma once
// Helpers config_reader.cpp (loading) and config_reader_typed.cpp (typed
// reading) share: where a key was written, how a value is shown in errors.
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "sim/config_reader.h"

namespace hmmsim::sim::detail {

int line_of(const YAML::Mark& m);  // 1-based, 0 if unknown
std::string join_path(const std::string& prefix, const std::string& key);
// The error for `keypath` at `line`, attributed to --set or to the file it came from.
ConfigError error_at(const ConfigDoc& doc, const std::string& keypath, int line, const std::string& message);
[[noreturn]] void throw_at(const ConfigDoc& doc, const std::string& keypath, int line, const std::string& message);
std::string describe(const YAML::Node& n);  // short rendering for messages
std::string got(const YAML::Node& n);       // "got '...'"
std::string join(const std::vector<std::string>& items, const char* sep);
std::string range_msg(const std::string& text, const std::string& min, const std::string& max);
bool find_key(const YAML::Node& map, const std::string& key, YAML::Node& k, YAML::Node& v);

}  // namespace hmmsim::sim::detail
