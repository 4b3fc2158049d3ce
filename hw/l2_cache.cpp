#include "hw/l2_cache.h"

#include <algorithm>

#include "common/byte_runs.h"

namespace hmmsim::hw {

using sc_core::sc_time;

L2Cache::L2Cache(sc_core::sc_module_name name, const L2CacheSpec& spec)
    : sc_module(name),
      socket("socket"),
      vram_socket("vram_socket"),
      m_core(spec),
      m_hit(spec.hit_ns(), sc_core::SC_NS),
      m_scratch(spec.line_bytes, 0) {
  socket.register_b_transport(this, &L2Cache::b_transport);
  socket.register_transport_dbg(this, &L2Cache::transport_dbg);
}

unsigned L2Cache::transport_dbg(int, tlm::tlm_generic_payload& t) { return vram_socket->transport_dbg(t); }

bool L2Cache::move_data(tlm::tlm_generic_payload& t) {
  const uint64_t pa = t.get_address(), len = t.get_data_length();
  tlm::tlm_generic_payload d;
  d.set_command(t.get_command());
  if (t.is_read()) {
    d.set_address(pa);
    d.set_data_ptr(t.get_data_ptr());
    d.set_data_length(static_cast<unsigned>(len));
    return vram_socket->transport_dbg(d) == len;
  }
  // Enabled runs one by one: debug transport carries no byte enables.
  bool ok = true;
  common::for_each_enabled_run(t.get_byte_enable_ptr(), t.get_byte_enable_length(), len,
                               [&](uint64_t off, uint64_t n) {
                                 d.set_address(pa + off);
                                 d.set_data_ptr(t.get_data_ptr() + off);
                                 d.set_data_length(static_cast<unsigned>(n));
                                 ok = ok && vram_socket->transport_dbg(d) == n;
                               });
  return ok;
}

sc_time L2Cache::dram(const std::vector<L2Run>& runs, tlm::tlm_command cmd, const sc_time& at) {
  static unsigned char none = 0;  // a byte-enable pattern that disables every byte
  sc_time last = at;
  for (const L2Run& r : runs) {
    tlm::tlm_generic_payload p;
    p.set_command(cmd);
    p.set_address(r.pa);
    p.set_data_ptr(m_scratch.data());
    p.set_data_length(r.bytes);
    p.set_streaming_width(r.bytes);
    if (cmd == tlm::TLM_WRITE_COMMAND) {
      p.set_byte_enable_ptr(&none);
      p.set_byte_enable_length(1);
    }
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time d = at;  // runs go out together; the last to finish decides
    vram_socket->b_transport(p, d);
    if (!p.is_response_ok()) ++s_dram_errors;
    last = std::max(last, d);
  }
  return last;
}

void L2Cache::b_transport(int, tlm::tlm_generic_payload& t, sc_time& delay) {
  if (!enabled()) {
    vram_socket->b_transport(t, delay);
    return;
  }
  if (!move_data(t)) {
    ++s_decode_errors;
    t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const L2Outcome& o = m_core.access(t.get_address(), t.get_data_length(), t.is_write(), t.get_byte_enable_ptr(),
                                     t.get_byte_enable_length());
  const sc_time looked_up = delay + m_hit;
  dram(o.writeback, tlm::TLM_WRITE_COMMAND, looked_up);  // posted: the requester does not wait
  delay = dram(o.fetch, tlm::TLM_READ_COMMAND, looked_up);
  t.set_response_status(tlm::TLM_OK_RESPONSE);
}

sc_time L2Cache::flush(const sc_time& delay) { return dram(m_core.flush(), tlm::TLM_WRITE_COMMAND, delay); }

sc_time L2Cache::invalidate_range(uint64_t pa, uint64_t len, const sc_time& delay, bool writeback) {
  return dram(m_core.invalidate_range(pa, len, writeback), tlm::TLM_WRITE_COMMAND, delay);
}

}  // namespace hmmsim::hw
