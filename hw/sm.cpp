#include "hw/sm.h"

#include <algorithm>
#include <cstring>

#include "hwref/page_table_format.h"

namespace hmmsim::hw {

using sc_core::sc_time;
using sc_core::SC_NS;

Sm::Sm(sc_core::sc_module_name name, unsigned id, const SmSpec& spec, Gmmu& gmmu)
    : sc_module(name),
      vram_socket("vram_socket"),
      host_socket("host_socket"),
      m_id(id),
      m_spec(spec),
      m_cycle(1000.0 / spec.clock_mhz, SC_NS),
      m_gmmu(gmmu) {
  SC_HAS_PROCESS(Sm);
  SC_THREAD(run);
}

void Sm::load(std::vector<std::vector<WarpOp>> warps) {
  m_warps.clear();
  for (auto& ops : warps) {
    Warp w;
    w.ops = std::move(ops);
    w.state = w.ops.empty() ? WarpState::Finished : WarpState::Ready;
    m_warps.push_back(std::move(w));
  }
}

void Sm::wake_replayed() {
  for (unsigned i = 0; i < m_warps.size(); ++i) {
    Warp& w = m_warps[i];
    if (w.state != WarpState::WaitReplay || w.fault_gen >= m_gmmu.replay_gen()) continue;
    if (m_gmmu.cancelled(w.fault_page, w.fault_seq)) {
      w.state = WarpState::Failed;
      ++s_fatal;
      if (m_observer) m_observer->on_fatal(m_id, i, w.fault_page, m_gmmu.replay_time().value());
      continue;
    }
    w.state = WarpState::Ready;
    // With temporal decoupling the fault may carry a later time stamp than
    // the replay that releases it; never resume before the fault itself.
    w.ready_at = std::max(m_gmmu.replay_time(), w.fault_at);
    s_fault_stall_ns += (w.ready_at - w.fault_at).to_seconds() * 1e9;
  }
}

bool Sm::access(Warp& w, unsigned wid, const WarpOp& op, const Translation& t, sc_time& delay) {
  namespace pt = hwref::pt;
  m_buf.resize(op.bytes);
  if (op.write)
    for (uint32_t k = 0; k + 4 <= op.bytes; k += 4) {
      uint32_t v = op.value + (k / 4) * op.stride;
      std::memcpy(&m_buf[k], &v, 4);
    }
  const bool local = t.aperture == static_cast<uint8_t>(pt::Aperture::Vram);
  tlm::tlm_generic_payload p;
  p.set_command(op.write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  p.set_address(t.pa | (op.va & 0xFFF));
  p.set_data_ptr(m_buf.data());
  p.set_data_length(op.bytes);
  p.set_streaming_width(op.bytes);
  p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  if (local) {
    vram_socket->b_transport(p, delay);
  } else {
    ++s_remote_accesses;
    host_socket->b_transport(p, delay);
  }
  if (!p.is_response_ok()) {
    ++s_access_errors;
    return false;
  }
  (op.write ? s_stores : s_loads) += 1;
  s_bytes += op.bytes;
  if (m_observer)
    m_observer->on_access(m_id, wid, op, m_buf.data(), (sc_core::sc_time_stamp() + delay).value());
  (void)w;
  return true;
}

void Sm::run() {
  m_qk.set_global_quantum(sc_time(m_spec.quantum_ns, SC_NS));
  if (!m_go) return;
  sc_core::wait(*m_go);
  m_qk.reset();
  for (;;) {
    wake_replayed();
    // Pick the ready warp that can issue earliest (ties: lowest id).
    Warp* pick = nullptr;
    unsigned wid = 0;
    bool live = false;
    for (unsigned i = 0; i < m_warps.size(); ++i) {
      Warp& w = m_warps[i];
      if (w.state == WarpState::WaitReplay) live = true;
      if (w.state != WarpState::Ready) continue;
      live = true;
      if (!pick || w.ready_at < pick->ready_at) pick = &w, wid = i;
    }
    if (!live) break;
    if (!pick) {  // every warp waits on a fault: sleep until a replay
      m_qk.sync();
      sc_core::wait(m_gmmu.replay_event());
      continue;
    }
    const sc_time now = m_qk.get_current_time();
    if (pick->ready_at > now) m_qk.set(pick->ready_at - sc_core::sc_time_stamp());
    if (m_qk.need_sync()) m_qk.sync();

    const WarpOp& op = pick->ops[pick->pc];
    sc_time delay = m_qk.get_local_time();
    const sc_time issue = sc_core::sc_time_stamp() + delay;
    Gmmu::Result r = m_gmmu.translate(m_id, op.va, op.write, delay);
    if (r.outcome == Gmmu::Outcome::Hit)
      ++s_tlb_hits;
    else
      ++s_tlb_misses;
    if (r.outcome == Gmmu::Outcome::Faulted) {
      ++s_faults;
      pick->state = WarpState::WaitReplay;
      pick->fault_gen = m_gmmu.replay_gen();
      pick->fault_seq = m_gmmu.fault_seq();
      pick->fault_page = op.va & ~0xFFFull;
      pick->fault_at = sc_core::sc_time_stamp() + delay;
    } else {
      ++s_instructions;
      access(*pick, wid, op, r.t, delay);
      pick->ready_at = sc_core::sc_time_stamp() + delay;
      if (++pick->pc == pick->ops.size())
        pick->state = WarpState::Finished;  // ready_at now marks its last completion
      else
        pick->ready_at += op.gap_cycles * m_cycle;
    }
    // The SM can issue again after its issue slot, whatever the warp waits on.
    m_qk.set(issue + m_spec.issue_cycles * m_cycle - sc_core::sc_time_stamp());
  }
  // The kernel is done when the last access has completed, not when the
  // last instruction issued.
  for (const Warp& w : m_warps)
    if (w.state == WarpState::Finished && w.ready_at > m_qk.get_current_time())
      m_qk.set(w.ready_at - sc_core::sc_time_stamp());
  m_qk.sync();
  m_finish = sc_core::sc_time_stamp();
  m_done = true;
  m_done_ev.notify(sc_core::SC_ZERO_TIME);
}

}  // namespace hmmsim::hw
