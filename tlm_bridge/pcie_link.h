#pragma once
// A PCIe link between the host (root complex) and the GPU endpoint.
// Each direction is a resource with its own busy-until time: payloads are
// split into TLPs of max payload size, each carrying header/framing bytes;
// non-posted reads send header-only requests one way and completions with
// data the other way. Posted writes do not hold up their sender.
#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

namespace hmmsim::bridge {

struct PcieSpec {
  uint32_t gen = 4;        // 1..6
  uint32_t lanes = 16;     // 1, 2, 4, 8, 16
  uint32_t mps = 256;      // max payload size, bytes
  uint32_t mrrs = 512;     // max read request size, bytes
  uint32_t tlp_overhead_bytes = 24;  // header 16 + sequence 2 + LCRC 4 + framing 2
  double dllp_overhead = 0.03;       // ACK / flow-control DLLPs, fraction of link time
  double latency_ns = 350;           // one-way flight + PHY/controller pipeline
  // Raw bandwidth per direction in bytes/ns after line encoding.
  double raw_gbps() const;
};

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

  PcieLink(sc_core::sc_module_name name, const PcieSpec& spec);
  const PcieSpec& spec() const { return m_spec; }
  // Stats of the link direction carrying data downstream / upstream.
  LinkDirectionStats down, up;

 private:
  struct Dir {
    double busy_until = 0;
    LinkDirectionStats* stats;
  };
  // Occupies `d` with `tlps` TLPs carrying `payload` bytes from `at_ns`;
  // returns when the last byte arrives at the other end.
  double send(Dir& d, double at_ns, uint64_t payload, uint64_t tlps);
  void forward(bool downstream, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void b_down(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) { forward(true, t, delay); }
  void b_up(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) { forward(false, t, delay); }
  unsigned dbg_down(tlm::tlm_generic_payload& t) { return down_initiator->transport_dbg(t); }
  unsigned dbg_up(tlm::tlm_generic_payload& t) { return up_initiator->transport_dbg(t); }

  const PcieSpec m_spec;
  const double m_bw;  // bytes per ns, after DLLP overhead
  Dir m_down, m_up;
};

}  // namespace hmmsim::bridge
