#pragma once
// host::DeviceBus over TLM: the driver's register, VRAM-aperture and
// interrupt operations become transactions on the PCIe link, issued from
// whichever SC_THREAD runs driver code, so simulated time passes there.
#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "host/common/lock.h"
#include "host/gpu_driver/device_bus.h"
#include "tlm_bridge/irq_controller.h"

namespace hmmsim::bridge {

struct HostCpuSpec {
  double posted_write_ns = 30;  // CPU cost of issuing a posted MMIO write (per 64 B)
};

class TlmDeviceBus : public sc_core::sc_module, public host::DeviceBus {
 public:
  tlm_utils::simple_initiator_socket<TlmDeviceBus> socket;  // to the link's down_target
  TlmDeviceBus(sc_core::sc_module_name name, const HostCpuSpec& spec, IrqController& irq);

  uint32_t mmio_read32(uint64_t offset) override;
  void mmio_write32(uint64_t offset, uint32_t value) override;
  void vram_write(uint64_t vram_pa, const void* src, uint64_t len) override;
  void vram_read(uint64_t vram_pa, void* dst, uint64_t len) override;
  void wait_irq(uint32_t vector) override;
  void cpu_work(double ns) override;
  uint64_t now_ps() const override { return sc_core::sc_time_stamp().value(); }
  const void* context() const override {
    return sc_core::sc_get_current_process_handle().get_process_object();
  }
  // Blocks until an MSI of either vector has landed; consumes it, returns its vector.
  uint32_t wait_any_irq(uint32_t a, uint32_t b);

  uint64_t s_mmio_reads = 0, s_mmio_writes = 0, s_vram_write_bytes = 0, s_errors = 0;
  double s_cpu_ns = 0, s_mmio_wait_ns = 0, s_irq_wait_ns = 0;

 private:
  bool transact(tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len, bool posted);
  const HostCpuSpec m_spec;
  IrqController& m_irq;
};

// host::ILock backed by an sc_mutex: contexts that wait inside the driver
// (DMA, register reads) exclude each other like the kernel mutex does.
class ScLock final : public host::ILock {
 public:
  void lock() override;
  void unlock() override;

 private:
  sc_core::sc_mutex m_mutex;
  // sc_mutex lets its owner lock again and then releases on the first
  // unlock: a nested lock would silently drop protection, so refuse it.
  sc_core::sc_process_handle m_owner;
};

}  // namespace hmmsim::bridge
