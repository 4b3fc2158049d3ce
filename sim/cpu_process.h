#pragma once
// The host process as a simulated CPU thread: it maps and initialises its
// buffers, launches the GPU kernel, waits for it, and reads everything
// back. Its loads of pages living in VRAM take CPU faults that migrate them
// back (through the driver, in this thread's simulated time).
#include <cstdint>
#include <functional>
#include <vector>

#include <systemc>

#include "common/event_trace.h"
#include "host/gpu_driver/gpu_driver.h"
#include "host/mm/address_space.h"
#include "sim/cpu_memory.h"
#include "sim/oracle.h"
#include "sim/workload.h"

namespace hmmsim::sim {

class CpuProcess : public sc_core::sc_module {
 public:
  struct Hooks {
    std::function<const sc_core::sc_event&()> driver_ready;
    std::function<bool()> driver_is_ready;
    std::function<void()> launch;
    std::function<const sc_core::sc_event&()> kernel_done;
    std::function<bool()> kernel_finished;
    std::function<void()> kernel_end;
  };
  CpuProcess(sc_core::sc_module_name name, host::AddressSpace& mm, host::GpuDriver& driver,
             const WorkloadPlan& plan, const WorkloadSpec& spec, double page_access_ns,
             DataOracle& oracle, Hooks hooks);

  bool done() const { return m_done; }
  const std::string& error() const { return m_error; }
  // Its phases on a "CPU main thread" track; migrate-backs nest inside.
  void set_trace(common::EventTrace* trace) {
    m_trace = trace;
    if (trace) m_track = trace->track("Host", "CPU main thread");
  }

  uint64_t s_pages_written = 0, s_pages_read = 0, s_pages_touched = 0;
  const uint64_t& retries() const { return m_mem.s_retries; }
  uint64_t s_semantic_errors = 0;

 private:
  void run();
  void body();
  // One page of `b` at `off`; on failure m_error says `phase`, the buffer and the page.
  bool touch(const Buffer& b, uint64_t off, uint8_t* buf, bool write, const char* phase);
  void check_out_page(uint64_t off, const std::vector<uint8_t>& out);

  host::AddressSpace& m_mm;
  host::GpuDriver& m_driver;
  const WorkloadPlan& m_plan;
  const WorkloadSpec m_spec;
  CpuMemory m_mem;
  DataOracle& m_oracle;
  Hooks m_hooks;
  bool m_done = false;
  std::string m_error;
  std::vector<uint8_t> m_page;
  std::vector<uint8_t> m_in_copy;  // `in` as the CPU read it back
  uint64_t m_cpu_version = 0;
  common::EventTrace* m_trace = nullptr;
  common::EventTrace::Track m_track = 0;
  void record(const char* phase, uint64_t start_ps);
};

}  // namespace hmmsim::sim
