#pragma once
// Descriptor-driven DMA engine: BAR0 writes fill one descriptor and ring the
// doorbell; a thread moves the bytes (host memory over PCIe, VRAM locally),
// then publishes the sequence number and raises the copy MSI.
#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "hwref/gpu_regs.h"

namespace hmmsim::hw {

struct CopyEngineSpec {
  double setup_ns = 500;         // descriptor fetch and launch
  uint32_t chunk_bytes = 65536;  // one transfer per chunk; pipelining inside a chunk
};

class CopyEngine : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<CopyEngine> host_socket;  // upstream PCIe
  tlm_utils::simple_initiator_socket<CopyEngine> vram_socket;

  CopyEngine(sc_core::sc_module_name name, const CopyEngineSpec& spec);

  struct Descriptor {
    uint64_t src = 0, dst = 0;
    uint32_t len = 0;
    hwref::CeDir dir = hwref::CeDir::HostToDevice;
    uint32_t seq = 0;
  };
  // BAR0 doorbell: queue a copy that becomes visible after `delay`.
  void submit(const Descriptor& d, const sc_core::sc_time& delay);
  uint32_t done_seq() const { return m_done_seq; }
  void set_msi(uint64_t addr) { m_msi_addr = addr; }
  void enable_irq(bool on) { m_irq_enabled = on; }
  bool irq_latched() const { return m_irq_latched; }
  void clear_irq() { m_irq_latched = false; }

  uint64_t s_copies = 0, s_bytes_h2d = 0, s_bytes_d2h = 0, s_bytes_d2d = 0, s_errors = 0;

 private:
  void run();
  bool xfer(tlm_utils::simple_initiator_socket<CopyEngine>& s, tlm::tlm_command cmd, uint64_t addr,
            uint8_t* data, uint32_t len, sc_core::sc_time& delay);

  const CopyEngineSpec m_spec;
  std::vector<std::pair<Descriptor, sc_core::sc_time>> m_queue;  // with arrival time
  sc_core::sc_event m_doorbell;
  uint32_t m_done_seq = 0;
  std::vector<uint8_t> m_buf;
  uint64_t m_msi_addr = 0;
  bool m_irq_enabled = false, m_irq_latched = false;
};

}  // namespace hmmsim::hw
