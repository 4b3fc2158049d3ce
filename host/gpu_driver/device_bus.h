#pragma once
// What the GPU driver needs from the device, and nothing more. The simulator
// implements it with TLM transactions over the PCIe model inside an
// SC_THREAD (so simulated time passes there); unit tests use an in-memory fake.
#include <cstdint>

namespace hmmsim::host {

struct DeviceBus {
  virtual ~DeviceBus() = default;
  // BAR0 register read: non-posted, a full PCIe round trip.
  virtual uint32_t mmio_read32(uint64_t offset) = 0;
  // BAR0 register write: posted.
  virtual void mmio_write32(uint64_t offset, uint32_t value) = 0;
  // Writes through the BAR1 VRAM aperture (posted): how PTEs reach VRAM.
  virtual void vram_write(uint64_t vram_pa, const void* src, uint64_t len) = 0;
  virtual void vram_read(uint64_t vram_pa, void* dst, uint64_t len) = 0;
  // Blocks the calling driver context until MSI `vector` has arrived
  // (arrivals are counted, so one that came early is not lost).
  virtual void wait_irq(uint32_t vector) = 0;
  // Charges `ns` of driver CPU time to the calling context.
  virtual void cpu_work(double ns) = 0;
  // Current simulated time, for latency statistics only.
  virtual uint64_t now_ps() const = 0;
  // Identifies the calling driver context (thread), for statistics that
  // must not mix two contexts; one context may always answer the same.
  virtual const void* context() const { return nullptr; }
};

}  // namespace hmmsim::host
