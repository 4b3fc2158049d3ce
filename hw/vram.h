#pragma once
// Device memory: capacity-limited, real contents, and a DRAM timing model
// chosen by name (hw/dram/: bank_row by default, presets in
// dram_presets.h). VramCore is plain C++; Vram wraps it in a TLM target
// shared by every on-chip initiator.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "common/page_store.h"
#include "hw/dram/dram_timing.h"

namespace hmmsim::hw {

// The DRAM Spec (organisation, mapping, timings; defaults HBM2-like, 8 x
// 128-bit channels, docs/parameters.md) plus what only VRAM has.
struct VramSpec : DramSpec {
  uint64_t capacity_bytes = 64ull << 20;
  std::string impl = "bank_row";  // a name in dram_timing_registry()
};

class VramCore {
  const VramSpec m_spec;
  std::unique_ptr<IDramTiming> m_timing;  // before the counter references below
  common::PageStore m_store;

 public:
  // Throws std::invalid_argument for an unknown impl or a bad Spec.
  explicit VramCore(const VramSpec& s, common::DataMode mode = common::DataMode::Full);
  const VramSpec& spec() const { return m_spec; }
  bool in_range(uint64_t pa, uint64_t len) const { return pa + len <= m_spec.capacity_bytes && pa + len >= pa; }
  // `structure`: page-table bytes, kept exactly whatever the data mode.
  void read(uint64_t pa, uint8_t* dst, uint64_t len) const;
  void write(uint64_t pa, const uint8_t* src, uint64_t len, bool structure = false);
  const common::PageStore& store() const { return m_store; }
  // Reserves bank and channel time for an access arriving at `arrive_ns`;
  // returns when its data is done (IDramTiming::access).
  double access(uint64_t pa, uint64_t len, double arrive_ns, bool write = false) {
    return m_timing->access(pa, len, write, arrive_ns);
  }
  const IDramTiming& timing() const { return *m_timing; }

  // Per TLM transaction (Vram counts them).
  uint64_t s_reads = 0, s_writes = 0, s_bytes_read = 0, s_bytes_written = 0;
  // The timing model's row-buffer outcomes, per timed unit.
  const uint64_t& s_row_hits = m_timing->counters().row_hits;
  const uint64_t& s_row_misses = m_timing->counters().row_misses;
  const uint64_t& s_row_conflicts = m_timing->counters().row_conflicts;
};

class Vram : public sc_core::sc_module {
  // Either socket may be left unbound (unit tests drive one of them).
  using Socket = tlm_utils::multi_passthrough_target_socket<Vram, 32, tlm::tlm_base_protocol_types, 0,
                                                            sc_core::SC_ZERO_OR_MORE_BOUND>;

 public:
  Socket socket;        // data: SMs, copy engine
  Socket table_socket;  // page tables: walker, BAR1
  Vram(sc_core::sc_module_name name, const VramSpec& spec, common::DataMode mode = common::DataMode::Full);
  VramCore& core() { return m_core; }
  uint64_t s_decode_errors = 0;

 private:
  void b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void table_b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay, bool structure);
  void write_enabled(const tlm::tlm_generic_payload& t, bool structure);
  unsigned transport_dbg(int id, tlm::tlm_generic_payload& t);
  VramCore m_core;
};

}  // namespace hmmsim::hw
