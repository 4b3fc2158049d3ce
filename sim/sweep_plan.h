#pragma once
// A sweep's output folder OUT: OUT/sweep.json lists the points (all that
// running one and merging them needs, so a Slurm array task or a later
// `hmmsim sweep collect` does not read the sweep file again); each point
// runs in OUT/point-NNN/ and leaves its exit code there; results.csv merges
// them. The local and the Slurm path share all of it (docs/sweeps.md).
#include <sys/types.h>

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "sim/sweep.h"

namespace hmmsim::sim {

struct SweepPlan {
  std::string name;
  std::string base;              // the experiment config, as the points' command lines name it
  std::vector<std::string> set;  // overrides for every point
  std::vector<std::string> keys;   // the parameters, results.csv's columns
  std::vector<std::string> stats;  // stats.json paths, results.csv's columns
  std::vector<SweepPoint> points;
};

SweepPlan make_plan(const SweepSpec& spec, const std::vector<SweepPoint>& points);

// OUT/point-NNN
std::string point_dir(const std::string& out, size_t index);
// "gpu.sms=2, driver.prefetch.impl=none"
std::string point_text(const SweepPoint& p);

// Creates OUT and writes OUT/sweep.json; forgets earlier exit codes of these
// points and an earlier results.csv. False (with a message on err) if OUT
// cannot be written.
bool write_plan(const std::string& out, const SweepPlan& plan, std::ostream& err);
// Reads OUT/sweep.json; throws std::runtime_error saying what is wrong.
SweepPlan read_plan(const std::string& out);

// Starts point `index`: `exe run BASE --set ... -q --out OUT/point-NNN`,
// stdout and stderr to OUT/point-NNN/log.txt. Returns the child's pid, or -1.
pid_t start_point(const std::string& exe, const SweepPlan& plan, const std::string& out, size_t index);
// A waitpid status as an exit code (128 + signal when killed).
int exit_code_of(int wait_status);
// OUT/point-NNN/exit_code: written when the point's run has ended.
void record_exit_code(const std::string& out, size_t index, int code);
std::optional<int> recorded_exit_code(const std::string& out, size_t index);

// Writes OUT/results.csv from the points that have an exit code, and reports
// the failed and the missing ones on err. 0: every point passed; 1: one
// failed or is missing; 2: results.csv cannot be written.
int merge_results(const std::string& out_dir, const SweepPlan& plan, std::ostream& out, std::ostream& err);

}  // namespace hmmsim::sim
