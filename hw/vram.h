#pragma once
// Device memory: capacity-limited, real contents, and a channel/bank timing
// model (HBM2-like defaults from reference/peers.md §6). VramCore is plain
// C++; Vram wraps it in a TLM target shared by every on-chip initiator.
#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "common/page_store.h"

namespace hmmsim::hw {

struct VramSpec {
  uint64_t capacity_bytes = 64ull << 20;
  uint32_t channels = 8;
  uint32_t banks_per_channel = 16;
  uint32_t row_bytes = 2048;
  uint32_t interleave_bytes = 256;  // consecutive chunks go to the next channel
  double t_rcd_ns = 14, t_cl_ns = 14, t_rp_ns = 14;  // HBM2: tCK 1 ns, CL/tRCD/tRP 14
  double channel_gbps = 32;         // 128-bit channel at 2 Gb/s/pin = 32 GB/s
};

class VramCore {
 public:
  explicit VramCore(const VramSpec& s, common::DataMode mode = common::DataMode::Full);
  const VramSpec& spec() const { return m_spec; }
  bool in_range(uint64_t pa, uint64_t len) const { return pa + len <= m_spec.capacity_bytes && pa + len >= pa; }
  // `structure`: page-table bytes, kept exactly whatever the data mode.
  void read(uint64_t pa, uint8_t* dst, uint64_t len) const;
  void write(uint64_t pa, const uint8_t* src, uint64_t len, bool structure = false);
  const common::PageStore& store() const { return m_store; }
  // Reserves bank and channel time for an access arriving at `arrive_ns`;
  // returns when its data is done.
  double access(uint64_t pa, uint64_t len, double arrive_ns);

  uint64_t s_reads = 0, s_writes = 0, s_bytes_read = 0, s_bytes_written = 0;
  uint64_t s_row_hits = 0, s_row_misses = 0, s_row_conflicts = 0;

 private:
  struct Bank {
    int64_t open_row = -1;
    double busy_until = 0;
  };
  const VramSpec m_spec;
  std::vector<Bank> m_banks;
  std::vector<double> m_channel_busy;
  common::PageStore m_store;
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
