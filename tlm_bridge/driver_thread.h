#pragma once
// Runs the host GPU driver in simulated time: initialisation, then the
// interrupt loop (top half wakes on the fault MSI, bottom half services).
#include <functional>

#include <systemc>

#include "host/gpu_driver/gpu_driver.h"
#include "tlm_bridge/device_bus_tlm.h"

namespace hmmsim::bridge {

class DriverThread : public sc_core::sc_module {
 public:
  DriverThread(sc_core::sc_module_name name, host::GpuDriver& driver, TlmDeviceBus& bus,
               uint64_t msi_address, std::function<void()> attach);
  const sc_core::sc_event& ready() const { return m_ready; }
  bool is_ready() const { return m_is_ready; }
  host::Status init_status() const { return m_init; }

 private:
  void run();
  host::GpuDriver& m_driver;
  TlmDeviceBus& m_bus;
  uint64_t m_msi;
  std::function<void()> m_attach;
  sc_core::sc_event m_ready;
  bool m_is_ready = false;
  host::Status m_init = host::Status::Ok;
};

}  // namespace hmmsim::bridge
