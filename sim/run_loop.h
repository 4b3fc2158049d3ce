#pragma once
// Runs the simulation in slices of simulated time up to run.max_sim_time.
// Between slices (outside the simulation) it notices SIGINT / SIGTERM and
// stops, and, on a terminal, redraws a progress line on stderr at most
// twice a second. Slicing changes nothing simulated: the scheduler resumes
// where it paused.
#include <cstdint>
#include <functional>

namespace hmmsim::sim {

struct RunProgress {
  uint64_t kernels_done = 0, kernels_planned = 0;
  uint64_t ctas_dispatched = 0, grid_ctas = 0;  // the running kernel
  uint64_t warp_instructions = 0;
};

struct RunLoopResult {
  int signal = 0;  // the signal that stopped it, else 0
};

// `progress` is null without a progress line.
RunLoopResult run_sliced(double max_sim_time_ns, const std::function<RunProgress()>* progress);

}  // namespace hmmsim::sim
