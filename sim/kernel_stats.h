#pragma once
// Per-kernel figures: what each kernel launch changed (instructions,
// accesses, translations, faults, migrations, PCIe bytes), how long it ran
// (in ns and in GPU cycles, with warp instructions per cycle) and whether
// it finished, under kernels.<label>.* in stats.json. Snapshots of the
// run's own counters at launch and at completion; nothing is counted twice.
// A kernel the run stopped in (watchdog, deadlock, failure) reports its
// figures up to the stop, with finished = 0.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/stats.h"

namespace hmmsim::sim {

class KernelStats {
 public:
  struct Kernel {
    std::string label, name, origin;
  };
  // Registers kernels.<label>.* in `stats` for each kernel; cycles are of
  // the GPU clock (gpu.clock_mhz).
  KernelStats(Stats& stats, std::vector<Kernel> kernels, double clock_mhz);
  void begin(size_t k, double now_ns);
  void end(size_t k, double now_ns);  // the kernel completed
  // A run stopped mid-kernel: close what is open (not finished), so its
  // figures are changes up to the stop too.
  void end_open(double now_ns);
  // Adds each kernel's name and origin (strings) to a stats.json document.
  void annotate(nlohmann::json& stats_json) const;
  size_t launched() const { return m_launched; }
  size_t planned() const { return m_kernels.size(); }  // kernels the run will launch
  double start_ns(size_t k) const { return m_start_ns.at(k); }
  bool begun(size_t k) const { return m_begun.at(k); }
  bool finished(size_t k) const { return m_finished.at(k) != 0; }
  const Kernel& kernel(size_t k) const { return m_kernels.at(k); }
  double time_ns(size_t k) const { return m_time_ns.at(k); }
  size_t unfinished() const;     // launched but stopped before completing
  double total_time_ns() const;  // kernels' time_ns summed (a stopped one up to the stop)
  double cycles(double ns) const;  // ns in whole GPU cycles

 private:
  Stats& m_stats;
  std::vector<Kernel> m_kernels;
  std::vector<std::vector<double>> m_values;  // [kernel][path]: at begin the base, at end the change
  void close(size_t k, double now_ns);
  double m_clock_mhz;
  std::vector<double> m_start_ns, m_time_ns, m_finished;
  std::vector<bool> m_open, m_begun;
  size_t m_launched = 0;
};

}  // namespace hmmsim::sim
