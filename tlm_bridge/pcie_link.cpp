#include "tlm_bridge/pcie_link.h"

#include <algorithm>
#include <stdexcept>

#include "hw/sim_time.h"

namespace hmmsim::bridge {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {

const PcieSpec& checked(const PcieSpec& s) {
  if (auto err = s.validate()) throw std::invalid_argument("PcieSpec." + err->key + ": " + err->message);
  return s;
}

}  // namespace

PcieLink::PcieLink(sc_core::sc_module_name name, const PcieSpec& spec)
    : sc_module(name),
      down_target("down_target"),
      down_initiator("down_initiator"),
      up_target("up_target"),
      up_initiator("up_initiator"),
      m_spec(checked(spec)),
      m_bw(m_spec.tlp_gbps()),
      m_down{0, &down},
      m_up{0, &up} {
  down_target.register_b_transport(this, &PcieLink::b_down);
  up_target.register_b_transport(this, &PcieLink::b_up);
  down_target.register_transport_dbg(this, &PcieLink::dbg_down);
  up_target.register_transport_dbg(this, &PcieLink::dbg_up);
}

void PcieLink::set_trace(common::EventTrace* trace) {
  m_trace = trace;
  if (!trace) return;
  m_down.track = trace->track("PCIe", "down (host to device)");
  m_up.track = trace->track("PCIe", "up (device to host)");
}

double PcieLink::send(Dir& d, double at, uint64_t payload, uint64_t tlps, uint32_t overhead, const char* what) {
  const uint64_t wire = payload + tlps * overhead;
  const double start = std::max(at, d.busy_until);
  const double ser = double(wire) / m_bw;
  d.busy_until = start + ser;
  d.stats->s_tlps += tlps;
  d.stats->s_payload_bytes += payload;
  d.stats->s_wire_bytes += wire;
  d.stats->s_busy_ns += ser;
  if (m_trace) {
    using ET = common::EventTrace;
    m_trace->slice(d.track, what, ET::ps_of_ns(start), ET::ps_of_ns(d.busy_until),
                   {ET::num("payload_bytes", payload), ET::num("wire_bytes", wire), ET::num("tlps", tlps)});
  }
  return d.busy_until + m_spec.latency_ns;
}

void PcieLink::forward(bool downstream, tlm::tlm_generic_payload& t, sc_time& delay) {
  Dir& req = downstream ? m_down : m_up;
  Dir& cpl = downstream ? m_up : m_down;
  auto& out = downstream ? down_initiator : up_initiator;
  const double now = hw::ns_of(sc_core::sc_time_stamp());
  const double at = now + hw::ns_of(delay);
  const uint64_t addr = t.get_address(), len = t.get_data_length();
  if (t.is_write()) {
    const double arrive =
        send(req, at, len, tlp_count(addr, len, m_spec.mps), m_spec.tlp_overhead(TlpKind::MemWrite), "write");
    sc_time d(arrive - now, SC_NS);
    out->b_transport(t, d);
    delay = d;
    return;
  }
  // Non-posted read: header-only requests, then completions carrying data
  // (a completion never spans an mrrs boundary: completion_bytes() <= mrrs).
  const double arrive =
      send(req, at, 0, tlp_count(addr, len, m_spec.mrrs), m_spec.tlp_overhead(TlpKind::MemRead), "read request");
  sc_time d(arrive - now, SC_NS);
  out->b_transport(t, d);
  const double served = now + hw::ns_of(d);
  const double done = send(cpl, served, len, tlp_count(addr, len, m_spec.completion_bytes()),
                           m_spec.tlp_overhead(TlpKind::Completion), "read completion");
  delay = sc_time(done - now, SC_NS);
}

}  // namespace hmmsim::bridge
