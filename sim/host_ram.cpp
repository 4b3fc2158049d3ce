#include "sim/host_ram.h"

#include <sstream>

namespace hmmsim::sim {

HostRamWatch::HostRamWatch(host::PhysMem& phys, uint64_t ram_bytes, Probes probes)
    : m_phys(phys), m_ram_bytes(ram_bytes), m_probes(std::move(probes)) {
  m_phys.set_oom_notifier([this](uint64_t frames) { on_oom(frames); });
}

HostRamWatch::~HostRamWatch() { m_phys.set_oom_notifier(nullptr); }

void HostRamWatch::on_oom(uint64_t frames) {
  if (m_hit) return;  // the first shortage is the one to report
  m_hit = true;
  m_frames = frames;
  m_used = m_phys.used_frames();
  m_evict_failures = m_probes.evict_no_host_memory ? m_probes.evict_no_host_memory() : 0;
  m_driver_was_ready = !m_probes.driver_ready || m_probes.driver_ready();
  m_vram_full = m_probes.vram_full && m_probes.vram_full();
  const sc_core::sc_process_handle me = sc_core::sc_get_current_process_handle();
  if (me.valid()) {
    m_process = me.name();
    m_in_driver = m_probes.driver_thread && me.get_parent_object() == m_probes.driver_thread;
  }
  // End the run now: the thread that ran out goes on only to its next wait()
  // (its caller sees the allocation fail), nothing else is scheduled again.
  if (sc_core::sc_is_running()) sc_core::sc_stop();
}

std::string HostRamWatch::what(const std::string& cpu_error) const {
  if (at_driver_init())
    return "the GPU driver's initialisation: " + std::to_string(m_frames) +
           " contiguous pages for its fault ring or device buffers";
  // Counted right after the failed allocation, before the thread could stop.
  if (m_probes.evict_no_host_memory && m_probes.evict_no_host_memory() > m_evict_failures)
    return "evicting VRAM pages to system memory to make room on the GPU";
  if (!m_in_driver && !cpu_error.empty()) return cpu_error;
  if (m_in_driver)
    return std::string("servicing a GPU fault: the faulted page needs a system page") +
           (m_vram_full ? " and VRAM has no room for it" : "");
  return "mapping memory for the GPU (in " + (m_process.empty() ? std::string("the host") : m_process) +
         "): a page needs a system page" + (m_vram_full ? " and VRAM has no room for it" : "");
}

std::string HostRamWatch::message(const std::string& cpu_error) const {
  std::ostringstream os;
  os << "host RAM exhausted: " << what(cpu_error) << " (host.ram = " << fmt_ram(m_ram_bytes) << ", " << m_used
     << " pages in use) — raise host.ram";
  return os.str();
}

std::string HostRamWatch::fmt_ram(uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  std::string out = std::to_string(bytes) + " bytes";
  for (int i = 0; i < 4; ++i) {
    const uint64_t unit = uint64_t{1} << (10 * (i + 1));
    if (bytes == 0 || bytes % unit) break;
    out = std::to_string(bytes / unit) + " " + kUnits[i];
  }
  return out;
}

}  // namespace hmmsim::sim
