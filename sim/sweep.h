#pragma once
// `hmmsim sweep FILE`: runs one experiment at many points of its parameter
// space, each point an independent `hmmsim run` process, N at a time, and
// merges the points' stats into one results.csv (docs/sweeps.md).
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/config_reader.h"

namespace hmmsim::sim {

struct SweepParameter {
  std::string key;                  // a config key path, as for --set
  std::vector<std::string> values;  // as --set text
};

struct SweepSpec {
  std::string file;    // the sweep file
  std::string name;    // the output folder's name (default: the file's stem)
  std::string base;    // the experiment config, relative to the sweep file
  std::vector<std::string> set;  // overrides for every point
  std::vector<SweepParameter> parameters;
  bool zip = false;    // points are the i-th values of every parameter, else their product
  std::vector<std::string> stats;  // stats.json paths in results.csv
};

// One point: its overrides, in parameter order.
struct SweepPoint {
  std::vector<std::pair<std::string, std::string>> values;
};

// Throws ConfigError naming the sweep file, line and key.
SweepSpec parse_sweep(const ConfigDoc& doc);
std::vector<SweepPoint> expand(const SweepSpec& s);

struct SweepOptions {
  std::string out_dir;  // default out/<name>
  unsigned jobs = 1;
  bool quiet = false;
};

// Runs every point with `exe` (this hmmsim), writes OUT/point-NNN/ and
// OUT/results.csv. Returns 0 when every point passed, 1 when one failed
// (the others still ran), 2 for a bad sweep file.
int run_sweep(const std::string& exe, const std::string& file, const SweepOptions& opt, std::ostream& out,
              std::ostream& err);

}  // namespace hmmsim::sim
