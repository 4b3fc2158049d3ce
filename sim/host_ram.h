#pragma once
// The run's answer to host RAM running out (host.ram): as the kernel's OOM
// killer ends the process, the first allocation the simulated host RAM
// cannot satisfy stops the run at once (exit 1), and the platform names what
// needed the page. Left to run on, the failure would spread into misleading
// consequences: GPU faults cancelled and warps killed, data checks failing.
//
// The watch hears the shortage through host::PhysMem's OOM notifier, so host/
// stays GPU-agnostic; what was being done is told from the thread that ran
// out and from driver counters compared before and after (an eviction that
// found no system page counts driver.evict_no_host_memory at once).
#include <cstdint>
#include <functional>
#include <string>

#include <systemc>

#include "host/mm/phys_mem.h"

namespace hmmsim::sim {

class HostRamWatch {
 public:
  struct Probes {
    const sc_core::sc_object* driver_thread = nullptr;  // the module whose thread services GPU faults
    std::function<bool()> driver_ready;                 // initialisation done
    std::function<uint64_t()> evict_no_host_memory;     // driver.evict_no_host_memory
    std::function<bool()> vram_full;
  };
  HostRamWatch(host::PhysMem& phys, uint64_t ram_bytes, Probes probes);
  ~HostRamWatch();
  HostRamWatch(const HostRamWatch&) = delete;
  HostRamWatch& operator=(const HostRamWatch&) = delete;

  bool exhausted() const { return m_hit; }
  // "host RAM exhausted: <what> (host.ram = 16 MiB, N pages in use) — raise host.ram".
  // `cpu_error`: how the CPU access that ran out failed (the runner's error),
  // when it was a CPU thread.
  std::string message(const std::string& cpu_error) const;
  // Whether the shortage struck the GPU driver's initialisation.
  bool at_driver_init() const { return m_hit && m_in_driver && !m_driver_was_ready; }

  static std::string fmt_ram(uint64_t bytes);  // "16 MiB", "1536 KiB", "5000 bytes"

 private:
  void on_oom(uint64_t frames);
  std::string what(const std::string& cpu_error) const;

  host::PhysMem& m_phys;
  const uint64_t m_ram_bytes;
  const Probes m_probes;
  bool m_hit = false;
  // The moment memory ran out.
  uint64_t m_frames = 0;  // asked for
  uint64_t m_used = 0;    // frames in use
  uint64_t m_evict_failures = 0;
  bool m_in_driver = false, m_driver_was_ready = false, m_vram_full = false;
  std::string m_process;
};

}  // namespace hmmsim::sim
