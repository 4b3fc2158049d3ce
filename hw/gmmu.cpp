#include "hw/gmmu.h"

#include <algorithm>

#include "hwref/gpu_regs.h"
#include "hwref/page_table_format.h"

namespace hmmsim::hw {

using sc_core::sc_time;
using sc_core::SC_NS;
namespace pt = hwref::pt;

Gmmu::Gmmu(sc_core::sc_module_name name, const GmmuSpec& spec, const TlbSpec& l1, unsigned utlbs)
    : sc_module(name),
      vram_socket("vram_socket"),
      host_socket("host_socket"),
      m_spec(spec),
      m_cycle_ns(1000.0 / spec.clock_mhz),
      m_pending(utlbs),
      m_walker_busy(spec.walkers, 0.0) {
  for (unsigned i = 0; i < utlbs; ++i) m_l1.push_back(std::make_unique<Tlb>(l1));
}

uint64_t Gmmu::read64(uint64_t pa, sc_time& delay) {
  uint64_t v = 0;
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_READ_COMMAND);
  t.set_address(pa);
  t.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
  t.set_data_length(8);
  t.set_streaming_width(8);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  vram_socket->b_transport(t, delay);
  ++s_walk_reads;
  return t.is_response_ok() ? v : 0;  // a decode error reads as "not present"
}

Gmmu::WalkOut Gmmu::walk(uint64_t va, sc_time& delay) {
  ++s_walks;
  // Take the walker slot that frees first.
  const double arrive = (sc_core::sc_time_stamp() + delay).to_seconds() * 1e9;
  auto slot = std::min_element(m_walker_busy.begin(), m_walker_busy.end());
  const double start = std::max(arrive, *slot);
  delay += sc_time(start - arrive, SC_NS);
  uint64_t table = m_pdb;
  WalkOut out{false, 0, hwref::FaultType::InvalidPde};
  for (unsigned level = 0; level < pt::kLevels; ++level) {
    delay += sc_time(m_spec.walk_level_cycles * m_cycle_ns, SC_NS);
    const uint64_t e = read64(table + pt::entry_offset(level, va), delay);
    if (level + 1 < pt::kLevels) {
      if (!pt::pde_present(e)) break;
      table = pt::address(e);
      continue;
    }
    out.type = hwref::FaultType::InvalidPte;
    if (pt::pte_valid(e)) out = WalkOut{true, e, hwref::FaultType::InvalidPte};
  }
  const double done = (sc_core::sc_time_stamp() + delay).to_seconds() * 1e9;
  *slot = done;
  s_walk_ns += done - start;
  return out;
}

Gmmu::Result Gmmu::translate(unsigned utlb, uint64_t va, bool write, sc_time& delay) {
  const uint64_t vpn = va >> 12;
  Tlb& tlb = *m_l1[utlb];
  delay += sc_time(tlb.spec().hit_cycles * m_cycle_ns, SC_NS);
  if (auto hit = tlb.lookup(vpn)) {
    if (!write || hit->writable) return {Outcome::Hit, *hit};
    tlb.invalidate(vpn, 1);  // stale read-only entry: refetch, then fault
  }
  WalkOut w = walk(va, delay);
  if (w.valid && (!write || pt::pte_writable(w.pte))) {
    Translation t{pt::address(w.pte), static_cast<uint8_t>(pt::aperture(w.pte)), pt::pte_writable(w.pte)};
    tlb.insert(vpn, t);
    return {Outcome::Walked, t};
  }
  raise_fault(utlb, va & ~0xFFFull, write, w.valid ? hwref::FaultType::Write : w.type, delay);
  return {Outcome::Faulted, {}};
}

void Gmmu::raise_fault(unsigned utlb, uint64_t page, bool write, hwref::FaultType type, sc_time& delay) {
  ++m_fault_seq;
  auto& pend = m_pending[utlb];
  if (pend.count(page)) {  // the uTLB already has this page's fault in flight
    ++s_faults_merged;
    return;
  }
  const bool ring_full = m_entries == 0 || (m_put + 1) % m_entries == m_get;
  if (pend.size() >= m_spec.max_faults_per_utlb || ring_full) {
    // Dropped: the access simply waits for the next replay and refaults.
    ++s_faults_dropped;
    if (ring_full) m_overflow = true;
    if (m_irq_enabled && m_irq_armed) {
      m_irq_armed = false;
      send_msi(hwref::kMsiVectorFault, delay);
    }
    return;
  }
  pend.insert(page);
  ++s_faults;
  hwref::FaultEntry e;
  e.va = page;
  e.timestamp_ps = (sc_core::sc_time_stamp() + delay).value();  // resolution is 1 ps
  e.client = utlb;
  e.sm = static_cast<uint16_t>(utlb);
  e.access = write ? hwref::AccessType::Write : hwref::AccessType::Read;
  e.type = type;
  e.valid = 1;
  uint8_t raw[hwref::kFaultEntryBytes];
  hwref::encode(e, raw);
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_WRITE_COMMAND);
  t.set_address(m_ring + uint64_t(m_put) * hwref::kFaultEntryBytes);
  t.set_data_ptr(raw);
  t.set_data_length(sizeof raw);
  t.set_streaming_width(sizeof raw);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_time d = delay;  // posted: the walker does not wait for it to land
  host_socket->b_transport(t, d);
  m_put = (m_put + 1) % m_entries;
  if (m_irq_enabled && m_irq_armed) {
    m_irq_armed = false;
    send_msi(hwref::kMsiVectorFault, delay);
  }
}

void Gmmu::send_msi(uint32_t vector, sc_time delay) {
  ++s_msis;
  m_irq_latched = true;
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_WRITE_COMMAND);
  t.set_address(m_msi_addr);
  t.set_data_ptr(reinterpret_cast<unsigned char*>(&vector));
  t.set_data_length(4);
  t.set_streaming_width(4);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  host_socket->b_transport(t, delay);
}

void Gmmu::set_ring(uint64_t base, uint32_t entries) {
  m_ring = base;
  m_entries = entries;
  m_put = m_get = 0;
}

void Gmmu::enable_irq(bool on, const sc_time& delay) {
  m_irq_enabled = on;
  if (on) ack_irq(delay);
}

void Gmmu::ack_irq(const sc_time& delay) {
  m_irq_armed = true;
  m_irq_latched = false;
  if (m_irq_enabled && (m_put != m_get || m_overflow)) {
    m_irq_armed = false;
    send_msi(hwref::kMsiVectorFault, delay);
  }
}

void Gmmu::invalidate(uint64_t va, uint64_t pages) {
  ++s_invalidates;
  for (auto& t : m_l1) t->invalidate(va >> 12, pages);
}

void Gmmu::replay(const sc_time& delay) {
  ++s_replays;
  ++m_replay_gen;
  for (auto& p : m_pending) p.clear();
  const sc_time d = delay + sc_time(m_spec.replay_latency_ns, SC_NS);
  m_replay_time = sc_core::sc_time_stamp() + d;
  m_replay_ev.notify(d);
}

void Gmmu::cancel(uint64_t va, const sc_time&) {
  ++s_fatal;
  // Recorded only: the cancelled accesses learn their fate on the replay
  // that ends the driver's batch, like the rest of the batch.
  m_cancelled[va & ~0xFFFull] = m_fault_seq;
}

bool Gmmu::cancelled(uint64_t page, uint64_t since) const {
  auto it = m_cancelled.find(page);
  return it != m_cancelled.end() && it->second >= since;
}

}  // namespace hmmsim::hw
