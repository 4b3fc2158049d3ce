#include "tlm_bridge/root_complex.h"

#include "common/byte_runs.h"
#include "hw/sim_time.h"

#include <algorithm>
#include <cstring>

namespace hmmsim::bridge {

using sc_core::sc_time;
using sc_core::SC_NS;

RootComplex::RootComplex(sc_core::sc_module_name name, const RootComplexSpec& spec, host::PhysMem& mem,
                         IrqController& irq)
    : sc_module(name), socket("socket"), m_spec(spec), m_mem(mem), m_irq(irq) {
  socket.register_b_transport(this, &RootComplex::b_transport);
  socket.register_transport_dbg(this, &RootComplex::transport_dbg);
}

bool RootComplex::copy(tlm::tlm_generic_payload& t) {
  uint64_t pa = t.get_address(), len = t.get_data_length();
  uint8_t* p = t.get_data_ptr();
  // DMA may only touch allocated frames, and never write the zero page.
  for (uint64_t a = pa; a < pa + len; a = (a | 4095) + 1) {
    const host::Pfn f = host::PhysMem::pfn_of(a);
    if (!m_mem.valid(f) || (t.is_write() && f == m_mem.zero_pfn())) return false;
  }
  auto each_page = [&](uint64_t a, uint8_t* d, uint64_t n, bool write) {
    while (n) {
      const uint64_t off = a & 4095, k = std::min<uint64_t>(n, 4096 - off);
      if (write)
        m_mem.write(host::PhysMem::pfn_of(a), off, d, k);
      else
        m_mem.read(host::PhysMem::pfn_of(a), off, d, k);
      a += k, d += k, n -= k;
    }
  };
  if (t.is_read()) {
    each_page(pa, p, len, false);
    return true;
  }
  // A scattered warp store writes only its lanes' bytes.
  common::for_each_enabled_run(t.get_byte_enable_ptr(), t.get_byte_enable_length(), len,
                               [&](uint64_t off, uint64_t n) { each_page(pa + off, p + off, n, true); });
  return true;
}

void RootComplex::b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  const uint64_t a = t.get_address();
  if (a >= m_spec.msi_base && a < m_spec.msi_base + 4096) {
    uint32_t vec = 0;
    if (t.is_write() && t.get_data_length() == 4) {
      std::memcpy(&vec, t.get_data_ptr(), 4);
      ++s_msis;
      m_irq.raise(vec, delay);
      t.set_response_status(tlm::TLM_OK_RESPONSE);
    } else {
      ++s_errors;
      t.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    }
    return;
  }
  if (!copy(t)) {
    ++s_errors;
    t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  (t.is_read() ? s_reads : s_writes) += 1;
  s_bytes += t.get_data_length();
  const double at = hw::ns_of(sc_core::sc_time_stamp() + delay);
  const double start = std::max(at, m_busy_until);
  m_busy_until = start + t.get_data_length() / m_spec.dram_gbps;
  delay += sc_time(m_busy_until + m_spec.dram_ns - at, SC_NS);
  t.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned RootComplex::transport_dbg(tlm::tlm_generic_payload& t) {
  return copy(t) ? t.get_data_length() : 0;
}

}  // namespace hmmsim::bridge
