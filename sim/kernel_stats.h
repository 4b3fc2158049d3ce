#pragma once
// Per-kernel figures: what each kernel launch changed (instructions,
// accesses, translations, faults, migrations, PCIe bytes) and how long it
// ran, under kernels.<label>.* in stats.json. Snapshots of the run's own
// counters at launch and at completion; nothing is counted twice.
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
  // Registers kernels.<label>.* in `stats` for each kernel.
  KernelStats(Stats& stats, std::vector<Kernel> kernels);
  void begin(size_t k, double now_ns);
  void end(size_t k, double now_ns);
  // A run stopped mid-kernel: close what is open, so its figures are changes too.
  void end_open(double now_ns);
  // Adds each kernel's name and origin (strings) to a stats.json document.
  void annotate(nlohmann::json& stats_json) const;
  size_t launched() const { return m_launched; }
  double total_time_ns() const;  // kernels' time_ns summed (a stopped one up to the stop)

 private:
  Stats& m_stats;
  std::vector<Kernel> m_kernels;
  std::vector<std::vector<double>> m_values;  // [kernel][path]: at begin the base, at end the change
  std::vector<double> m_start_ns, m_time_ns;
  std::vector<bool> m_open;
  size_t m_launched = 0;
};

}  // namespace hmmsim::sim
