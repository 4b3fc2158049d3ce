#pragma once
// A streaming multiprocessor: one SC_THREAD runs all its warps as state
// machines (not one thread per warp). Each warp executes its memory
// instructions in order; a warp stalls on its own access or fault while
// the others keep issuing, which is where latency hiding comes from.
#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "hw/access_observer.h"
#include "hw/gmmu.h"

namespace hmmsim::hw {

struct SmSpec {
  double clock_mhz = 1400;
  uint32_t issue_cycles = 1;  // SM issue slot per instruction
  double quantum_ns = 500;    // temporal decoupling quantum
};

class Sm : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Sm> vram_socket;
  tlm_utils::simple_initiator_socket<Sm> host_socket;  // remote system memory over PCIe

  Sm(sc_core::sc_module_name name, unsigned id, const SmSpec& spec, Gmmu& gmmu);

  void load(std::vector<std::vector<WarpOp>> warps);
  void set_observer(IAccessObserver* o) { m_observer = o; }
  void start(const sc_core::sc_event& go) { m_go = &go; }
  bool done() const { return m_done; }
  const sc_core::sc_event& done_event() const { return m_done_ev; }
  sc_core::sc_time finish_time() const { return m_finish; }

  uint64_t s_instructions = 0, s_loads = 0, s_stores = 0, s_bytes = 0;
  uint64_t s_tlb_hits = 0, s_tlb_misses = 0, s_faults = 0, s_fatal = 0;
  uint64_t s_remote_accesses = 0, s_access_errors = 0;
  double s_fault_stall_ns = 0;

 private:
  enum class WarpState : uint8_t { Ready, WaitReplay, Finished, Failed };
  struct Warp {
    std::vector<WarpOp> ops;
    size_t pc = 0;
    WarpState state = WarpState::Ready;
    sc_core::sc_time ready_at;
    uint64_t fault_gen = 0, fault_seq = 0;
    uint64_t fault_page = 0;
    sc_core::sc_time fault_at;
  };
  void run();
  void wake_replayed();
  bool access(Warp& w, unsigned wid, const WarpOp& op, const Translation& t, sc_core::sc_time& delay);

  const unsigned m_id;
  const SmSpec m_spec;
  const sc_core::sc_time m_cycle;
  Gmmu& m_gmmu;
  std::vector<Warp> m_warps;
  IAccessObserver* m_observer = nullptr;
  const sc_core::sc_event* m_go = nullptr;
  tlm_utils::tlm_quantumkeeper m_qk;
  bool m_done = false;
  sc_core::sc_event m_done_ev;
  sc_core::sc_time m_finish;
  std::vector<uint8_t> m_buf;
};

}  // namespace hmmsim::hw
