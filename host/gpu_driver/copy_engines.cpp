#include "host/gpu_driver/copy_engines.h"

#include <algorithm>

namespace hmmsim::host {

namespace bar0 = hwref::bar0;

CopyEngines::CopyEngines(DeviceBus& bus, PhysMem& phys, const CopyEngineUse& use)
    : m_bus(bus), m_phys(phys), m_use(use) {}

uint64_t CopyEngines::reg(unsigned e, uint64_t off) const {
  return m_blocks ? bar0::ce_reg(e, off) : bar0::kCeSrcLo + off;
}

void CopyEngines::write64(uint64_t lo, uint64_t v) {
  m_bus.mmio_write32(lo, static_cast<uint32_t>(v));
  m_bus.mmio_write32(lo + 4, static_cast<uint32_t>(v >> 32));
}

Status CopyEngines::init() {
  const uint32_t n = m_bus.mmio_read32(bar0::kCeCount);
  m_blocks = n > 0 && n <= bar0::kCeMaxEngines;
  m_engines = m_blocks ? n : 1;
  if (m_use.engines) m_engines = std::min(m_engines, m_use.engines);
  m_seq.assign(m_engines, 0);
  if (m_use.completion == CopyCompletion::Semaphore && m_blocks) {
    m_sema = m_phys.alloc_contiguous(1);  // kept byte-exact, like the fault ring
    if (m_sema == kNoPfn) return Status::NoMem;
    const uint32_t zero[bar0::kCeMaxEngines] = {};
    m_phys.write(m_sema, 0, zero, sizeof zero);
    for (unsigned e = 0; e < m_engines; ++e) {
      write64(reg(e, bar0::kCeOffSemaLo), PhysMem::pa(m_sema) + 4 * e);
      m_bus.mmio_write32(reg(e, bar0::kCeOffFlags), 0);  // no interrupt: we poll
    }
  }
  return Status::Ok;
}

uint32_t CopyEngines::semaphore(unsigned e) const {
  uint32_t v = 0;
  m_phys.read(m_sema, 4 * e, &v, 4);
  return v;
}

void CopyEngines::copy(const std::vector<CopyRun>& runs) {
  for (size_t first = 0; first < runs.size();) {
    // A wave: up to max_in_flight descriptors per engine, round robin.
    const size_t n = std::min<size_t>(runs.size() - first, size_t(m_engines) * m_use.max_in_flight);
    for (size_t k = 0; k < n; ++k) {
      const CopyRun& r = runs[first + k];
      const unsigned e = static_cast<unsigned>(k % m_engines);
      write64(reg(e, bar0::kCeOffSrcLo), r.src);
      write64(reg(e, bar0::kCeOffDstLo), r.dst);
      m_bus.mmio_write32(reg(e, bar0::kCeOffLen), static_cast<uint32_t>(r.len));
      m_bus.mmio_write32(reg(e, bar0::kCeOffDir), static_cast<uint32_t>(r.dir));
      m_bus.mmio_write32(reg(e, bar0::kCeOffDoorbell), ++m_seq[e]);
      ++s_descriptors;
    }
    ++s_waits;
    if (m_sema != kNoPfn) {
      for (unsigned e = 0; e < std::min<size_t>(n, m_engines); ++e)
        while (static_cast<int32_t>(semaphore(e) - m_seq[e]) < 0) {
          ++s_polls;
          m_bus.cpu_work(m_use.poll_ns);
        }
    } else {
      for (size_t k = 0; k < n; ++k) m_bus.wait_irq(hwref::kMsiVectorCopy);
    }
    first += n;
  }
}

}  // namespace hmmsim::host
