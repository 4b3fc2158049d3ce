#pragma once
// Scenario scripts: YAML steps that drive the host mm model and the test
// devices (mmap, munmap, mprotect, mremap, madvise, fork, CPU reads and
// writes with patterns, device commands) with expectations on every step.
// The language is documented in docs/scenarios.md. No SystemC: scenarios
// check HMM semantics, not timing.
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/config_reader.h"

namespace hmmsim::sim {

struct ScenarioResult {
  int exit_code = 0;          // 0 every expectation held, 1 one failed
  std::string failure;        // "step N (verb, line L): what differed"
  nlohmann::json report;      // per-step outcomes and final counters
  uint64_t steps_run = 0;
};

// True if the document is a scenario (has a top-level `scenario` key).
bool is_scenario(const ConfigDoc& doc);
// Runs it. Bad keys or values throw ConfigError (exit 2 for the caller).
ScenarioResult run_scenario(const ConfigDoc& doc);

}  // namespace hmmsim::sim
