#pragma once
// The host program (workload.kind: program) as simulated CPU threads: the
// main thread maps the buffers and runs the steps in order, launching each
// kernel and waiting for it; CPU threads act on their timelines meanwhile,
// so invalidations and migrate-backs happen while kernels run.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "common/event_trace.h"
#include "host/gpu_driver/gpu_driver.h"
#include "host/mm/address_space.h"
#include "sim/cpu_memory.h"
#include "sim/oracle.h"
#include "sim/program.h"

namespace hmmsim::sim {

struct ThreadCounters {
  uint64_t ops = 0, pages = 0;
  uint64_t migrate_to_ram = 0;  // its accesses that found the page in VRAM (CPU faults that migrate it back)
  uint64_t device_unmaps = 0;   // device PTEs invalidated while its operations ran
};

class HostProgram : public sc_core::sc_module {
 public:
  struct Hooks {
    std::function<const sc_core::sc_event&()> driver_ready;
    std::function<bool()> driver_is_ready;
    std::function<void(hw::IKernelSource&)> launch;
    std::function<const sc_core::sc_event&()> kernel_done;
    std::function<bool()> kernel_finished;
    std::function<bool()> stopped;  // bad input ended the kernel
    std::function<void(size_t)> kernel_begin, kernel_end;
    std::function<void(uint64_t, uint64_t)> memcpy;  // a trace's MemcpyHtoD ran
  };
  HostProgram(sc_core::sc_module_name name, host::AddressSpace& mm, host::GpuDriver& driver, const Program& program,
              double page_access_ns, DataOracle& oracle, Hooks hooks);

  // Steps on a "CPU main thread" track, each CPU thread's operations on
  // its own; driver work these threads run (migrate-backs) nests inside.
  void set_trace(common::EventTrace* trace);

  bool done() const { return m_done; }
  const std::string& error() const { return m_error; }
  const std::string& input_error() const { return m_input_error; }  // a kernel's source could not open

  uint64_t s_pages_written = 0, s_pages_read = 0, s_steps = 0, s_kernels = 0, s_prefetched_pages = 0;
  std::vector<ThreadCounters> threads;
  const uint64_t& retries() const { return m_mem.s_retries; }

 private:
  void run();
  bool body();
  bool write_range(uint64_t va, uint64_t bytes, const std::string& who);
  bool read_range(uint64_t va, uint64_t bytes, const std::string& who);
  bool kernel(size_t k);
  void thread_body(size_t i);
  bool thread_op(size_t i);
  void fail(const std::string& what, const std::string& why);
  // A fresh version for a CPU write (distinct from every GPU store's).
  uint64_t cpu_version() { return common::version_word((0xC0ull << 56) | ++m_version); }

  host::AddressSpace& m_mm;
  host::GpuDriver& m_driver;
  const Program& m_prog;
  DataOracle& m_oracle;
  Hooks m_hooks;
  CpuMemory m_mem;
  bool m_done = false;
  std::string m_error, m_input_error;
  std::vector<uint8_t> m_page;
  std::vector<std::vector<uint8_t>> m_thread_pages;  // one page buffer per CPU thread
  uint64_t m_version = 0;
  size_t m_threads_left = 0;
  sc_core::sc_event m_thread_done;
  common::EventTrace* m_trace = nullptr;
  common::EventTrace::Track m_main_track = 0;
  std::vector<common::EventTrace::Track> m_thread_tracks;
  // Binds the calling simulated thread to `t`, so driver work it runs lands there.
  void bind_trace_context(common::EventTrace::Track t);
  void record(common::EventTrace::Track t, const char* what, const std::string& detail, uint64_t start_ps);
};

}  // namespace hmmsim::sim
