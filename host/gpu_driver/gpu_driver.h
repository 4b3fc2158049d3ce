#pragma once
// The HMM GPU driver: policy on top of the mechanism in host/mm and host/hmm.
// It fetches replayable faults from the ring the GMMU writes in host memory,
// coalesces and sorts them, services them per 2 MiB VA block (migrate to
// VRAM or map system memory), builds device PTEs in VRAM, invalidates the
// device TLBs and replays. It mirrors one process through an interval
// notifier and owns its VRAM as device-private memory (migrate_to_ram).
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "host/common/lock.h"
#include "host/gpu_driver/device_bus.h"
#include "host/gpu_driver/device_page_table.h"
#include "host/gpu_driver/driver_spec.h"
#include "host/gpu_driver/copy_engines.h"
#include "host/gpu_driver/vram_allocator.h"
#include "host/gpu_driver/vram_chunks.h"
#include "host/hmm/migrate.h"
#include "host/hmm/range_fault.h"
#include "hwref/fault_entry.h"
#include "hwref/gpu_regs.h"

namespace hmmsim::host {

constexpr uint64_t kBlockBytes = 2ull << 20;  // UVM VA block: the unit of fault service and eviction

struct DriverStats {
  uint64_t s_interrupts = 0;
  uint64_t s_batches = 0;
  uint64_t s_faults_fetched = 0;
  uint64_t s_faults_duplicate = 0;
  uint64_t s_faults_serviced = 0;  // unique pages made accessible
  uint64_t s_faults_fatal = 0;
  uint64_t s_blocks = 0;
  uint64_t s_range_fault_retries = 0;
  uint64_t s_pages_to_vram = 0;
  uint64_t s_pages_to_sysmem = 0;
  uint64_t s_pages_mapped_remote = 0;
  uint64_t s_bytes_h2d = 0;
  uint64_t s_bytes_d2h = 0;
  uint64_t s_dma_commands = 0;
  uint64_t s_tlb_invalidates = 0;
  uint64_t s_tlb_full_flushes = 0;
  uint64_t s_tlb_ack_polls = 0;
  uint64_t s_ptes_unchanged = 0;
  uint64_t s_faults_already_mapped = 0;  // faulted pages found mapped with what the access needs
  uint64_t s_evictions = 0;              // blocks whose VRAM pages went back to system memory
  uint64_t s_pages_evicted = 0;
  uint64_t s_evict_no_host_memory = 0;   // pages that stayed in VRAM: no system page for them
  uint64_t s_prefetch_blocks_resident = 0;  // prefetched 2 MiB blocks that were resident already  // pages found already mapped just so (no write, no invalidate)  // acknowledgement reads that found the invalidate still running
  uint64_t s_replays = 0;
  uint64_t s_invalidate_callbacks = 0;
  uint64_t s_pages_unmapped = 0;
  uint64_t s_vram_alloc_failures = 0;
  uint64_t s_pages_prefetched = 0;  // moved to VRAM by prefetch_to_device
};

class GpuDriver final : public IMmuIntervalNotifierOps, public IPagemapOps {
 public:
  GpuDriver(HostSystem& sys, DeviceBus& bus, ILock& lock, const DriverSpec& spec,
            uint64_t vram_bytes);
  ~GpuDriver() override;

  // Allocates the fault ring in host memory and the page directory in VRAM,
  // registers VRAM as device-private memory and programs BAR0.
  Status init(uint64_t msi_address);
  // Starts mirroring `mm` (one process per driver instance).
  void attach(AddressSpace& mm);
  // Stops mirroring without touching the device (simulation teardown).
  void detach();

  // Placement hint for a VA range, like cudaMemAdvise(SetPreferredLocation):
  // pages preferring the host are mapped over PCIe, never migrated.
  void set_preferred_host(uint64_t start, uint64_t end);
  bool prefers_host(uint64_t va) const;

  // Like cudaMemPrefetchAsync to the GPU: migrates the pages of [start,
  // end) into VRAM and maps them, so that kernels find them resident (a
  // buffer placed on the device). Returns the pages moved.
  uint64_t prefetch_to_device(uint64_t start, uint64_t end);

