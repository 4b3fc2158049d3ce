#pragma once
// A PCIe link between the host (root complex) and the GPU endpoint.
// Each direction is a resource with its own busy-until time, moving TLP
// bytes at PcieSpec::tlp_gbps(): payloads are split into TLPs at
// mps-aligned boundaries, each carrying the overhead of its kind; non-posted
// reads send header-only requests (mrrs-aligned) one way and completions
// with the data the other way. Posted writes do not hold up their sender.
// Flit Mode is charged as a fluid: a partly filled flit sent when the link
// goes idle costs only its TLP bytes.
#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/event_trace.h"
#include "tlm_bridge/pcie_spec.h"

namespace hmmsim::bridge {

struct LinkDirectionStats {
  uint64_t s_tlps = 0, s_payload_bytes = 0, s_wire_bytes = 0;
  double s_busy_ns = 0;
};

class PcieLink : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<PcieLink> down_target;     // host -> device requests
  tlm_utils::simple_initiator_socket<PcieLink> down_initiator;
  tlm_utils::simple_target_socket<PcieLink> up_target;       // device -> host requests
  tlm_utils::simple_initiator_socket<PcieLink> up_initiator;

  // Throws std::invalid_argument naming the field if spec.validate() fails.
  PcieLink(sc_core::sc_module_name name, const PcieSpec& spec);
  const PcieSpec& spec() const { return m_spec; }
  // Stats of the link direction carrying data downstream / upstream.
  LinkDirectionStats down, up;
  // Each direction's transfers are recorded on its own track (null: none).
  void set_trace(common::EventTrace* trace);

 private:
  struct Dir {
    double busy_until = 0;
    LinkDirectionStats* stats;
    common::EventTrace::Track track = 0;
  };
  // Occupies `d` with `tlps` TLPs of `overhead` bytes each carrying
  // `payload` bytes in all from `at_ns`; returns when the last byte arrives
  // at the other end.
  double send(Dir& d, double at_ns, uint64_t payload, uint64_t tlps, uint32_t overhead, const char* what);
  void forward(bool downstream, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void b_down(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) { forward(true, t, delay); }
  void b_up(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) { forward(false, t, delay); }
  unsigned dbg_down(tlm::tlm_generic_payload& t) { return down_initiator->transport_dbg(t); }
  unsigned dbg_up(tlm::tlm_generic_payload& t) { return up_initiator->transport_dbg(t); }

  const PcieSpec m_spec;
  const double m_bw;  // TLP bytes per ns, after line code and DLLP overhead
  Dir m_down, m_up;
  common::EventTrace* m_trace = nullptr;
};

}  // namespace hmmsim::bridge
