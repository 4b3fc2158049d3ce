#pragma once
// A streaming multiprocessor: one SC_THREAD runs all its resident warps as
// state machines (not one thread per warp). CTAs arrive from the GPU's
// dispatcher while warp and CTA slots are free; each warp pulls its
// instructions from its stream one at a time and issues them in order.
// Loads do not block the warp: a register scoreboard makes only the
// instructions that use a loaded value wait for it. A warp stalls on its
// own fault while the others keep issuing (latency hiding).
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "common/page_store.h"
#include "hw/access_observer.h"
#include "hw/access_counters.h"
#include "hw/gmmu/gmmu.h"
#include "hw/kernel/coalescer.h"
#include "hw/kernel/kernel_source.h"
#include "hw/sm_quantum_keeper.h"

namespace hmmsim::hw {

struct SmSpec {
  double clock_mhz = 1400;
  uint32_t issue_cycles = 1;     // SM issue slot per instruction
  uint32_t compute_cycles = 4;   // a non-memory instruction occupies its warp this long
  uint32_t shared_cycles = 20;   // shared/local/const access latency (no translation)
  uint32_t max_ctas = 32;        // resident CTAs per SM (sm_70/sm_80 limit)
  uint32_t max_warps = 64;       // resident warps per SM
  double quantum_ns = 500;       // temporal decoupling quantum
  common::DataMode data = common::DataMode::Full;
};

// Per-SM counters, summed by the platform into gpu.* and per kernel.
struct SmCounters {
  uint64_t instructions = 0, compute = 0;
  uint64_t loads = 0, stores = 0, atomics = 0;  // global warp memory instructions
  uint64_t shared = 0, local = 0, constant = 0;  // other spaces: time only
  uint64_t lanes = 0, sectors = 0, lines = 0, pages = 0, bytes = 0;
  uint64_t tlb_hits = 0, tlb_misses = 0, faults = 0, fatal = 0;
  uint64_t remote_lines = 0, access_errors = 0, ctas = 0, warps = 0;
  double fault_stall_ns = 0;
};

class Sm : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Sm> vram_socket;
  tlm_utils::simple_initiator_socket<Sm> host_socket;  // remote system memory over PCIe

  // The GPU's CTA dispatcher: the next CTA of the running kernel, or false.
  using CtaSupply = std::function<bool(CtaWork&)>;
  // Bad input found in a stream: the GPU stops the run.
  using ErrorSink = std::function<void(const std::string&)>;

  Sm(sc_core::sc_module_name name, unsigned id, const SmSpec& spec, Gmmu& gmmu);

  void set_observer(IAccessObserver* o) { m_observer = o; }
  // Remote (system memory) line accesses are counted here, Volta style.
  void set_access_counters(AccessCounters* ac) { m_counters = ac; }
  void connect(CtaSupply supply, ErrorSink error) {
    m_supply = std::move(supply);
    m_error = std::move(error);
  }
  // True if a CTA of `warps` warps fits now; assign() takes it (launch time).
  bool fits(unsigned warps) const;
  void assign(CtaWork&& cta);
  // Starts the kernel's work (after the initial CTAs were assigned).
  void launch();
  bool busy() const { return m_busy; }
  const sc_core::sc_event& done_event() const { return m_done_ev; }
  sc_core::sc_time finish_time() const { return m_finish; }

  SmCounters c;

 private:
  enum class WarpState : uint8_t { Free, Ready, WaitReplay };
  struct Warp {
    std::unique_ptr<IWarpStream> stream;
    WarpInstr cur;
    WarpState state = WarpState::Free;
    unsigned cta = 0;
    sc_core::sc_time ready_at, next_issue, done_at;
    uint64_t fault_gen = 0, fault_seq = 0;
    unsigned nfault_pages = 0;
    uint64_t fault_pages[Coalesced::kMaxLines];
    sc_core::sc_time fault_at;
    std::array<sc_core::sc_time, kRegCount> reg_ready;
  };
  struct CtaSlot {
    bool busy = false;
    unsigned warps_left = 0;
    sc_core::sc_time done_at;
  };

