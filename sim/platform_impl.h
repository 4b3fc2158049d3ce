#pragma once
// The platform's insides, shared by platform.cpp (assembly, run, summary)
// and platform_stats.cpp (what stats.json holds).
#include <memory>
#include <string>
#include <vector>

#include "common/event_trace.h"
#include "host/common/lock.h"
#include "host/gpu_driver/gpu_driver.h"
#include "host/mm/address_space.h"
#include "hw/gpu.h"
#include "sim/cpu_process.h"
#include "sim/host_program.h"
#include "sim/host_ram.h"
#include "sim/kernel_stats.h"
#include "sim/access_fanout.h"
#include "sim/oracle.h"
#include "sim/platform.h"
#include "sim/program.h"
#include "sim/workload.h"
#include "tlm_bridge/device_bus_tlm.h"
#include "tlm_bridge/driver_thread.h"
#include "tlm_bridge/irq_controller.h"
#include "tlm_bridge/pcie_link.h"
#include "sim/timeseries.h"
#include "sim/vcd_probe.h"
#include "tlm_bridge/root_complex.h"
#include "workload/native/native_recorder.h"

namespace hmmsim::sim {

struct Platform::Impl {
  explicit Impl(const SimConfig& c);

  void register_stats();
  void register_host_stats();
  struct ErrorCounter {
    std::string name;
    const uint64_t* value;
    const char* desc;
  };
  // Counters that must stay zero: any other value fails the run.
  std::vector<ErrorCounter> error_counters();
  std::string summary(const RunResult& r);
  std::string summary_details();  // phases, TLB hit rates, evictions, PCIe, fault latency
  static double now_ns();
  bool runner_done() const;
  const std::string& runner_error() const;

  const SimConfig cfg;
  // timeline.json, null when off; declared first, so it outlives the
  // components that hold a pointer to it.
  std::unique_ptr<common::EventTrace> trace;
  Program program;  // workload.kind: program (built before any SystemC module)
  const bool legacy;  // workload.kind: vector_update
  // Everything that may reject bad input comes before the first SystemC module.
  std::unique_ptr<workload::NativeRecorder> recorder;  // --record
  host::HostSystem sys;
  std::unique_ptr<host::AddressSpace> mm_owner;  // torn down before the driver
  host::AddressSpace& mm;
  WorkloadPlan plan;
  std::unique_ptr<hw::IKernelSource> kernel;  // vector_update's (or its replay)
  DataOracle oracle;
  std::unique_ptr<AccessFanout> fanout;  // the SMs' observer
  bridge::IrqController irq;
  bridge::RootComplex root;
  bridge::PcieLink link;
  hw::Gpu gpu;
  bridge::TlmDeviceBus bus;
  bridge::ScLock lock;
  host::GpuDriver driver;
  bridge::DriverThread driver_thread;
  HostRamWatch ram_watch;  // host.ram running out stops the run (sim/host_ram.h)
  std::unique_ptr<CpuProcess> cpu;    // vector_update
  std::unique_ptr<HostProgram> prog;  // program
  Stats stats;
  std::unique_ptr<KernelStats> kstats;
  std::unique_ptr<TimeSeries> series;  // timeseries.csv
  std::unique_ptr<VcdProbe> vcd;               // signals.vcd, null when off
  void attach_vcd();
  double vram_used_bytes() const;
  void attach_trace();
  void record_kernels();  // the kernels' slices, once the run has ended
  void add_timeseries_columns();
  std::unique_ptr<hw::IKernelSource> recording;  // the kernel running through the recorder
  void launch(hw::IKernelSource& k);
  void kernel_ended(size_t k);
  double sim_ns = 0, kernel_ns = 0, footprint_bytes = 0;
};

}  // namespace hmmsim::sim