  // Bottom half: fetch -> coalesce -> service per block -> invalidate ->
  // replay, repeated until the ring is empty or max_batches ran.
  void service_faults();

  // IMmuIntervalNotifierOps: drop device PTEs of the range, flush the TLB.
  bool invalidate(MmuIntervalNotifier& n, const NotifierRange& r, uint64_t cur_seq) override;
  // IPagemapOps: the CPU touched one of our VRAM pages.
  Status migrate_to_ram(AddressSpace& mm, uint64_t va, Pfn pfn) override;
  void page_free(Pfn pfn) override;

  const DriverStats& stats() const { return m_stats; }
  const DevicePageTable& page_table() const { return m_pt; }
  const VramAllocator& vram() const { return m_vram; }
  const VramChunks& chunks() const { return m_chunks; }
  const CopyEngines& copy_engines() const { return m_ce; }
  uint64_t fault_ring_pa() const { return PhysMem::pa(m_ring_pfn); }

 private:
  struct PendingFault {
    hwref::AccessType access;
    uint64_t first_ps;
  };
  using FaultSet = std::map<uint64_t, PendingFault>;  // page VA -> strongest access

  uint32_t fetch_batch(FaultSet& out);
  void service_block(const std::vector<std::pair<uint64_t, PendingFault>>& faulted);
  void service_run(uint64_t start, const std::vector<bool>& write, size_t n, bool need_local = false);
  void migrate_to_vram(uint64_t start, uint64_t end);
  // Eviction (gpu_driver_evict.cpp): frees VRAM by moving a victim block's
  // pages back to system memory; false when no block other than `exclude`
  // has any to give.
  bool evict_one(uint64_t exclude);
  uint64_t evict_block(uint64_t block);
  // A VRAM frame for the page at `va`, evicting other blocks if VRAM is full.
  uint64_t frame_for(uint64_t va);
  bool ensure_tables(uint64_t start, uint64_t end);  // evicting if VRAM is full
  void track_resident(Pfn devpfn, uint64_t va);
  enum class MirrorResult { Mapped, Raced, Failed };
  MirrorResult mirror(uint64_t start, const std::vector<bool>& write, size_t n, bool need_local = false);
  void cancel(uint64_t va);
  void queue_tlb_invalidate(uint64_t va, uint64_t pages);
  // Caller holds m_lock (as do all multi-register BAR0 sequences).
  void flush_tlb_invalidates();
  void copy(const std::vector<CopyRun>& runs);
  void write64(uint64_t lo_reg, uint64_t value);
  uint64_t vram_pa_of(Pfn devpfn) const { return (devpfn - m_pagemap->base) << kPageShift; }
  Pfn devpfn_of(uint64_t vram_pa) const { return m_pagemap->base + (vram_pa >> kPageShift); }

  HostSystem& m_sys;
  DeviceBus& m_bus;
  ILock& m_lock;
  const DriverSpec m_spec;
  VramAllocator m_vram;
  VramChunks m_chunks;
  DevicePageTable m_pt;
  CopyEngines m_ce;
  std::unique_ptr<IEvictionPolicy> m_evict;
  std::map<uint64_t, std::set<Pfn>> m_block_pages;  // 2 MiB block -> its VRAM pages
  std::unordered_map<Pfn, uint64_t> m_page_block;   // VRAM page -> its block
  DevicePagemap* m_pagemap = nullptr;
  AddressSpace* m_mm = nullptr;
  MmuIntervalNotifier* m_notifier = nullptr;
  Pfn m_ring_pfn = kNoPfn;
  uint64_t m_ring_pages = 0;
  uint32_t m_get = 0;
  uint32_t m_inv_seq = 0;    // TLB invalidates issued (the device acknowledges each)
  uint32_t m_inv_scope = 0;  // last value written to the scope register
  std::vector<std::pair<uint64_t, uint64_t>> m_inv;  // pending TLB invalidates (va, pages)
  std::map<uint64_t, uint64_t> m_host_pref;          // disjoint ranges: start -> end
  DriverStats m_stats;
};

}  // namespace hmmsim::host
