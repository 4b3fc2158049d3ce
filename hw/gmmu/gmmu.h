#pragma once
// GPU MMU: the translation hierarchy (hw/gmmu/translation_path.h) with a
// SystemC face, and the replayable fault unit that writes 32-byte entries
// into a ring in host memory and raises MSIs. Walk reads are real VRAM
// reads through vram_socket.
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "common/event_trace.h"
#include "common/histogram.h"
#include "hw/gmmu/translation_path.h"
#include "hwref/fault_entry.h"

namespace hmmsim::hw {

struct GmmuSpec {
  double clock_mhz = 1400;
  WalkerSpec walker;                  // walkers, per-level cycles, page-walk cache
  uint32_t max_faults_per_utlb = 56;  // Titan V (Allen & Ge SC'21)
  double replay_latency_ns = 100;     // replay command to warps retrying
  double invalidate_ns = 300;         // TLB invalidate: broadcast and collect acks (estimate)
  std::optional<common::SpecError> validate() const;
};

class Gmmu : public sc_core::sc_module, private ITableMemory {
 public:
  tlm_utils::simple_initiator_socket<Gmmu> vram_socket;  // walks
  tlm_utils::simple_initiator_socket<Gmmu> host_socket;  // fault entries, semaphores, MSIs

  Gmmu(sc_core::sc_module_name name, const GmmuSpec& spec, const TlbHierarchySpec& tlbs, unsigned utlbs);

  enum class Outcome { Hit, Walked, Faulted };
  struct Result {
    Outcome outcome;
    Translation t;
  };
  // Called from an SM thread; `delay` is its local time offset and grows by
  // the translation latency. `order`: this lookup's place among the pages of
  // one instruction (the L1 starts lookups_per_cycle of them per cycle).
  // Faulted: the access waits for a replay of its uTLB.
  Result translate(unsigned utlb, uint64_t va, Access a, sc_core::sc_time& delay, unsigned order = 0);

  // Replay generation of a uTLB: bumped by each replay that covers it;
  // accesses that faulted in an older generation retry from replay_time().
  uint64_t replay_gen(unsigned utlb) const { return m_replay_gen[utlb]; }
  sc_core::sc_time replay_time(unsigned utlb) const { return m_replay_time[utlb]; }
  const sc_core::sc_event& replay_event() const { return m_replay_ev; }
  // True if `page` was cancelled for `utlb` after fault sequence `since`.
  bool cancelled(unsigned utlb, uint64_t page, uint64_t since) const;
  uint64_t fault_seq() const { return m_fault_seq; }

  // BAR0 side effects.
  void set_pdb(uint64_t pa) { m_path.walker().set_root(pa); }
  void set_ring(uint64_t base, uint32_t entries);
  void set_get(uint32_t get) { m_get = get; }
  uint32_t put() const { return m_put; }
  uint32_t status() const { return m_overflow ? 1 : 0; }
  void clear_status() { m_overflow = false; }
  void set_msi(uint64_t addr) { m_msi_addr = addr; }
  void enable_irq(bool on, const sc_core::sc_time& delay);
  void ack_irq(const sc_core::sc_time& delay);  // re-arm; fires again if entries remain
  bool irq_latched() const { return m_irq_latched; }
  // Drops translations of [va, va + pages x 4 KiB) (pages == 0: all); with
  // `directories`, page-walk-cache entries too. Takes invalidate_ns; the
  // command's number shows in inv_ack() and, if a semaphore address is
  // set, is written there when it completes.
  void invalidate(uint64_t va, uint64_t pages, bool directories, const sc_core::sc_time& delay);
  uint32_t inv_ack(const sc_core::sc_time& delay) const;  // last completed invalidate
  void set_inv_semaphore(uint64_t pa) { m_inv_sema = pa; }
  // utlb == kAllUtlbs replays every uTLB.
  static constexpr uint32_t kAllUtlbs = 0xFFFFFFFF;
  void replay(uint32_t utlb, const sc_core::sc_time& delay);
  void cancel(uint64_t va, uint32_t utlb, const sc_core::sc_time& delay);

  // Faults (on a track per uTLB, "SM i"), replays with a flow from each
  // fault they release, invalidates and walks are recorded (null: none).
  void set_trace(common::EventTrace* trace);

  TranslationPath& path() { return m_path; }
  TlbLevel& l1(unsigned i) { return m_path.l1(i); }
  unsigned utlbs() const { return m_path.utlbs(); }

  uint64_t s_faults = 0, s_faults_merged = 0, s_faults_dropped = 0, s_faults_reraised = 0;
  uint64_t s_fatal = 0, s_replays = 0, s_replays_targeted = 0, s_msis = 0;
  uint64_t s_invalidates = 0, s_invalidates_full = 0;
  uint64_t s_faults_by_type[4] = {};  // InvalidPde, InvalidPte, Write, Atomic
  // ns from a fault entry's write to the replay that lets its access retry.
  common::Histogram s_fault_latency_ns;
  // ns of translations that missed the L1 TLB and found a valid entry
  // further on (L2 or a walk).
  common::Histogram s_miss_latency_ns;

 private:
  bool read(uint64_t pa, void* dst, unsigned len, double& t) override;
  void raise_fault(unsigned utlb, uint64_t page, Access a, hwref::FaultType type, sc_core::sc_time& delay);
  void post(uint64_t pa, const void* data, unsigned len, sc_core::sc_time delay);
  void send_msi(uint32_t vector, sc_core::sc_time delay);
  void record_fault(unsigned utlb, const hwref::FaultEntry& e, double written_ns);
  uint32_t record_replay(uint32_t utlb, const sc_core::sc_time& from, const sc_core::sc_time& to);

  const GmmuSpec m_spec;
  const double m_cycle_ns;
  TranslationPath m_path;
  struct Pending {
    double written;  // ns the entry was written
    uint64_t flow;   // its flow id in the event trace (the fault's number)
  };
  std::vector<std::map<uint64_t, Pending>> m_pending;  // per uTLB: pages with a fault in the ring
  std::vector<std::set<uint64_t>> m_dropped;  // per uTLB: pages whose fault was dropped
  uint64_t m_ring = 0;
  uint32_t m_entries = 0, m_put = 0, m_get = 0;
  bool m_overflow = false;
  bool m_irq_enabled = false, m_irq_armed = true, m_irq_latched = false;
  uint64_t m_msi_addr = 0;
  uint64_t m_fault_seq = 0;
  std::vector<uint64_t> m_replay_gen;
  std::vector<sc_core::sc_time> m_replay_time;
  sc_core::sc_event m_replay_ev;
  std::map<std::pair<uint64_t, uint32_t>, uint64_t> m_cancelled;  // (page, uTLB or all) -> fault_seq
  uint32_t m_inv_issued = 0;
  std::vector<std::pair<uint32_t, sc_core::sc_time>> m_inv_done;  // (number, completion), in order
  uint64_t m_inv_sema = 0;
  common::EventTrace* m_trace = nullptr;
  std::vector<common::EventTrace::Track> m_sm_tracks;
  common::EventTrace::Track m_replay_track = 0, m_inv_track = 0;
};

}  // namespace hmmsim::hw
