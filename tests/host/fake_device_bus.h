#pragma once
// FakeDeviceBus: an untimed, in-memory functional model of the GPU as the
// driver sees it over BAR0/BAR1 (hwref/gpu_regs.h). It keeps a register file,
// a VRAM byte store, performs copy-engine commands synchronously against the
// host PhysMem, and records the side effects tests want to check (TLB
// invalidates, replays, cancels, copies). Test helpers play the GMMU
// (push_fault) and independently walk the device page table in VRAM (walk).
#include <cstdint>
#include <map>
#include <vector>

#include "host/gpu_driver/device_bus.h"
#include "host/mm/phys_mem.h"
#include "hwref/fault_entry.h"
#include "hwref/gpu_regs.h"

namespace hmmsim::test {

class FakeDeviceBus : public hmmsim::host::DeviceBus {
 public:
  // Every VRAM byte starts as this, so "the driver cleared it" is checkable.
  static constexpr uint8_t kVramPoison = 0xA5;

  struct TlbInvalidate {
    uint64_t va;     // value of the VA registers at trigger time
    uint32_t pages;  // 0 = everything
    bool directories = false;  // page-walk caches too
  };
  struct CeCommand {
    hwref::CeDir dir;
    uint64_t src, dst;
    uint32_t len;
    uint32_t seq;
  };

  FakeDeviceBus(hmmsim::host::PhysMem& phys, uint64_t vram_bytes);

  // ---- DeviceBus ----
  uint32_t mmio_read32(uint64_t offset) override;
  void mmio_write32(uint64_t offset, uint32_t value) override;
  void vram_write(uint64_t vram_pa, const void* src, uint64_t len) override;
  void vram_read(uint64_t vram_pa, void* dst, uint64_t len) override;
  void wait_irq(uint32_t vector) override;
  void cpu_work(double ns) override { m_cpu_ns += ns; }
  uint64_t now_ps() const override { return static_cast<uint64_t>(m_cpu_ns * 1000.0); }

  // ---- GMMU side (test helpers) ----
  // Writes one valid fault entry at PUT into the ring in host memory and
  // advances PUT. Returns false (and sets the overflow status bit) if full.
  // Like the GMMU, raises a fault MSI only when the interrupt is enabled and
  // armed; the driver re-arms it by writing kIntrFault to kIntrStatus, which
  // fires again at once if entries remain (or an overflow is pending).
  bool push_fault(uint64_t va, hwref::AccessType access, uint16_t sm = 0);
  // What the GMMU's walker (hw/gmmu/page_walker.cpp) finds for `va`,
  // reading the radix table in VRAM from the PDB register with the same
  // precedence: a 2 MiB PTE in PD0 word 0, else a valid 64 KiB PTE in the
  // table PD0 word 0 points to, else the 4 KiB PTE of the table word 1
  // points to.
  struct WalkInfo {
    uint64_t leaf = 0;   // the PTE word found (the large PTE itself), 0 if none
    unsigned shift = 0;  // 12, 16 or 21 when valid
    uint64_t pa = 0;     // PA of va's 4 KiB page when valid
    unsigned reads = 0;  // table reads, no page-walk cache (PD0 is one 16-byte read)
    bool valid() const { return shift != 0; }
  };
  WalkInfo walk_info(uint64_t va) const;
  // The translation of `va` as the equivalent 4 KiB PTE word (a large PTE's
  // bits with the address of va's 4 KiB page inside it), or 0 if none is
  // valid or some directory level is not present.
  uint64_t walk(uint64_t va) const;

  // ---- inspection ----
  uint32_t reg(uint64_t offset) const;
  uint64_t reg64(uint64_t lo_offset) const {
    return uint64_t(reg(lo_offset)) | (uint64_t(reg(lo_offset + 4)) << 32);
  }
  uint64_t vram_bytes() const { return m_vram.size(); }
  const uint8_t* vram_data(uint64_t pa) const { return m_vram.data() + pa; }
  uint64_t vram_u64(uint64_t pa) const;
  // Number of MSIs of `vector` raised and not yet consumed by wait_irq.
  uint32_t pending_irqs(uint32_t vector) const;
  // Plays the interrupt controller: consumes one pending MSI if any.
  bool take_irq(uint32_t vector);
  double cpu_ns() const { return m_cpu_ns; }
  void set_id(uint32_t id) { m_id = id; }

  std::vector<TlbInvalidate> tlb_log;
  std::vector<uint64_t> cancel_log;
  std::vector<CeCommand> ce_log;
  std::vector<std::pair<uint64_t, uint32_t>> mmio_write_log;
  struct MmioRead {
    uint64_t offset;
    size_t writes_before;  // mmio_write_log.size() when the read happened
  };
  std::vector<MmioRead> mmio_read_log;
  // Invalidate completion latency, in acknowledgement reads: after a
  // trigger, this many reads of kTlbInvAck still return the old number
  // (0: every invalidate completes at once).
  uint32_t tlb_ack_lag_reads = 0;
  uint32_t replays = 0;
  uint32_t id_reads = 0;

 private:
  void run_copy();
  void host_read(uint64_t pa, uint8_t* dst, uint64_t len);
  void host_write(uint64_t pa, const uint8_t* src, uint64_t len);
  bool vram_range_ok(uint64_t pa, uint64_t len) const;
  void raise_fault_irq();
  void ack_fault_irq();

  hmmsim::host::PhysMem& m_phys;
  std::vector<uint8_t> m_vram;
  std::map<uint64_t, uint32_t> m_regs;
  std::map<uint32_t, uint32_t> m_pending_irq;
  uint32_t m_id = hwref::kIdValue;
  bool m_fault_irq_enabled = false;
  bool m_fault_irq_armed = true;
  double m_cpu_ns = 0;
  uint32_t m_inv_issued = 0;
  uint32_t m_ack_lag_left = 0;
};

}  // namespace hmmsim::test
