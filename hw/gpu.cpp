#include "hw/gpu.h"

#include <cstring>
#include <string>

namespace hmmsim::hw {

using sc_core::sc_time;
using sc_core::SC_NS;
namespace bar0 = hwref::bar0;

Gpu::Gpu(sc_core::sc_module_name name, const GpuSpec& spec)
    : sc_module(name),
      bar_socket("bar_socket"),
      host_socket("host_socket"),
      m_spec(spec),
      m_vram("vram", spec.vram, spec.sm.data),
      m_l2("l2", spec.l2),
      m_ac("access_counters", spec.counters),
      m_gmmu("gmmu", spec.gmmu, spec.tlb, spec.sms),
      m_ce("ce", spec.ce),
      m_up("up"),
      m_bar1("bar1") {
  bar_socket.register_b_transport(this, &Gpu::bar_b_transport);
  bar_socket.register_transport_dbg(this, &Gpu::bar_transport_dbg);
  m_up.register_b_transport(this, &Gpu::up_b_transport);

  m_gmmu.vram_socket.bind(m_vram.table_socket);
  m_gmmu.host_socket.bind(m_up);
  m_l2.vram_socket.bind(m_vram.socket);
  m_ac.host_socket.bind(m_up);
  m_ce.vram_socket.bind(m_l2.socket);
  m_ce.host_socket.bind(m_up);
  m_bar1.bind(m_vram.table_socket);
  for (unsigned i = 0; i < spec.sms; ++i) {
    auto sm = std::make_unique<Sm>(("sm" + std::to_string(i)).c_str(), i, spec.sm, m_gmmu);
    sm->vram_socket.bind(m_l2.socket);
    sm->set_access_counters(&m_ac);
    sm->host_socket.bind(m_up);
    sm->connect([this](CtaWork& c) { return next_cta(c); }, [this](const std::string& m) { fail_source(m); });
    m_sms.push_back(std::move(sm));
  }
  m_regs[bar0::kId / 4] = hwref::kIdValue;
  m_regs[bar0::kCancelClient / 4] = hwref::kAllClients;
  SC_HAS_PROCESS(Gpu);
  SC_THREAD(watch_done);
}

bool Gpu::next_cta(CtaWork& out) {
  if (m_source_done || !m_source) return false;
  try {
    if (m_source->next_cta(out)) return true;
  } catch (const SourceError& e) {
    fail_source(e.what());
  }
  m_source_done = true;
  return false;
}

void Gpu::fail_source(const std::string& msg) {
  if (m_source_error.empty()) m_source_error = msg;
  m_source_done = true;
  // Bad input ends the run: the platform reports it and exits 2.
  sc_core::sc_stop();
}

void Gpu::launch(IKernelSource& source) {
  const unsigned warps = source.info().warps_per_cta();
  if (warps == 0 || warps > m_spec.sm.max_warps) {
    fail_source("kernel " + source.info().name + ": a CTA of " + std::to_string(warps) +
                " warps does not fit an SM (gpu.sm.max_warps = " + std::to_string(m_spec.sm.max_warps) + ")");
    return;
  }
  m_source = &source;
  m_source_done = false;
  ++m_launches;
  // Initial dispatch, one CTA per SM per round, like the block scheduler of
  // GPGPU-Sim/Accel-Sim; later CTAs go to the SM that frees a slot first.
  for (bool placed = true; placed;) {
    placed = false;
    for (auto& sm : m_sms) {
      if (!sm->fits(warps)) continue;
      CtaWork cta;
      if (!next_cta(cta)) break;
      sm->assign(std::move(cta));
      placed = true;
    }
  }
  for (auto& sm : m_sms) sm->launch();
  m_go.notify(sc_core::SC_ZERO_TIME);
}

bool Gpu::finished() const {
  for (auto& s : m_sms)
    if (s->busy()) return false;
  return m_source_done;
}

void Gpu::watch_done() {
  for (;;) {
    sc_core::wait(m_go);
    for (auto& s : m_sms)
      if (s->busy()) sc_core::wait(s->done_event());
    m_kernel_done.notify(sc_core::SC_ZERO_TIME);
  }
}

void Gpu::up_b_transport(int, tlm::tlm_generic_payload& t, sc_time& delay) {
  host_socket->b_transport(t, delay);
}

uint32_t Gpu::reg_read(uint64_t off, const sc_time& delay) {
  switch (off) {
    case bar0::kTlbInvAck: return m_gmmu.inv_ack(delay);
    case bar0::kFaultBufPut: return m_gmmu.put();
    case bar0::kFaultBufStatus: return m_gmmu.status();
    case bar0::kIntrStatus:
      return (m_gmmu.irq_latched() ? hwref::kIntrFault : 0) | (m_ce.irq_latched() ? hwref::kIntrCopy : 0) |
             (m_ac.irq_latched() ? hwref::kIntrAccessCounter : 0);
    case bar0::kCeDoneSeq: return m_ce.done_seq();
    case bar0::kAcBufPut: return m_ac.put();
    case bar0::kAcStatus: return m_ac.status();
    case bar0::kAcDropped: return static_cast<uint32_t>(m_ac.s_dropped);
    default: return m_regs[off / 4];
  }
}

void Gpu::reg_write(uint64_t off, uint32_t v, const sc_time& delay) {
  auto r64 = [&](uint64_t lo) { return uint64_t(m_regs[lo / 4]) | (uint64_t(m_regs[lo / 4 + 1]) << 32); };
  switch (off) {
    case bar0::kId:
    case bar0::kTlbInvAck:
    case bar0::kAcBufPut:
    case bar0::kAcDropped:
    case bar0::kFaultBufPut:
    case bar0::kCeDoneSeq:
      return;  // read-only
    case bar0::kFaultBufStatus:
      if (v & 1) m_gmmu.clear_status();
      return;
    case bar0::kAcStatus:
      if (v & hwref::kAcStatusOverflow) m_ac.clear_status();
      return;
    case bar0::kIntrStatus:  // write 1 to clear; clearing the fault bit re-arms it
      if (v & hwref::kIntrFault) m_gmmu.ack_irq(delay);
      if (v & hwref::kIntrCopy) m_ce.clear_irq();
      if (v & hwref::kIntrAccessCounter) m_ac.ack_irq(delay);
      return;
    default:
      break;
  }
  m_regs[off / 4] = v;
  switch (off) {
    case bar0::kFaultBufEntries: m_gmmu.set_ring(r64(bar0::kFaultBufBaseLo), v); break;
    case bar0::kFaultBufGet: m_gmmu.set_get(v); break;
    case bar0::kPdbLo:
    case bar0::kPdbHi: m_gmmu.set_pdb(r64(bar0::kPdbLo)); break;
    case bar0::kMsiAddrLo:
    case bar0::kMsiAddrHi:
      m_gmmu.set_msi(r64(bar0::kMsiAddrLo));
      m_ce.set_msi(r64(bar0::kMsiAddrLo));
      m_ac.set_msi(r64(bar0::kMsiAddrLo));
      break;
    case bar0::kIntrEnable:
      m_ce.enable_irq(v & hwref::kIntrCopy);
      m_gmmu.enable_irq(v & hwref::kIntrFault, delay);
      m_ac.enable_irq(v & hwref::kIntrAccessCounter, delay);
      break;
    case bar0::kAcBufEntries: m_ac.set_ring(r64(bar0::kAcBufBaseLo), v); break;
    case bar0::kAcBufGet: m_ac.set_get(v); break;
    case bar0::kAcGranularity: m_ac.set_granularity_log2(v); break;  // out of range: ignored
    case bar0::kAcThreshold: m_ac.set_threshold(v); break;
    case bar0::kAcEnable: m_ac.enable(v & 1); break;
    case bar0::kAcClear:
      if (v == hwref::kAcClearAll) m_ac.clear_all();
      if (v == hwref::kAcClearTargeted) m_ac.clear(r64(bar0::kAcClearVaLo), r64(bar0::kAcClearLenLo));
      break;
    case bar0::kTlbInvTrigger:
      m_gmmu.invalidate(r64(bar0::kTlbInvVaLo), m_regs[bar0::kTlbInvPages / 4],
                        m_regs[bar0::kTlbInvScope / 4] & hwref::kTlbInvDirectories, delay);
      break;
    case bar0::kTlbInvSemaLo:
    case bar0::kTlbInvSemaHi: m_gmmu.set_inv_semaphore(r64(bar0::kTlbInvSemaLo)); break;
    case bar0::kReplay:
      if (v == hwref::kReplayTargeted) {
        const uint32_t u = m_regs[bar0::kReplayClient / 4];
        if (u < m_gmmu.utlbs()) m_gmmu.replay(u, delay);
      } else if (v == hwref::kReplayAll) {
        m_gmmu.replay(Gmmu::kAllUtlbs, delay);
      }
      break;
    case bar0::kCancelTrigger:
      m_gmmu.cancel(r64(bar0::kCancelVaLo), m_regs[bar0::kCancelClient / 4], delay);
      break;
    case bar0::kCeDoorbell: {
      CopyEngine::Descriptor d;
      d.src = r64(bar0::kCeSrcLo);
      d.dst = r64(bar0::kCeDstLo);
      d.len = m_regs[bar0::kCeLen / 4];
      d.dir = static_cast<hwref::CeDir>(m_regs[bar0::kCeDir / 4]);
      d.seq = v;
      m_ce.submit(d, delay);
      break;
    }
    default: break;
  }
}

void Gpu::bar_b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  const uint64_t a = t.get_address();
  const unsigned len = t.get_data_length();
  if (a >= hwref::kBar1Base) {  // BAR1: VRAM aperture
    t.set_address(a - hwref::kBar1Base);
    m_bar1->b_transport(t, delay);
    t.set_address(a);
    s_bar1_bytes += len;
    return;
  }
  if (len != 4 || (a & 3) || a + 4 > bar0::kSize) {
    ++s_decode_errors;
    t.set_response_status(len != 4 ? tlm::TLM_GENERIC_ERROR_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  delay += sc_time(m_spec.bar0_access_ns, SC_NS);
  uint32_t v = 0;
  if (t.is_read()) {
    ++s_bar0_reads;
    v = reg_read(a, delay);
    std::memcpy(t.get_data_ptr(), &v, 4);
  } else {
    ++s_bar0_writes;
    std::memcpy(&v, t.get_data_ptr(), 4);
    reg_write(a, v, delay);
  }
  t.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned Gpu::bar_transport_dbg(tlm::tlm_generic_payload& t) {
  const uint64_t a = t.get_address();
  if (a >= hwref::kBar1Base) {
    t.set_address(a - hwref::kBar1Base);
    unsigned n = m_bar1->transport_dbg(t);
    t.set_address(a);
    return n;
  }
  if (t.get_data_length() != 4 || a + 4 > bar0::kSize || !t.is_read()) return 0;
  uint32_t v = reg_read(a, sc_core::SC_ZERO_TIME);
  std::memcpy(t.get_data_ptr(), &v, 4);
  return 4;
}

}  // namespace hmmsim::hw
