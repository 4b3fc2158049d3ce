#pragma once
// The driver's side of the GPU's copy engines. It discovers how many the
// device has (bar0::kCeCount; a device without that register has one, at
// the original 0x100 block), spreads a batch of copies over them round
// robin, and waits once for the whole batch: by interrupt (one MSI per
// descriptor) or by polling completion semaphores in host memory, which the
// engines write with each descriptor's sequence number.
#include <cstdint>
#include <vector>

#include "host/common/status.h"
#include "host/gpu_driver/device_bus.h"
#include "host/gpu_driver/driver_spec.h"
#include "host/mm/phys_mem.h"
#include "hwref/gpu_regs.h"

namespace hmmsim::host {

struct CopyRun {
  hwref::CeDir dir;
  uint64_t src, dst, len;
};

class CopyEngines {
 public:
  CopyEngines(DeviceBus& bus, PhysMem& phys, const CopyEngineUse& use);
  // Discovers the engines and programs their completion mode.
  Status init();
  // Runs every copy and returns when all have completed. The caller holds
  // the driver's register lock.
  void copy(const std::vector<CopyRun>& runs);
  uint32_t engines() const { return m_engines; }

  uint64_t s_descriptors = 0, s_waits = 0, s_polls = 0;

 private:
  uint64_t reg(unsigned e, uint64_t off) const;
  void write64(uint64_t lo, uint64_t v);
  uint32_t semaphore(unsigned e) const;

  DeviceBus& m_bus;
  PhysMem& m_phys;
  const CopyEngineUse m_use;
  uint32_t m_engines = 1;
  bool m_blocks = false;  // the device has per-engine blocks
  std::vector<uint32_t> m_seq;
  Pfn m_sema = kNoPfn;
};

}  // namespace hmmsim::host
