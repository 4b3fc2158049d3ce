#pragma once
// `hmmsim sweep FILE`: runs one experiment at many points of its parameter
// space, each point an independent `hmmsim run` process, N at a time (or one
// Slurm array task each, sim/sweep_slurm.h), and merges the points' stats
// into one results.csv (docs/sweeps.md).
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/config_reader.h"
#include "sim/sweep_slurm_spec.h"

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
  SlurmSpec slurm;     // resources per point under --slurm
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
  bool jobs_given = false;  // -j was given: under --slurm, the array's limit
  bool quiet = false;
  bool slurm = false;  // submit a Slurm job array instead of running here
  bool wait = false;   // --slurm: wait for the array and merge here
};

// Runs every point with `exe` (this hmmsim), writes OUT/sweep.json,
// OUT/point-NNN/ and OUT/results.csv. Returns 0 when every point passed, 1
// when one failed (the others still ran), 2 for a bad sweep file. With
// opt.slurm, submits the points instead (sim/sweep_slurm.h).
int run_sweep(const std::string& exe, const std::string& file, const SweepOptions& opt, std::ostream& out,
              std::ostream& err);

// `hmmsim sweep collect DIR`: merges the points of DIR/sweep.json that have
// finished into DIR/results.csv. 0 when every point passed, 1 when one
// failed or has not finished, 2 when DIR is not a sweep's folder.
int collect_sweep(const std::string& dir, std::ostream& out, std::ostream& err);

// `hmmsim sweep run-point DIR N` (what a Slurm array task runs): runs point
// N of DIR/sweep.json exactly as a local sweep does and records its exit
// code. Returns that exit code (2 for a bad DIR or N).
int run_sweep_point(const std::string& exe, const std::string& dir, size_t index, std::ostream& out,
                    std::ostream& err);

}  // namespace hmmsim::sim
