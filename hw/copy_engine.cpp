#include "hw/copy_engine.h"

#include <algorithm>

namespace hmmsim::hw {

using sc_core::sc_time;
using sc_core::SC_NS;
using hwref::CeDir;

CopyEngine::CopyEngine(sc_core::sc_module_name name, const CopyEngineSpec& spec)
    : sc_module(name), host_socket("host_socket"), vram_socket("vram_socket"), m_spec(spec) {
  SC_HAS_PROCESS(CopyEngine);
  SC_THREAD(run);
}

void CopyEngine::submit(const Descriptor& d, const sc_time& delay) {
  if (queued() >= m_spec.queue_depth) {
    ++s_refused;
    ++s_errors;
    return;
  }
  m_queue.emplace_back(d, sc_core::sc_time_stamp() + delay);
  m_doorbell.notify(delay);
}

void CopyEngine::record(const Descriptor& d, const sc_time& took) {
  using ET = common::EventTrace;
  const char* name = d.dir == CeDir::HostToDevice   ? "copy down (host to VRAM)"
                     : d.dir == CeDir::DeviceToHost ? "copy up (VRAM to host)"
                     : d.dir == CeDir::FillZero     ? "zero fill"
                                                    : "copy VRAM to VRAM";
  const uint64_t now = sc_core::sc_time_stamp().value();
  m_trace->slice(m_track, name, now, now + took.value(),
                 {ET::num("bytes", d.len), ET::hex("src", d.src), ET::hex("dst", d.dst), ET::num("seq", d.seq)});
}

bool CopyEngine::xfer(tlm_utils::simple_initiator_socket<CopyEngine>& s, tlm::tlm_command cmd,
                      uint64_t addr, uint8_t* data, uint32_t len, sc_time& delay) {
  tlm::tlm_generic_payload t;
  t.set_command(cmd);
  t.set_address(addr);
  t.set_data_ptr(data);
  t.set_data_length(len);
  t.set_streaming_width(len);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  s->b_transport(t, delay);
  return t.is_response_ok();
}

void CopyEngine::run() {
  // Thread state lives in members: this thread never returns, and its
  // locals would never be destroyed.
  std::vector<uint8_t>& buf = m_buf;
  for (;;) {
    while (m_queue.empty()) sc_core::wait(m_doorbell);
    auto [d, at] = m_queue.front();
    m_queue.erase(m_queue.begin());
    m_busy = true;
    if (at > sc_core::sc_time_stamp()) sc_core::wait(at - sc_core::sc_time_stamp());
    sc_time delay(m_spec.setup_ns, SC_NS);
    bool ok = true;
    for (uint32_t off = 0; off < d.len && ok; off += m_spec.chunk_bytes) {
      const uint32_t n = std::min(m_spec.chunk_bytes, d.len - off);
      buf.assign(n, 0);
      switch (d.dir) {
        case CeDir::HostToDevice:
          ok = xfer(host_socket, tlm::TLM_READ_COMMAND, d.src + off, buf.data(), n, delay) &&
               xfer(vram_socket, tlm::TLM_WRITE_COMMAND, d.dst + off, buf.data(), n, delay);
          s_bytes_h2d += n;
          break;
        case CeDir::DeviceToHost:
          ok = xfer(vram_socket, tlm::TLM_READ_COMMAND, d.src + off, buf.data(), n, delay) &&
               xfer(host_socket, tlm::TLM_WRITE_COMMAND, d.dst + off, buf.data(), n, delay);
          s_bytes_d2h += n;
          break;
        case CeDir::DeviceToDevice:
          ok = xfer(vram_socket, tlm::TLM_READ_COMMAND, d.src + off, buf.data(), n, delay) &&
               xfer(vram_socket, tlm::TLM_WRITE_COMMAND, d.dst + off, buf.data(), n, delay);
          s_bytes_d2d += n;
          break;
        case CeDir::FillZero:
          ok = xfer(vram_socket, tlm::TLM_WRITE_COMMAND, d.dst + off, buf.data(), n, delay);
          break;
        default:
          ok = false;
      }
    }
    if (!ok) ++s_errors;  // a bad descriptor completes with an error count, never hangs
    ++s_copies;
    s_busy_ns += delay.to_seconds() * 1e9;
    if (m_trace) record(d, delay);
    sc_core::wait(delay);
    m_done_seq = d.seq;
    m_busy = false;
    sc_time z = sc_core::SC_ZERO_TIME;
    if (m_sema) xfer(host_socket, tlm::TLM_WRITE_COMMAND, m_sema, reinterpret_cast<uint8_t*>(&d.seq), 4, z);
    if (!m_irq_on_completion) continue;
    m_irq_latched = true;
    // Completion is always visible in kCeDoneSeq; the MSI only when enabled.
    if (m_irq_enabled && m_msi_addr) {
      uint32_t vec = hwref::kMsiVectorCopy;
      xfer(host_socket, tlm::TLM_WRITE_COMMAND, m_msi_addr, reinterpret_cast<uint8_t*>(&vec), 4, z);
    }
  }
}

}  // namespace hmmsim::hw
