#pragma once
// The GPU as seen from the PCIe link: BAR0 registers and the BAR1 VRAM
// aperture behind one target socket, and one upstream initiator socket that
// every on-chip requester (fault unit, copy engine, SM remote accesses)
// shares. Inside: VRAM behind an optional L2 data cache, the GMMU, the
// access counter unit, the copy engines and the SMs.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "hw/access_counters.h"
#include "hw/copy_engine.h"
#include "hw/gmmu/gmmu.h"
#include "hw/l2_cache.h"
#include "hw/sm.h"
#include "hw/vram.h"

namespace hmmsim::hw {

struct GpuSpec {
  unsigned sms = 2;
  SmSpec sm;
  TlbHierarchySpec tlb;
  GmmuSpec gmmu;
  VramSpec vram;
  L2CacheSpec l2;               // off by default: SMs and copy engine go straight to VRAM
  AccessCounterSpec counters;   // reset values of the access counter unit
  CopyEngineSpec ce;
  unsigned copy_engines = 1;    // each with its own descriptor queue in BAR0
  double bar0_access_ns = 20;  // register decode on the device side
};

class Gpu : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Gpu> bar_socket;      // downstream from the link
  tlm_utils::simple_initiator_socket<Gpu> host_socket;  // upstream to the link

  Gpu(sc_core::sc_module_name name, const GpuSpec& spec);

  Vram& vram() { return m_vram; }
  Gmmu& gmmu() { return m_gmmu; }
  CopyEngine& copy_engine(unsigned i = 0) { return *m_ces.at(i); }
  unsigned copy_engines() const { return static_cast<unsigned>(m_ces.size()); }
  L2Cache& l2() { return m_l2; }
  AccessCounters& access_counters() { return m_ac; }
  Sm& sm(unsigned i) { return *m_sms.at(i); }
  unsigned sm_count() const { return static_cast<unsigned>(m_sms.size()); }

  // Runs `source`'s grid: CTAs go round-robin onto SMs while they fit,
  // then to whichever SM frees a slot. kernel_done() fires when every CTA
  // has completed, or when bad input stopped the kernel (source_error()).
  // The source must outlive the kernel. A CTA that can never fit an SM is
  // bad input, like a malformed trace.
  void launch(IKernelSource& source);
  // Records faults, replays, invalidates, walks and copies (null: none).
  void set_trace(common::EventTrace* trace);
  const sc_core::sc_event& kernel_done() const { return m_kernel_done; }
  bool finished() const;
  const std::string& source_error() const { return m_source_error; }
  uint64_t kernels_launched() const { return m_launches; }
  // The running (or last) kernel's CTAs: dispatched so far, and in its grid.
  uint64_t ctas_dispatched() const { return m_ctas_dispatched; }
  uint64_t grid_ctas() const { return m_source ? m_source->info().grid.count() : 0; }

  uint64_t s_bar0_reads = 0, s_bar0_writes = 0, s_bar1_bytes = 0, s_decode_errors = 0;

 private:
  void bar_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  unsigned bar_transport_dbg(tlm::tlm_generic_payload& t);
  void up_b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  uint32_t reg_read(uint64_t off, const sc_core::sc_time& delay);
  void reg_write(uint64_t off, uint32_t v, const sc_core::sc_time& delay);
  // Copy engine `e`'s block register at offset `off` (hwref::bar0::kCeOff*).
  uint32_t ce_read(unsigned e, uint64_t off);
  void ce_write(unsigned e, uint64_t off, uint32_t v, const sc_core::sc_time& delay);
  void watch_done();
  bool next_cta(CtaWork& out);
  void fail_source(const std::string& msg);

  const GpuSpec m_spec;
  Vram m_vram;
  L2Cache m_l2;
  AccessCounters m_ac;
  Gmmu m_gmmu;
  std::vector<std::unique_ptr<CopyEngine>> m_ces;
  std::vector<std::unique_ptr<Sm>> m_sms;
  tlm_utils::multi_passthrough_target_socket<Gpu> m_up;  // on-chip requesters -> host_socket
  tlm_utils::simple_initiator_socket<Gpu> m_bar1;         // BAR1 -> VRAM
  sc_core::sc_event m_go, m_kernel_done;
  IKernelSource* m_source = nullptr;
  bool m_source_done = true;
  std::string m_source_error;
  uint64_t m_launches = 0;
  uint64_t m_ctas_dispatched = 0;
  uint32_t m_regs[hwref::bar0::kSize / 4] = {};
  uint32_t m_ce_regs[hwref::bar0::kCeMaxEngines][hwref::bar0::kCeStride / 4] = {};
};

}  // namespace hmmsim::hw
