#pragma once
// GPU MMU: per-SM L1 TLBs, a page walker over the device's radix table in
// VRAM (real reads through the VRAM socket), and the replayable fault unit
// that writes 32-byte entries into the ring in host memory and raises MSIs.
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "hw/tlb.h"
#include "hwref/fault_entry.h"

namespace hmmsim::hw {

struct GmmuSpec {
  double clock_mhz = 1400;
  uint32_t walkers = 8;               // concurrent page walks
  uint32_t walk_level_cycles = 20;    // walker work per level besides the VRAM read
  uint32_t max_faults_per_utlb = 56;  // Titan V (reference/uvm-driver.md §1)
  double replay_latency_ns = 100;     // replay command to warps retrying
};

class Gmmu : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Gmmu> vram_socket;  // walks
  tlm_utils::simple_initiator_socket<Gmmu> host_socket;  // fault entries + MSI, upstream

  Gmmu(sc_core::sc_module_name name, const GmmuSpec& spec, const TlbSpec& l1, unsigned utlbs);

  enum class Outcome { Hit, Walked, Faulted, Fatal };
  struct Result {
    Outcome outcome;
    Translation t;
  };
  // Called from an SM thread; `delay` is its local time offset and grows by
  // the translation latency. Faulted: the access waits for a replay.
  Result translate(unsigned utlb, uint64_t va, bool write, sc_core::sc_time& delay);

  // Replay generation: bumped by every replay command; warps that faulted
  // in an older generation may retry from replay_time().
  uint64_t replay_gen() const { return m_replay_gen; }
  sc_core::sc_time replay_time() const { return m_replay_time; }
  const sc_core::sc_event& replay_event() const { return m_replay_ev; }
  // True if `page` was cancelled after fault generation `since`.
  bool cancelled(uint64_t page, uint64_t since) const;
  uint64_t fault_seq() const { return m_fault_seq; }

  // BAR0 side effects.
  void set_pdb(uint64_t pa) { m_pdb = pa; }
  void set_ring(uint64_t base, uint32_t entries);
  void set_get(uint32_t get) { m_get = get; }
  uint32_t put() const { return m_put; }
  uint32_t status() const { return m_overflow ? 1 : 0; }
  void clear_status() { m_overflow = false; }
  void set_msi(uint64_t addr) { m_msi_addr = addr; }
  void enable_irq(bool on, const sc_core::sc_time& delay);
  void ack_irq(const sc_core::sc_time& delay);  // re-arm; fires again if entries remain
  bool irq_latched() const { return m_irq_latched; }
  void invalidate(uint64_t va, uint64_t pages);
  void replay(const sc_core::sc_time& delay);
  void cancel(uint64_t va, const sc_core::sc_time& delay);

  Tlb& l1(unsigned i) { return *m_l1[i]; }
  unsigned utlbs() const { return static_cast<unsigned>(m_l1.size()); }

  uint64_t s_walks = 0, s_walk_reads = 0, s_faults = 0, s_faults_merged = 0;
  uint64_t s_faults_dropped = 0, s_fatal = 0, s_replays = 0, s_msis = 0;
  uint64_t s_invalidates = 0;
  double s_walk_ns = 0;

 private:
  struct WalkOut {
    bool valid;
    uint64_t pte;
    hwref::FaultType type;
  };
  WalkOut walk(uint64_t va, sc_core::sc_time& delay);
  uint64_t read64(uint64_t pa, sc_core::sc_time& delay);
  void raise_fault(unsigned utlb, uint64_t page, bool write, hwref::FaultType type, sc_core::sc_time& delay);
  void send_msi(uint32_t vector, sc_core::sc_time delay);

  const GmmuSpec m_spec;
  const double m_cycle_ns;
  std::vector<std::unique_ptr<Tlb>> m_l1;
  std::vector<std::set<uint64_t>> m_pending;  // per uTLB: pages with a fault in flight
  std::vector<double> m_walker_busy;          // ns
  uint64_t m_pdb = 0;
  uint64_t m_ring = 0;
  uint32_t m_entries = 0, m_put = 0, m_get = 0;
  bool m_overflow = false;
  bool m_irq_enabled = false, m_irq_armed = true, m_irq_latched = false;
  uint64_t m_msi_addr = 0;
  uint64_t m_replay_gen = 0, m_fault_seq = 0;
  sc_core::sc_time m_replay_time;
  sc_core::sc_event m_replay_ev;
  std::map<uint64_t, uint64_t> m_cancelled;  // page -> fault_seq at cancel
};

}  // namespace hmmsim::hw
