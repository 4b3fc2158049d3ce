#pragma once
// The L2 as a TLM module between on-chip requesters (SMs, copy engine) and
// VRAM's data socket. It models timing and tag state only; the bytes always
// live in VRAM:
//   data   every read and write moves its bytes through VRAM's debug
//          transport at once (untimed), so VRAM holds exactly what it would
//          without the cache, for every data mode and for requesters that
//          bypass the L2 (walker, BAR1). Stale tags can only cost time.
//   timing a hit costs the L2 hit latency; a read miss also waits for timed
//          VRAM reads of the missing sectors (into a scratch buffer); dirty
//          victims go to VRAM as posted timed writes with every byte
//          disabled, which reserve bank and bus time and change nothing.
// With spec.enabled false the module is a wire: transactions pass to VRAM
// unchanged, so the integrator can always instantiate it.
#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include "hw/l2_cache_core.h"

namespace hmmsim::hw {

class L2Cache : public sc_core::sc_module {
  using Socket = tlm_utils::multi_passthrough_target_socket<L2Cache, 32, tlm::tlm_base_protocol_types, 0,
                                                            sc_core::SC_ZERO_OR_MORE_BOUND>;

 public:
  Socket socket;                                            // SMs, copy engine
  tlm_utils::simple_initiator_socket<L2Cache> vram_socket;  // to Vram::socket

  // Throws std::invalid_argument if spec.validate() fails.
  L2Cache(sc_core::sc_module_name name, const L2CacheSpec& spec);
  L2CacheCore& core() { return m_core; }
  bool enabled() const { return m_core.spec().enabled; }

  // Driver commands. Both return the offset from now at which the last
  // writeback they caused has landed (delay if none); the writebacks are
  // timed VRAM writes that reserve DRAM time. Data is never at risk (VRAM
  // already holds it), so discarding dirty lines is safe for freed pages.
  sc_core::sc_time flush(const sc_core::sc_time& delay);
  sc_core::sc_time invalidate_range(uint64_t pa, uint64_t len, const sc_core::sc_time& delay,
                                    bool writeback = false);

  uint64_t s_decode_errors = 0;  // data accesses VRAM refused (address error, nothing cached)
  uint64_t s_dram_errors = 0;    // timed fill/writeback transfers VRAM refused

 private:
  void b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  unsigned transport_dbg(int id, tlm::tlm_generic_payload& t);
  bool move_data(tlm::tlm_generic_payload& t);
  // Issues `runs` as timed VRAM transfers arriving at `at`; returns the latest completion.
  sc_core::sc_time dram(const std::vector<L2Run>& runs, tlm::tlm_command cmd, const sc_core::sc_time& at);

  L2CacheCore m_core;
  const sc_core::sc_time m_hit;
  std::vector<uint8_t> m_scratch;  // fill data lands here (VRAM's bytes already went to the requester)
};

}  // namespace hmmsim::hw
