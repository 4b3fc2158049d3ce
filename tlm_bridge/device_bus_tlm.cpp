#include "tlm_bridge/device_bus_tlm.h"

#include "hwref/gpu_regs.h"

namespace hmmsim::bridge {

using sc_core::sc_time;
using sc_core::SC_NS;

TlmDeviceBus::TlmDeviceBus(sc_core::sc_module_name name, const HostCpuSpec& spec, IrqController& irq)
    : sc_module(name), socket("socket"), m_spec(spec), m_irq(irq) {}

bool TlmDeviceBus::transact(tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len, bool posted) {
  tlm::tlm_generic_payload t;
  t.set_command(cmd);
  t.set_address(addr);
  t.set_data_ptr(static_cast<unsigned char*>(data));
  t.set_data_length(len);
  t.set_streaming_width(len);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_time delay = sc_core::SC_ZERO_TIME;
  socket->b_transport(t, delay);
  if (posted) {
    // The CPU only pays for issuing; the link orders and delivers the write.
    sc_core::wait(sc_time(m_spec.posted_write_ns * ((len + 63) / 64), SC_NS));
  } else {
    s_mmio_wait_ns += delay.to_seconds() * 1e9;
    sc_core::wait(delay);
  }
  if (!t.is_response_ok()) ++s_errors;
  return t.is_response_ok();
}

uint32_t TlmDeviceBus::mmio_read32(uint64_t offset) {
  ++s_mmio_reads;
  uint32_t v = 0;
  transact(tlm::TLM_READ_COMMAND, hwref::kBar0Base + offset, &v, 4, false);
  return v;
}

void TlmDeviceBus::mmio_write32(uint64_t offset, uint32_t value) {
  ++s_mmio_writes;
  transact(tlm::TLM_WRITE_COMMAND, hwref::kBar0Base + offset, &value, 4, true);
}

void TlmDeviceBus::vram_write(uint64_t pa, const void* src, uint64_t len) {
  s_vram_write_bytes += len;
  transact(tlm::TLM_WRITE_COMMAND, hwref::kBar1Base + pa, const_cast<void*>(src),
           static_cast<uint32_t>(len), true);
}

void TlmDeviceBus::vram_read(uint64_t pa, void* dst, uint64_t len) {
  transact(tlm::TLM_READ_COMMAND, hwref::kBar1Base + pa, dst, static_cast<uint32_t>(len), false);
}

void TlmDeviceBus::wait_irq(uint32_t vector) {
  const sc_time t0 = sc_core::sc_time_stamp();
  m_irq.wait(vector);
  s_irq_wait_ns += (sc_core::sc_time_stamp() - t0).to_seconds() * 1e9;
}

uint32_t TlmDeviceBus::wait_any_irq(uint32_t a, uint32_t b) {
  const sc_time t0 = sc_core::sc_time_stamp();
  const uint32_t v = m_irq.wait_any(a, b);
  s_irq_wait_ns += (sc_core::sc_time_stamp() - t0).to_seconds() * 1e9;
  return v;
}

void ScLock::lock() {
  const sc_core::sc_process_handle me = sc_core::sc_get_current_process_handle();
  if (m_owner.valid() && m_owner == me)
    SC_REPORT_FATAL("hmmsim/driver-lock", "driver lock taken recursively (would be released early)");
  m_mutex.lock();
  m_owner = me;
}

void ScLock::unlock() {
  m_owner = sc_core::sc_process_handle();
  m_mutex.unlock();
}

void TlmDeviceBus::cpu_work(double ns) {
  if (ns <= 0) return;
  s_cpu_ns += ns;
  sc_core::wait(sc_time(ns, SC_NS));
}

}  // namespace hmmsim::bridge
