#pragma once
// The `hmmsim sweep` command line: `sweep FILE [-j N] [--slurm [--wait]]`,
// `sweep collect DIR` and the hidden `sweep run-point DIR N` that a Slurm
// array task runs (sim/sweep.h).
#include <iosfwd>
#include <string>

#include "sim/sweep.h"

namespace CLI {
class App;
}

namespace hmmsim::sim {

struct SweepCommandArgs {
  std::string file;
  SweepOptions opt;
  std::string dir;   // collect, run-point
  size_t index = 0;  // run-point
  CLI::App* sweep = nullptr;
  CLI::App* collect = nullptr;
  CLI::App* run_point = nullptr;
};

// Adds `sweep` and its subcommands to `app`; returns `sweep`.
CLI::App* add_sweep_command(CLI::App& app, SweepCommandArgs& a);
// After parsing, when `sweep` was given; `exe` is this hmmsim (absolute).
int sweep_command(const SweepCommandArgs& a, const std::string& exe, std::ostream& out, std::ostream& err);

}  // namespace hmmsim::sim
