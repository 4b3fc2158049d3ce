#include "tlm_bridge/pcie_link.h"

#include <algorithm>
#include <stdexcept>

namespace hmmsim::bridge {

using sc_core::sc_time;
using sc_core::SC_NS;

double PcieSpec::raw_gbps() const {
  // GT/s per lane and line-code efficiency: 8b/10b up to Gen2, 128b/130b for
  // Gen3-5, FLIT mode (242/256) for Gen6.
  static const double rate[] = {0, 2.5, 5.0, 8.0, 16.0, 32.0, 64.0};
  if (gen < 1 || gen > 6) throw std::invalid_argument("PCIe generation must be 1..6");
  const double enc = gen <= 2 ? 8.0 / 10 : gen <= 5 ? 128.0 / 130 : 242.0 / 256;
  return rate[gen] * lanes * enc / 8.0;
}

PcieLink::PcieLink(sc_core::sc_module_name name, const PcieSpec& spec)
    : sc_module(name),
      down_target("down_target"),
      down_initiator("down_initiator"),
      up_target("up_target"),
      up_initiator("up_initiator"),
      m_spec(spec),
      m_bw(spec.raw_gbps() * (1.0 - spec.dllp_overhead)),
      m_down{0, &down},
      m_up{0, &up} {
  down_target.register_b_transport(this, &PcieLink::b_down);
  up_target.register_b_transport(this, &PcieLink::b_up);
  down_target.register_transport_dbg(this, &PcieLink::dbg_down);
  up_target.register_transport_dbg(this, &PcieLink::dbg_up);
}

double PcieLink::send(Dir& d, double at, uint64_t payload, uint64_t tlps) {
  const uint64_t wire = payload + tlps * m_spec.tlp_overhead_bytes;
  const double start = std::max(at, d.busy_until);
  const double ser = double(wire) / m_bw;
  d.busy_until = start + ser;
  d.stats->s_tlps += tlps;
  d.stats->s_payload_bytes += payload;
  d.stats->s_wire_bytes += wire;
  d.stats->s_busy_ns += ser;
  return d.busy_until + m_spec.latency_ns;
}

void PcieLink::forward(bool downstream, tlm::tlm_generic_payload& t, sc_time& delay) {
  Dir& req = downstream ? m_down : m_up;
  Dir& cpl = downstream ? m_up : m_down;
  auto& out = downstream ? down_initiator : up_initiator;
  const double now = sc_core::sc_time_stamp().to_seconds() * 1e9;
  const double at = now + delay.to_seconds() * 1e9;
  const uint64_t len = t.get_data_length();
  auto ceil_div = [](uint64_t a, uint64_t b) { return (a + b - 1) / b; };
  if (t.is_write()) {
    const double arrive = send(req, at, len, std::max<uint64_t>(1, ceil_div(len, m_spec.mps)));
    sc_time d(arrive - now, SC_NS);
    out->b_transport(t, d);
    delay = d;
    return;
  }
  // Non-posted read: header-only requests, then completions carrying data.
  const double arrive = send(req, at, 0, std::max<uint64_t>(1, ceil_div(len, m_spec.mrrs)));
  sc_time d(arrive - now, SC_NS);
  out->b_transport(t, d);
  const double served = now + d.to_seconds() * 1e9;
  const double done = send(cpl, served, len, std::max<uint64_t>(1, ceil_div(len, m_spec.mps)));
  delay = sc_time(done - now, SC_NS);
}

}  // namespace hmmsim::bridge