  void run();
  void run_kernel();
  void wake_replayed();
  void start_cta(CtaWork&& cta, const sc_core::sc_time& at);
  void pull_ctas(const sc_core::sc_time& at);
  void refill(const sc_core::sc_time& at);  // pending CTAs first, then new ones, while slots are free
  bool fetch(Warp& w);  // next instruction into w.cur; false when the warp ended
  // Frees the warp's slot; true if it was its CTA's last (the CTA slot is free then).
  bool release_warp(Warp& w);
  void finish_warp(Warp& w);  // release_warp, then refill a freed CTA slot
  void execute(Warp& w, unsigned wid, sc_core::sc_time issue);
  // Global memory instruction: false if it faulted (the warp waits for a replay).
  bool execute_global(Warp& w, unsigned wid, const sc_core::sc_time& issue, sc_core::sc_time& done);
  bool access_line(unsigned wid, const WarpInstr& in, const CoalescedLine& l, const Translation& t,
                   sc_core::sc_time& delay);
  void fill_store_data(const WarpInstr& in, const CoalescedLine& l, uint8_t* buf);

  const unsigned m_id;
  const SmSpec m_spec;
  const sc_core::sc_time m_cycle;
  Gmmu& m_gmmu;
  std::vector<Warp> m_warps;
  std::vector<unsigned> m_resident;  // slots holding a warp, ascending (replay wake-ups scan these)
  // Ready warps as a min-heap on (ready_at, slot): the scheduler's pick,
  // the earliest issue and ties to the lowest slot, in O(log warps).
  // (ready time, slot) packed in one word, so that a heap comparison is one
  // integer compare: slots take the low 10 bits (gpu.sm.max_warps <= 1024),
  // ready times in ps the rest, exact up to 2^54 ps (5 hours; run.max_sim_time
  // is at most 10^4 s, under 3 hours); later times would saturate.
  struct ReadyEntry {
    static constexpr unsigned kSlotBits = 10;
    static constexpr uint64_t kMaxAt = (uint64_t(1) << (64 - kSlotBits)) - 1;
    uint64_t key;
    ReadyEntry(uint64_t at, unsigned s) : key((std::min(at, kMaxAt) << kSlotBits) | s) {}
    unsigned slot() const { return unsigned(key & ((1u << kSlotBits) - 1)); }
    bool operator>(const ReadyEntry& o) const { return key > o.key; }
  };
  std::vector<ReadyEntry> m_ready;
  unsigned m_waiting = 0;  // resident warps waiting for a replay
  void make_ready(unsigned slot);
  void sift_down(size_t i);
  void requeue_picked(unsigned wid);
  bool m_requeue = false;  // the picked warp has its next instruction
  std::vector<CtaSlot> m_ctas;
  unsigned m_free_warps, m_free_ctas;
  std::vector<CtaWork> m_pending;  // assigned before launch
  CtaSupply m_supply;
  ErrorSink m_error;
  bool m_supply_done = false, m_stopped = false;
  IAccessObserver* m_observer = nullptr;
  AccessCounters* m_counters = nullptr;
  SmQuantumKeeper m_qk;
  sc_core::sc_event m_launch_ev, m_done_ev;
  bool m_busy = false;
  sc_core::sc_time m_finish;
  uint64_t m_store_seq = 0;
  uint64_t m_seen_replay_gen = 0;
  Coalesced m_co;
  Translation m_trans[Coalesced::kMaxLines];
  sc_core::sc_time m_trans_at[Coalesced::kMaxLines];
  uint8_t m_line_buf[kLineBytes];
  tlm::tlm_generic_payload m_payload;  // reused by access_line
};

}  // namespace hmmsim::hw
