#include "hw/gmmu/gmmu.h"

#include <algorithm>
#include <cmath>

#include "hw/sim_time.h"
#include "hwref/gpu_regs.h"
#include "hwref/page_table_format.h"

namespace hmmsim::hw {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
double ns_at(const sc_time& t) { return static_cast<double>(t.value()) * 1e-3; }  // resolution: 1 ps
sc_time time_of_ns(double ns) { return sc_time_of_ps(static_cast<uint64_t>(llround_exact(ns * 1e3))); }
}  // namespace

std::optional<common::SpecError> GmmuSpec::validate() const {
  if (max_faults_per_utlb == 0) return common::SpecError{"max_faults_per_utlb", "must be at least 1"};
  return walker.validate();
}

Gmmu::Gmmu(sc_core::sc_module_name name, const GmmuSpec& spec, const TlbHierarchySpec& tlbs, unsigned utlbs)
    : sc_module(name),
      vram_socket("vram_socket"),
      host_socket("host_socket"),
      m_spec(spec),
      m_cycle_ns(1000.0 / spec.clock_mhz),
      m_path(tlbs, spec.walker, utlbs, m_cycle_ns, *this),
      m_pending(utlbs),
      m_dropped(utlbs),
      m_replay_gen(utlbs, 0),
      m_replay_time(utlbs) {}

bool Gmmu::read(uint64_t pa, void* dst, unsigned len, double& t) {
  tlm::tlm_generic_payload p;
  p.set_command(tlm::TLM_READ_COMMAND);
  p.set_address(pa);
  p.set_data_ptr(static_cast<unsigned char*>(dst));
  p.set_data_length(len);
  p.set_streaming_width(len);
  p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  const sc_time now = sc_core::sc_time_stamp();
  sc_time delay = time_of_ns(t) - now;
  vram_socket->b_transport(p, delay);
  t = ns_at(now + delay);
  return p.is_response_ok();
}

Gmmu::Result Gmmu::translate(unsigned utlb, uint64_t va, Access a, sc_time& delay, unsigned order) {
  const double t0 = ns_at(sc_core::sc_time_stamp() + delay);
  const double start = t0 + (order / m_path.l1_lookups_per_cycle()) * m_cycle_ns;
  const XlateResult r = m_path.translate(utlb, va, a, start);
  delay += time_of_ns(r.done - t0);
  if (r.valid && r.t.permits(a)) {
    if (r.level != XlateLevel::L1) s_miss_latency_ns.add(r.done - start);
    return {r.level == XlateLevel::L1 ? Outcome::Hit : Outcome::Walked, r.t};
  }
  hwref::FaultType type = r.fault;
  if (r.valid) type = (a == Access::Atomic && r.t.writable) ? hwref::FaultType::Atomic : hwref::FaultType::Write;
  raise_fault(utlb, va & ~0xFFFull, a, type, delay);
  return {Outcome::Faulted, {}};
}

void Gmmu::raise_fault(unsigned utlb, uint64_t page, Access a, hwref::FaultType type, sc_time& delay) {
  ++m_fault_seq;
  auto& pend = m_pending[utlb];
  if (pend.count(page)) {  // the uTLB already has this page's fault in the ring
    ++s_faults_merged;
    return;
  }
  const bool ring_full = m_entries == 0 || (m_put + 1) % m_entries == m_get;
  if (pend.size() >= m_spec.max_faults_per_utlb || ring_full) {
    // Dropped: the access waits for the next replay and faults again then.
    ++s_faults_dropped;
    m_dropped[utlb].insert(page);
    if (ring_full) m_overflow = true;
    if (m_irq_enabled && m_irq_armed) {
      m_irq_armed = false;
      send_msi(hwref::kMsiVectorFault, delay);
    }
    return;
  }
  if (m_dropped[utlb].erase(page)) ++s_faults_reraised;
  const double written = ns_at(sc_core::sc_time_stamp() + delay);
  ++s_faults;
  pend.emplace(page, Pending{written, s_faults});
  ++s_faults_by_type[std::min<unsigned>(static_cast<unsigned>(type), 3)];
  hwref::FaultEntry e;
  e.va = page;
  e.timestamp_ps = (sc_core::sc_time_stamp() + delay).value();
  e.client = utlb;
  e.sm = static_cast<uint16_t>(utlb);
  e.access = a == Access::Read    ? hwref::AccessType::Read
             : a == Access::Write ? hwref::AccessType::Write
                                  : hwref::AccessType::AtomicStrong;
  e.type = type;
  e.valid = 1;
  uint8_t raw[hwref::kFaultEntryBytes];
  hwref::encode(e, raw);
  if (m_trace) record_fault(utlb, e, written);
  post(m_ring + uint64_t(m_put) * hwref::kFaultEntryBytes, raw, sizeof raw, delay);
  m_put = (m_put + 1) % m_entries;
  if (m_irq_enabled && m_irq_armed) {
    m_irq_armed = false;
    send_msi(hwref::kMsiVectorFault, delay);
  }
}

// Posted write upstream: the requester does not wait for it to land.
void Gmmu::post(uint64_t pa, const void* data, unsigned len, sc_time delay) {
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_WRITE_COMMAND);
  t.set_address(pa);
  t.set_data_ptr(static_cast<unsigned char*>(const_cast<void*>(data)));
  t.set_data_length(len);
  t.set_streaming_width(len);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  host_socket->b_transport(t, delay);
}

