// The SM's load/store unit: one global warp memory instruction is coalesced,
// each distinct page translated (in parallel, from the issue time), and each
// line accessed in VRAM or, when mapped remotely, in host memory over PCIe.
#include <algorithm>
#include <cstring>

#include "hw/sm.h"
#include "hwref/page_table_format.h"

namespace hmmsim::hw {

using sc_core::sc_time;

bool Sm::execute_global(Warp& w, unsigned wid, const sc_time& issue, sc_time& done) {
  const WarpInstr& in = w.cur;
  const bool write = in.writes_memory();
  const bool data = m_spec.data != common::DataMode::Off;
  coalesce(in, m_co, write && data);
  // Every page is looked up from the issue time: the TLB takes them in
  // parallel, walks queue on walker slots. Faults go out together.
  const sc_time base = m_qk.get_local_time();
  unsigned nfault = 0;
  sc_time fault_at = issue;
  for (unsigned p = 0; p < m_co.npages; ++p) {
    sc_time d = base;
    const Access acc = in.cls == InstrClass::Atomic ? Access::Atomic : write ? Access::Write : Access::Read;
    Gmmu::Result r = m_gmmu.translate(m_id, m_co.pages[p], acc, d, p);
    if (r.outcome == Gmmu::Outcome::Hit)
      ++c.tlb_hits;
    else
      ++c.tlb_misses;
    if (r.outcome == Gmmu::Outcome::Faulted) {
      w.fault_pages[nfault++] = m_co.pages[p];
      fault_at = std::max(fault_at, m_qk.stamp() + d);
      continue;
    }
    m_trans[p] = r.t;
    m_trans_at[p] = d;
  }
  if (nfault) {
    ++c.faults;
    w.state = WarpState::WaitReplay;
    ++m_waiting;
    w.nfault_pages = nfault;
    w.fault_gen = m_gmmu.replay_gen(m_id);
    w.fault_seq = m_gmmu.fault_seq();
    // The instruction retries whole after the replay; pages that were
    // mapped hit in the TLB then.
    w.fault_at = fault_at;
    return false;
  }
  done = issue;
  for (unsigned i = 0; i < m_co.nlines; ++i) {
    const CoalescedLine& l = m_co.lines[i];
    sc_time d = m_trans_at[l.page];
    if (access_line(wid, in, l, m_trans[l.page], d)) done = std::max(done, m_qk.stamp() + d);
  }
  ++(in.cls == InstrClass::Load ? c.loads : in.cls == InstrClass::Store ? c.stores : c.atomics);
  c.lanes += m_co.active_lanes;
  c.sectors += m_co.sectors;
  c.lines += m_co.nlines;
  c.pages += m_co.npages;
  c.bytes += m_co.bytes;
  return true;
}

// Store data, a function of the address only so that every line of one
// instruction agrees: with a value, the 32-bit word at `a` is value +
// (a - first lane's address) / 4 * stride; otherwise a fresh version word
// repeated, which is also what a page holds in `tag` data mode (each byte
// of it new, so a store of any width changes the page's tag).
void Sm::fill_store_data(const WarpInstr& in, const CoalescedLine& l, uint8_t* buf) {
  if (in.has_value) {
    const uint64_t first = in.addr[__builtin_ctz(in.mask)];
    for (unsigned o = l.lo & ~3u; o < l.hi; o += 4) {
      const uint32_t v = in.value + static_cast<uint32_t>((l.addr + o - first) / 4) * in.stride;
      std::memcpy(buf + o, &v, 4);
    }
    return;
  }
  const uint64_t version = common::version_word((uint64_t(m_id + 1) << 48) | m_store_seq);
  common::fill_word_pattern(buf + l.lo, l.addr + l.lo, l.hi - l.lo, version);
}

bool Sm::access_line(unsigned wid, const WarpInstr& in, const CoalescedLine& l, const Translation& t,
                     sc_time& delay) {
  namespace pt = hwref::pt;
  const bool local = t.aperture == static_cast<uint8_t>(pt::Aperture::Vram);
  const uint32_t len = l.hi - l.lo;
  const uint64_t pa = t.pa_of(l.addr + l.lo);
  auto& socket = local ? vram_socket : host_socket;
  if (!local) {
    ++c.remote_lines;
    if (m_counters) m_counters->record(l.addr + l.lo, static_cast<pt::Aperture>(t.aperture), 1, delay);
  }
  // One payload for every access (constructing one allocates its extension array).
  tlm::tlm_generic_payload& p = m_payload;
  p.set_byte_enable_ptr(nullptr);
  p.set_byte_enable_length(0);
  p.set_address(pa);
  p.set_data_ptr(m_line_buf + l.lo);
  p.set_data_length(len);
  p.set_streaming_width(len);
  auto transact = [&](tlm::tlm_command cmd) {
    p.set_command(cmd);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    socket->b_transport(p, delay);
    if (p.is_response_ok()) return true;
    ++c.access_errors;
    return false;
  };
  if (in.cls != InstrClass::Store) {  // loads, and the read half of an atomic
    if (!transact(tlm::TLM_READ_COMMAND)) return false;
    if (m_observer) m_observer->on_load(m_id, wid, l.addr + l.lo, m_line_buf + l.lo, len);
  }
  if (in.cls == InstrClass::Load) return true;
  if (m_spec.data != common::DataMode::Off) {
    ++m_store_seq;
    fill_store_data(in, l, m_line_buf);
    p.set_byte_enable_ptr(const_cast<uint8_t*>(l.enable + l.lo));
    p.set_byte_enable_length(len);
  }
  if (!transact(tlm::TLM_WRITE_COMMAND)) return false;
  if (m_observer) m_observer->on_store(m_id, wid, l.addr + l.lo, m_line_buf + l.lo, l.enable + l.lo, len);
  return true;
}

}  // namespace hmmsim::hw
