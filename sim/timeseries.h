#pragma once
// timeseries.csv: chosen counters sampled every epoch of simulated time,
// as changes over the epoch (accesses, faults, pages moved, bytes) or as
// levels at its end (VRAM in use). A SystemC thread wakes once per epoch;
// it stops after `idle_epochs` epochs in which nothing it watches changed,
// so that a run whose threads have all stopped still ends (and is reported
// as a deadlock) instead of being kept alive by the sampler. Rows are
// bounded: at `max_rows` neighbouring rows merge and the epoch doubles.
#include <systemc>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hmmsim::sim {

struct TimeSeriesSpec {
  double epoch_ns = 10000;  // 0: off
  uint64_t max_rows = 100000;
  uint64_t idle_epochs = 1000;
};

class TimeSeries : public sc_core::sc_module {
 public:
  TimeSeries(sc_core::sc_module_name name, const TimeSeriesSpec& spec);
  // A column: `delta` ones report the change of `read()` over the epoch,
  // the others its value at the epoch's end.
  void column(const std::string& name, std::function<double()> read, bool delta);
  // The last, partial epoch up to `now_ns`, then the CSV text.
  std::string csv(double now_ns);
  double epoch_ns() const { return m_epoch_ns; }

 private:
  void run();
  void sample(double now_ns);
  void halve();  // merges neighbouring rows, doubling the epoch

  struct Column {
    std::string name;
    std::function<double()> read;
    bool delta;
    double last = 0;
  };
  const TimeSeriesSpec m_spec;
  double m_epoch_ns;
  std::vector<Column> m_cols;
  std::vector<std::vector<double>> m_rows;  // [0] is the epoch's end time in ns
  double m_last_ns = 0;
};

}  // namespace hmmsim::sim
