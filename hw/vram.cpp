#include "hw/vram.h"

#include <algorithm>
#include <cstring>

#include "common/byte_runs.h"
#include "hw/sim_time.h"

namespace hmmsim::hw {

VramCore::VramCore(const VramSpec& s, common::DataMode mode)
    : m_spec(s),
      m_timing(dram_timing_registry().make(s.impl, s)),
      m_store(mode, (s.capacity_bytes + 4095) / 4096) {}

void VramCore::read(uint64_t pa, uint8_t* dst, uint64_t len) const {
  while (len) {
    const uint64_t off = pa & 4095, n = std::min<uint64_t>(len, 4096 - off);
    m_store.read(pa >> 12, off, dst, n);
    pa += n, dst += n, len -= n;
  }
}

void VramCore::write(uint64_t pa, const uint8_t* src, uint64_t len, bool structure) {
  while (len) {
    const uint64_t off = pa & 4095, n = std::min<uint64_t>(len, 4096 - off);
    if (structure) m_store.keep_bytes(pa >> 12);
    m_store.write(pa >> 12, off, src, n);
    pa += n, src += n, len -= n;
  }
}

Vram::Vram(sc_core::sc_module_name name, const VramSpec& spec, common::DataMode mode)
    : sc_module(name), socket("socket"), table_socket("table_socket"), m_core(spec, mode) {
  socket.register_b_transport(this, &Vram::b_transport);
  socket.register_transport_dbg(this, &Vram::transport_dbg);
  table_socket.register_b_transport(this, &Vram::table_b_transport);
  table_socket.register_transport_dbg(this, &Vram::transport_dbg);
}

void Vram::b_transport(int, tlm::tlm_generic_payload& t, sc_core::sc_time& delay) { transport(t, delay, false); }
void Vram::table_b_transport(int, tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
  transport(t, delay, true);
}

void Vram::write_enabled(const tlm::tlm_generic_payload& t, bool structure) {
  const uint64_t pa = t.get_address();
  const uint8_t* data = t.get_data_ptr();
  common::for_each_enabled_run(t.get_byte_enable_ptr(), t.get_byte_enable_length(), t.get_data_length(),
                               [&](uint64_t off, uint64_t n) { m_core.write(pa + off, data + off, n, structure); });
}

void Vram::transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay, bool structure) {
  const uint64_t pa = t.get_address(), len = t.get_data_length();
  if (!m_core.in_range(pa, len)) {
    ++s_decode_errors;
    t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const double arrive = ns_of(sc_core::sc_time_stamp() + delay);
  // Long transfers spread over the interleaved channels: the last part decides.
  const double done = m_core.access(pa, len, arrive, !t.is_read());
  if (t.is_read()) {
    m_core.read(pa, t.get_data_ptr(), len);
    ++m_core.s_reads;
    m_core.s_bytes_read += len;
  } else {
    write_enabled(t, structure);
    ++m_core.s_writes;
    m_core.s_bytes_written += len;
  }
  delay += sc_time_of_ns(done - arrive);  // done >= arrive
  t.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned Vram::transport_dbg(int, tlm::tlm_generic_payload& t) {
  const uint64_t pa = t.get_address(), len = t.get_data_length();
  if (!m_core.in_range(pa, len)) return 0;
  if (t.is_read())
    m_core.read(pa, t.get_data_ptr(), len);
  else
    write_enabled(t, false);
  return static_cast<unsigned>(len);
}

}  // namespace hmmsim::hw
