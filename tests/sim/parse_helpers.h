#pragma once
// Config parsing from text, for the config tests.
#include <gtest/gtest.h>

#include <string>

#include "sim/config.h"
#include "sim/config_reader.h"

namespace hmmsim::sim::testing {

inline SimConfig parse_text(const std::string& yaml) { return parse_config(load_config_string(yaml, "t.yaml")); }

// parse_config of `yaml` must throw ConfigError; returns its what().
inline std::string error_of(const std::string& yaml) {
  try {
    parse_text(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << yaml;
  return "(no error thrown)";
}

}  // namespace hmmsim::sim::testing
