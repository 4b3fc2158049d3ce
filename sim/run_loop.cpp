#include "sim/run_loop.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>

#include <systemc>

#include "sim/platform.h"

namespace hmmsim::sim {

namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int sig) { g_stop_signal.store(sig); }

constexpr double kSliceNs = 100000;  // 100 us of simulated time

using Clock = std::chrono::steady_clock;

void draw(double sim_ns, double max_ns, const RunProgress& p, double wall_s) {
  // Work: kernels, the running one by its CTAs dispatched.
  double frac = -1;
  if (p.kernels_planned) {
    const double in_kernel = p.grid_ctas ? double(p.ctas_dispatched) / double(p.grid_ctas) : 0.0;
    frac = std::min(1.0, (double(p.kernels_done) + (p.kernels_done < p.kernels_planned ? in_kernel : 0.0)) /
                             double(p.kernels_planned));
  }
  char eta[32] = "";
  if (frac > 0.01 && frac < 1) {
    const double left = wall_s * (1 - frac) / frac;
    std::snprintf(eta, sizeof eta, ", ETA %.0f s", left);
  }
  char work[48] = "";
  if (frac >= 0) std::snprintf(work, sizeof work, ", %.0f %% of the kernels' CTAs", 100 * frac);
  std::fprintf(stderr, "\r\033[Khmmsim: %.3f ms simulated (watchdog %.0f ms)%s, %.2f M warp instr/s%s", sim_ns / 1e6,
               max_ns / 1e6, work, wall_s > 0 ? p.warp_instructions / wall_s / 1e6 : 0.0, eta);
  std::fflush(stderr);
}

}  // namespace

void install_stop_signals() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

RunLoopResult run_sliced(double max_sim_time_ns, const std::function<RunProgress()>* progress) {
  using namespace sc_core;
  RunLoopResult r;
  const auto t0 = Clock::now();
  auto last_draw = t0;
  bool drawn = false;
  while (true) {
    const double now = sc_time_stamp().to_seconds() * 1e9;
    if (now >= max_sim_time_ns) break;
    sc_start(sc_time(std::min(kSliceNs, max_sim_time_ns - now), SC_NS));
    if (sc_get_status() == SC_STOPPED || sc_end_of_simulation_invoked()) break;
    if (!sc_pending_activity()) break;  // nothing left to happen: done or deadlocked
    if (const int sig = g_stop_signal.load()) {
      r.signal = sig;
      break;
    }
    if (progress && Clock::now() - last_draw > std::chrono::milliseconds(500)) {
      last_draw = Clock::now();
      draw(sc_time_stamp().to_seconds() * 1e9, max_sim_time_ns, (*progress)(),
           std::chrono::duration<double>(last_draw - t0).count());
      drawn = true;
    }
  }
  if (drawn) std::fprintf(stderr, "\r\033[K");  // the summary follows on a clean line
  return r;
}

}  // namespace hmmsim::sim
