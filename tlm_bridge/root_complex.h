#pragma once
// The host side of the link: system memory (backed by host::PhysMem, so
// DMA moves real page contents) and the MSI doorbell window.
#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "host/mm/phys_mem.h"
#include "tlm_bridge/irq_controller.h"

namespace hmmsim::bridge {

struct RootComplexSpec {
  double dram_ns = 90;          // host DRAM access behind the root complex
  double dram_gbps = 25.6;      // one DDR4-3200 channel
  uint64_t msi_base = 0xFEE00000ull << 8;  // outside any RAM frame we model
};

class RootComplex : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<RootComplex> socket;
  RootComplex(sc_core::sc_module_name name, const RootComplexSpec& spec, host::PhysMem& mem,
              IrqController& irq);
  uint64_t msi_address() const { return m_spec.msi_base; }
  uint64_t s_reads = 0, s_writes = 0, s_bytes = 0, s_msis = 0, s_errors = 0;

 private:
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& t);
  bool copy(tlm::tlm_generic_payload& t);

  const RootComplexSpec m_spec;
  host::PhysMem& m_mem;
  IrqController& m_irq;
  double m_busy_until = 0;
};

}  // namespace hmmsim::bridge
