#include "tlm_bridge/driver_thread.h"

#include "hwref/access_counter_regs.h"
#include "hwref/gpu_regs.h"

namespace hmmsim::bridge {

DriverThread::DriverThread(sc_core::sc_module_name name, host::GpuDriver& driver, TlmDeviceBus& bus,
                           uint64_t msi_address, std::function<void()> attach)
    : sc_module(name), m_driver(driver), m_bus(bus), m_msi(msi_address), m_attach(std::move(attach)) {
  SC_HAS_PROCESS(DriverThread);
  SC_THREAD(run);
}

void DriverThread::run() {
  m_init = m_driver.init(m_msi);
  if (m_init != host::Status::Ok) return;  // the platform reports it; nothing is ready
  if (m_attach) m_attach();
  m_is_ready = true;
  m_ready.notify(sc_core::SC_ZERO_TIME);
  // One bottom-half context: fault and access-counter servicing never
  // interleave (UVM takes the VA space lock in both).
  for (;;) {
    if (m_bus.wait_any_irq(hwref::kMsiVectorFault, hwref::kMsiVectorAccessCounter) == hwref::kMsiVectorFault)
      m_driver.service_faults();
    else
      m_driver.service_access_counters();
  }
}

}  // namespace hmmsim::bridge
