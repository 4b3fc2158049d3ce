#pragma once
// Builds the whole system from a SimConfig: host memory, the process, the
// GPU driver, the PCIe link, the GPU, and the workload's CPU thread; binds
// the sockets and registers every statistic. One platform per process
// (SystemC elaborates once).
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/config.h"
#include "sim/stats.h"

namespace hmmsim::sim {

struct RunResult {
  int exit_code = 0;              // 0 ok, 1 failed expectation / fatal simulated error, 2 bad input
  std::string input_error;        // bad input found while running (a malformed trace)
  std::vector<std::string> problems;
  // A simulated resource ran out and ended the run ("host RAM exhausted:
  // ..."); also the first problem. The command line repeats it on stderr.
  std::string fatal;
  nlohmann::json stats;
  std::string summary;
  std::string timeseries;  // timeseries.csv, empty when off
  // The simulation stopped with threads suspended mid-way (watchdog,
  // deadlock): their stacks cannot be unwound, so the caller must not run
  // the normal teardown either.
  bool incomplete = false;
  int signal = 0;  // SIGINT / SIGTERM stopped the run: the outputs are partial
  double wall_s = 0;      // host time the simulation took
  std::string host_line;  // wall time and rates, for stdout (not summary.txt: it varies)
};

// SIGINT and SIGTERM stop a run between slices of simulated time, after
// which its outputs are written, marked partial. Installed by the CLI.
void install_stop_signals();

class Platform {
 public:
  explicit Platform(const SimConfig& cfg);
  ~Platform();
  RunResult run();
  Stats& stats();
  // timeline.json (sim/timeline.h); none when run.timeline_max_events is 0.
  bool has_timeline() const;
  bool write_timeline(const std::string& config, const std::string& version, std::ostream& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace hmmsim::sim
