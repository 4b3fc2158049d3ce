#pragma once
// Descriptor-driven DMA engine: BAR0 writes fill a descriptor and ring the
// doorbell, which queues it; a thread moves the bytes of one descriptor at a
// time (host memory over PCIe, VRAM locally), then publishes its sequence
// number, writes it to the completion semaphore if one is set, and raises
// the copy MSI if asked to. A GPU has several engines working in parallel;
// they share the link and VRAM, whose models limit their bandwidth.
#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "common/event_trace.h"
#include "hwref/gpu_regs.h"

namespace hmmsim::hw {

struct CopyEngineSpec {
  double setup_ns = 500;         // descriptor fetch and launch
  uint32_t chunk_bytes = 65536;  // one transfer per chunk; pipelining inside a chunk
  uint32_t queue_depth = 64;     // descriptors an engine holds; more are refused (counted as errors)
};

class CopyEngine : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<CopyEngine> host_socket;  // upstream PCIe
  tlm_utils::simple_initiator_socket<CopyEngine> vram_socket;

  CopyEngine(sc_core::sc_module_name name, const CopyEngineSpec& spec);

  struct Descriptor {
    uint64_t src = 0, dst = 0;
    uint32_t len = 0;
    hwref::CeDir dir = hwref::CeDir::HostToDevice;
    uint32_t seq = 0;
  };
  // BAR0 doorbell: queue a copy that becomes visible after `delay`.
  void submit(const Descriptor& d, const sc_core::sc_time& delay);
  uint32_t done_seq() const { return m_done_seq; }
  uint32_t queued() const { return static_cast<uint32_t>(m_queue.size()) + (m_busy ? 1 : 0); }
  void set_semaphore(uint64_t pa) { m_sema = pa; }
  void set_irq_on_completion(bool on) { m_irq_on_completion = on; }
  void set_msi(uint64_t addr) { m_msi_addr = addr; }
  void enable_irq(bool on) { m_irq_enabled = on; }
  bool irq_latched() const { return m_irq_latched; }
  void clear_irq() { m_irq_latched = false; }
  // Each copy is recorded as a slice on `track` (null: not recorded).
  void set_trace(common::EventTrace* trace, common::EventTrace::Track track) {
    m_trace = trace;
    m_track = track;
  }

  uint64_t s_copies = 0, s_bytes_h2d = 0, s_bytes_d2h = 0, s_bytes_d2d = 0, s_errors = 0;
  uint64_t s_refused = 0;  // doorbells on a full queue
  double s_busy_ns = 0;    // time spent copying

 private:
  void run();
  void record(const Descriptor& d, const sc_core::sc_time& took);
  bool xfer(tlm_utils::simple_initiator_socket<CopyEngine>& s, tlm::tlm_command cmd, uint64_t addr,
            uint8_t* data, uint32_t len, sc_core::sc_time& delay);

  const CopyEngineSpec m_spec;
  std::vector<std::pair<Descriptor, sc_core::sc_time>> m_queue;  // with arrival time
  sc_core::sc_event m_doorbell;
  uint32_t m_done_seq = 0;
  std::vector<uint8_t> m_buf;
  uint64_t m_msi_addr = 0;
  bool m_irq_enabled = false, m_irq_latched = false;
  bool m_irq_on_completion = true, m_busy = false;
  common::EventTrace* m_trace = nullptr;
  common::EventTrace::Track m_track = 0;
  uint64_t m_sema = 0;
};

}  // namespace hmmsim::hw
