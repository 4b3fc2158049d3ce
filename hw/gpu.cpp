#include "hw/gpu.h"

#include <algorithm>
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
      m_up("up"),
      m_bar1("bar1") {
  bar_socket.register_b_transport(this, &Gpu::bar_b_transport);
  bar_socket.register_transport_dbg(this, &Gpu::bar_transport_dbg);
  m_up.register_b_transport(this, &Gpu::up_b_transport);

  m_gmmu.vram_socket.bind(m_vram.table_socket);
  m_gmmu.host_socket.bind(m_up);
  m_l2.vram_socket.bind(m_vram.socket);
  m_ac.host_socket.bind(m_up);
  for (unsigned i = 0; i < std::max(1u, spec.copy_engines); ++i) {
    auto ce = std::make_unique<CopyEngine>(("ce" + std::to_string(i)).c_str(), spec.ce);
    ce->vram_socket.bind(m_l2.socket);
    ce->host_socket.bind(m_up);
    m_ces.push_back(std::move(ce));
    m_ce_regs[i][bar0::kCeOffFlags / 4] = hwref::kCeFlagIrq;  // reset: interrupt on completion
  }
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
    if (m_source->next_cta(out)) {
      ++m_ctas_dispatched;
      return true;
    }
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
  m_ctas_dispatched = 0;
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

void Gpu::set_trace(common::EventTrace* trace) {
  m_gmmu.set_trace(trace);
  for (size_t i = 0; i < m_ces.size(); ++i)
    m_ces[i]->set_trace(trace, trace ? trace->track("GPU", "copy engine " + std::to_string(i)) : 0);
}

}  // namespace hmmsim::hw
