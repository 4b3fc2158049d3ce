// The config as the readers resolved it: every key a reader asked for, with
// its default filled in where the file left it out, in canonical form
// (bytes as integers, times in ns). Written to OUT/config.json, which
// `hmmsim run` reads back to reproduce the run.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace hmmsim::sim {

struct ResolvedConfig {
  nlohmann::json tree = nlohmann::json::object();
  // Sets the value at a reader key path ("workload.buffers[0].bytes"),
  // creating the maps and lists on the way.
  void set(const std::string& path, nlohmann::json value);
  // Removes the value at a reader key path, if any.
  void erase(const std::string& path);
};

// A YAML node as JSON, every scalar as a string (the readers parse the text).
nlohmann::json yaml_to_json(const YAML::Node& n);

}  // namespace hmmsim::sim
