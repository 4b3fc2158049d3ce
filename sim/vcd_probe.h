#pragma once
// signals.vcd (run.vcd): chosen stats.json counters as VCD signals, for
// waveform viewers (GTKWave, Surfer). A SystemC thread samples them every
// period into sc_signals traced with sc_trace; the VCD holds their changes
// only. Dots in a name become scopes (gpu.gmmu.faults: gpu > gmmu > faults).
// Like the timeseries sampler, it stops once nothing it watches has changed
// for 10 ms of simulated time, so it never keeps a finished run alive.
#include <systemc>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace hmmsim::sim {

class VcdProbe : public sc_core::sc_module {
 public:
  // `file` is the VCD's path without ".vcd".
  VcdProbe(sc_core::sc_module_name name, const std::string& file, double period_ns);
  ~VcdProbe() override;
  void signal(const std::string& name, std::function<double()> read);
  // Closes the file, adds the values at the end of the run (the last
  // sample may be up to a period older) and replaces its $date (the host's
  // clock) so that identical runs give identical files.
  void close();

 private:
  void run();
  struct Probe {
    std::string name;
    std::function<double()> read;
    std::unique_ptr<sc_core::sc_signal<uint64_t>> sig;
  };
  std::string m_file;
  double m_period_ns;
  sc_core::sc_trace_file* m_tf = nullptr;
  std::vector<Probe> m_probes;
};

}  // namespace hmmsim::sim
