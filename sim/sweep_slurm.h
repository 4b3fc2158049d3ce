#pragma once
// `hmmsim sweep FILE --slurm`: writes OUT/sweep.json and a Slurm job array
// with one task per point (OUT/slurm/sweep.sbatch: each task runs
// `hmmsim sweep run-point OUT N`, the local sweep's command line for that
// point), submits it with sbatch, then either submits a job that merges
// the points when the array has finished (`hmmsim sweep collect OUT`,
// --dependency=afterany) or, with --wait, waits for the array and merges
// here. docs/sweeps.md.
#include <iosfwd>
#include <string>

#include "sim/sweep.h"
#include "sim/sweep_plan.h"

namespace hmmsim::sim {

// What the two batch scripts are made of.
struct SlurmScriptInput {
  std::string exe;      // this hmmsim, absolute
  std::string cwd;      // where the sweep was submitted from: the tasks run there
  std::string out;      // OUT as given (relative to cwd, as the local sweep names it)
  std::string out_abs;  // OUT, absolute: Slurm's own output files go to OUT/slurm/
  std::string name;     // the sweep's name
  size_t points = 0;
  SlurmSpec spec;
};

// OUT/slurm/sweep.sbatch: the job array, one task per point.
std::string slurm_array_script(const SlurmScriptInput& in);
// OUT/slurm/collect.sbatch: `hmmsim sweep collect OUT`.
std::string slurm_collect_script(const SlurmScriptInput& in);

// Submits the sweep. Returns 0 once submitted (or, with opt.wait, what the
// merge returns: 0 every point passed, 1 one failed or is missing), 2 when
// sbatch is not found or refuses the job, or OUT cannot be written.
int submit_slurm_sweep(const std::string& exe, const std::string& out_dir, const SweepPlan& plan,
                       const SlurmSpec& slurm, const SweepOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace hmmsim::sim
