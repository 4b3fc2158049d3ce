#pragma once
// The SMs report each completed access to one observer; this one passes it
// on to the data oracle (unless data mode is off) and, for eviction policies
// that order by GPU access (lru, lru4k, tbn), to the driver.
#include "host/gpu_driver/gpu_driver.h"
#include "hw/access_observer.h"

namespace hmmsim::sim {

class AccessFanout final : public hw::IAccessObserver {
 public:
  AccessFanout(hw::IAccessObserver* oracle, host::GpuDriver* driver) : m_oracle(oracle), m_driver(driver) {}
  void on_load(unsigned sm, unsigned warp, uint64_t va, const uint8_t* data, uint32_t len) override {
    if (m_driver) m_driver->note_gpu_access(va);
    if (m_oracle) m_oracle->on_load(sm, warp, va, data, len);
  }
  void on_store(unsigned sm, unsigned warp, uint64_t va, const uint8_t* data, const uint8_t* enable,
                uint32_t len) override {
    if (m_driver) m_driver->note_gpu_access(va);
    if (m_oracle) m_oracle->on_store(sm, warp, va, data, enable, len);
  }
  void on_fatal(unsigned sm, unsigned warp, uint64_t va, uint64_t time_ps) override {
    if (m_oracle) m_oracle->on_fatal(sm, warp, va, time_ps);
  }

 private:
  hw::IAccessObserver* m_oracle;
  host::GpuDriver* m_driver;
};

}  // namespace hmmsim::sim
