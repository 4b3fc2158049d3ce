#pragma once
// A sweep file's `slurm:` section: what each point asks of Slurm when the
// sweep runs with --slurm (docs/sweeps.md, sim/sweep_slurm.h).
#include <cstdint>
#include <string>
#include <vector>

#include "sim/config_reader.h"

namespace hmmsim::sim {

struct SlurmSpec {
  std::string time = "1:00:00";  // per point: sbatch --time
  uint64_t mem_mib = 4096;       // per point: sbatch --mem, in MiB
  uint64_t cpus_per_task = 1;    // hmmsim run is single-threaded
  std::string partition;         // empty: the cluster's default
  std::string account;           // empty: the user's default
  uint64_t max_parallel = 0;     // at most this many points at once (--array=...%N); 0: no limit
  std::vector<std::string> options;  // more sbatch options, each as one argument ("--qos=short")
};

// Reads `slurm:` under the sweep map `sweep` (defaults when absent). Throws
// ConfigError naming the file, line and key.
SlurmSpec parse_slurm_spec(ConfigReader& sweep);

// A Slurm time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or
// UNLIMITED (sbatch --time).
bool is_slurm_time(const std::string& s);

}  // namespace hmmsim::sim
