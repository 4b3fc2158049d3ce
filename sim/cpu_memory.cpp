#include "sim/cpu_memory.h"

#include <sstream>

namespace hmmsim::sim {

bool CpuMemory::access(uint64_t va, uint8_t* buf, uint64_t len, bool write, std::string& error,
                       const std::function<void()>& observe) {
  sc_core::sc_time backoff(100, sc_core::SC_NS);
  for (;;) {
    const bool in_vram = m_mm.pte(va).kind == host::PteKind::DevicePrivate;
    host::Status s = write ? m_mm.cpu_write(va, buf, len) : m_mm.cpu_read(va, buf, len);
    if (s == host::Status::Ok) {
      if (observe) observe();
      sc_core::wait(m_page_time);
      return true;
    }
    if (s != host::Status::Again && s != host::Status::Busy) {
      std::ostringstream os;
      const char* op = write ? "store" : "load";
      if (s == host::Status::NoMem && in_vram)  // the CPU fault's migrate_to_ram found no system page
        os << "migrating the page at 0x" << std::hex << va << " back from VRAM for a CPU " << op;
      else if (s == host::Status::NoMem)
        os << "a CPU " << op << " at 0x" << std::hex << va << " needs a new page";
      else
        os << "cpu " << op << " at 0x" << std::hex << va << " failed: " << host::to_string(s);
      error = os.str();
      return false;
    }
    // Page under migration: sleep on it. A page that never settles is
    // caught by the run's watchdog.
    ++s_retries;
    sc_core::wait(backoff);
    if (backoff < sc_core::sc_time(10, sc_core::SC_US)) backoff = backoff * 2;
  }
}

}  // namespace hmmsim::sim
