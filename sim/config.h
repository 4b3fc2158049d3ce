#pragma once
// The typed experiment description. Each block has its own Spec (no god
// object); parse_config() validates every key and value against the YAML
// and throws ConfigError naming file, line and key.
#include <cstdint>
#include <string>
#include <vector>

#include "common/page_store.h"
#include "host/gpu_driver/driver_spec.h"
#include "hw/gpu.h"
#include "sim/config_reader.h"
#include "sim/program.h"
#include "tlm_bridge/device_bus_tlm.h"
#include "tlm_bridge/pcie_link.h"
#include "tlm_bridge/root_complex.h"

namespace hmmsim::sim {

struct RunSpec {
  uint64_t seed = 1;
  common::DataMode data = common::DataMode::Full;  // full | tag | off
  double max_sim_time_ns = 1e9;  // watchdog: a run longer than this is a hang (1 s: an oversubscribed 64 MiB run takes 0.16 s)
  double timeseries_epoch_ns = 10000;  // timeseries.csv: one row per epoch; 0: none
  uint64_t timeseries_max_rows = 100000;  // at this many rows, neighbours merge and the epoch doubles
  uint64_t timeline_max_events = 100000;  // timeline.json keeps the first this many events; 0: no timeline
  // signals.vcd (run.vcd): these stats.json counters (or vram_used_bytes)
  // sampled every vcd_period_ns; none: no VCD. The file is named by the CLI.
  std::vector<std::string> vcd_signals;
  double vcd_period_ns = 10;
  std::string vcd_file;
  // From the command line, not the config: record the warp instructions
  // executed (native trace), or run recorded ones instead of the kernels'.
  std::string record_path, replay_path;
  bool progress = false;  // a progress line on stderr (a terminal, not --quiet)
};

struct HostSpec {
  uint64_t ram_bytes = 256ull << 20;
  double cpu_page_access_ns = 250;  // CPU touching one page (load/store loop)
  bridge::HostCpuSpec cpu;
  bridge::RootComplexSpec root;
};

// kind vector_update: out[k] = in[k] + 1 over two host buffers, plus reads
// of a small table the program asked to keep in host memory (remote-mapped).
// kind program: buffers, steps (kernels from the synthetic library or from
// traces, CPU writes and reads, ...) and CPU threads (sim/program.h).
struct WorkloadSpec {
  std::string kind = "vector_update";
  ProgramSpec program;
  uint64_t base_va = 0x7f0000000000ull;
  uint32_t pages = 16;               // pages per buffer (in, out)
  uint32_t cpu_init_pages = 12;      // pages of `in` the CPU writes before launch
  uint32_t lut_pages = 4;            // table kept in host memory
  uint32_t lut_cpu_init_pages = 2;   // pages of the table the CPU writes
  uint32_t warps_per_sm = 4;
  uint32_t access_bytes = 128;       // 32 lanes x 4 B
  uint32_t gap_cycles = 20;
  bool cpu_readback = true;          // CPU reads every buffer after the kernel
  uint32_t cpu_touch_pages = 0;      // CPU reads these pages of `in` while the kernel runs
  double cpu_touch_interval_ns = 5000;
  uint32_t stray_loads = 0;          // loads of an unmapped address at the end of one warp (fatal faults)
};

struct SimConfig {
  std::string source;  // file the config came from
  RunSpec run;
  HostSpec host;
  bridge::PcieSpec pcie;
  hw::GpuSpec gpu;
  host::DriverSpec driver;
  WorkloadSpec workload;
  // Where gpu.vram.capacity was set, for the check made once the program's
  // buffers are known.
  Origin vram_at;
  Origin vcd_at;  // run.vcd.signals, for names checked once the stats exist
};

SimConfig parse_config(const ConfigDoc& doc);

}  // namespace hmmsim::sim