void Gmmu::send_msi(uint32_t vector, sc_time delay) {
  ++s_msis;
  m_irq_latched = true;
  post(m_msi_addr, &vector, 4, delay);
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

void Gmmu::invalidate(uint64_t va, uint64_t pages, bool directories, const sc_time& delay) {
  ++s_invalidates;
  if (pages == 0) ++s_invalidates_full;
  // Entries go at once (no later lookup may use them); the acknowledgement
  // comes when every uTLB has answered, invalidate_ns later.
  m_path.invalidate(va & ~0xFFFull, pages * 4096, directories);
  const sc_time done = sc_core::sc_time_stamp() + delay + sc_time(m_spec.invalidate_ns, SC_NS);
  const uint32_t number = ++m_inv_issued;
  if (m_inv_done.size() >= 64) m_inv_done.erase(m_inv_done.begin(), m_inv_done.begin() + 32);
  m_inv_done.emplace_back(number, done);
  if (m_inv_sema) post(m_inv_sema, &number, 4, done - sc_core::sc_time_stamp());
  if (m_trace) {
    using ET = common::EventTrace;
    m_trace->slice(m_inv_track, "TLB invalidate", (sc_core::sc_time_stamp() + delay).value(), done.value(),
                   {ET::hex("va", va & ~0xFFFull), ET::num("pages", pages), ET::num("directories", directories)});
  }
}

uint32_t Gmmu::inv_ack(const sc_time& delay) const {
  const sc_time at = sc_core::sc_time_stamp() + delay;
  for (auto it = m_inv_done.rbegin(); it != m_inv_done.rend(); ++it)
    if (it->second <= at) return it->first;
  // Older than what is kept: those completed long ago.
  return m_inv_done.empty() ? m_inv_issued : m_inv_done.front().first - 1;
}

void Gmmu::replay(uint32_t utlb, const sc_time& delay) {
  ++s_replays;
  const sc_time d = delay + sc_time(m_spec.replay_latency_ns, SC_NS);
  const sc_time at = sc_core::sc_time_stamp() + d;
  const uint32_t slice = m_trace ? record_replay(utlb, sc_core::sc_time_stamp() + delay, at) : 0;
  for (unsigned u = 0; u < utlbs(); ++u) {
    if (utlb != kAllUtlbs && u != utlb) continue;
    ++m_replay_gen[u];
    for (const auto& [page, p] : m_pending[u]) {
      s_fault_latency_ns.add(ns_at(at) - p.written);
      if (m_trace) m_trace->flow_in(slice, p.flow);
    }
    m_pending[u].clear();
    m_replay_time[u] = at;
  }
  if (utlb != kAllUtlbs) ++s_replays_targeted;
  m_replay_ev.notify(d);
}

void Gmmu::cancel(uint64_t va, uint32_t utlb, const sc_time&) {
  ++s_fatal;
  // Recorded only: the cancelled accesses learn their fate on the replay
  // that ends the driver's batch, like the rest of the batch.
  m_cancelled[{va & ~0xFFFull, utlb}] = m_fault_seq;
}

bool Gmmu::cancelled(unsigned utlb, uint64_t page, uint64_t since) const {
  for (uint32_t who : {uint32_t(utlb), kAllUtlbs}) {
    auto it = m_cancelled.find({page, who});
    if (it != m_cancelled.end() && it->second >= since) return true;
  }
  return false;
}

}  // namespace hmmsim::hw

namespace hmmsim::hw {

void Gmmu::set_trace(common::EventTrace* trace) {
  m_trace = trace;
  m_sm_tracks.clear();
  if (trace) {
    for (unsigned u = 0; u < utlbs(); ++u) m_sm_tracks.push_back(trace->track("GPU", "SM " + std::to_string(u)));
    m_replay_track = trace->track("GPU", "GMMU replays");
    m_inv_track = trace->track("GPU", "GMMU TLB invalidates");
  }
  m_path.walker().set_trace(trace);
}

namespace {
const char* access_name(hwref::AccessType a) {
  switch (a) {
    case hwref::AccessType::Read: return "read";
    case hwref::AccessType::Write: return "write";
    default: return "atomic";
  }
}
const char* fault_name(hwref::FaultType t) {
  switch (t) {
    case hwref::FaultType::InvalidPde: return "fault: invalid PDE";
    case hwref::FaultType::InvalidPte: return "fault: invalid PTE";
    case hwref::FaultType::Write: return "fault: write to read-only";
    default: return "fault: atomic";
  }
}
}  // namespace

// The model takes no time to form an entry: the slice is drawn 1 ns wide
// (sim/timeline.cpp) so that the fault's flow arrow has a slice to start from.
void Gmmu::record_fault(unsigned utlb, const hwref::FaultEntry& e, double written_ns) {
  using ET = common::EventTrace;
  const uint64_t at = ET::ps_of_ns(written_ns);
  const uint32_t s = m_trace->slice(m_sm_tracks[utlb], fault_name(e.type), at, at,
                                    {ET::hex("va", e.va), ET::text("access", access_name(e.access)),
                                     ET::num("fault", s_faults)});
  m_trace->flow_out(s, s_faults);
}

// From the replay command's arrival to the warps retrying; the flows of the
// faults it releases end here.
uint32_t Gmmu::record_replay(uint32_t utlb, const sc_core::sc_time& from, const sc_core::sc_time& to) {
  using ET = common::EventTrace;
  uint64_t waiting = 0;
  for (unsigned u = 0; u < utlbs(); ++u)
    if (utlb == kAllUtlbs || u == utlb) waiting += m_pending[u].size();
  if (utlb == kAllUtlbs)
    return m_trace->slice(m_replay_track, "replay (all uTLBs)", from.value(), to.value(), {ET::num("faults", waiting)});
  return m_trace->slice(m_replay_track, "replay", from.value(), to.value(),
                        {ET::num("utlb", utlb), ET::num("faults", waiting)});
}

}  // namespace hmmsim::hw
