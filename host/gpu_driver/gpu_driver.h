#pragma once
// The HMM GPU driver, on top of the mechanism in host/mm and host/hmm. The
// class is the fault pipeline (fault_pipeline.cpp: fetch, coalesce, per
// block service in block_service.cpp, invalidate, replay); every decision
// is a policy object chosen by name, consulted at one point of that path:
// thrashing and placement per faulted page, prefetch per block, eviction
// when VRAM runs out, replay per block/batch/bottom half. It mirrors one
// process through an interval notifier and owns its VRAM as device-private
// memory (migrate_to_ram).
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "common/block_table.h"
#include "host/common/lock.h"
#include "host/gpu_driver/batch_stages.h"
#include "host/gpu_driver/device_bus.h"
#include "host/gpu_driver/device_page_table.h"
#include "host/gpu_driver/driver_spec.h"
#include "host/gpu_driver/copy_engines.h"
#include "host/gpu_driver/vram_allocator.h"
#include "host/gpu_driver/va_block.h"
#include "host/gpu_driver/range_hints.h"
#include "host/gpu_driver/vram_chunks.h"
#include "host/hmm/migrate.h"
#include "host/hmm/range_fault.h"
#include "hwref/fault_entry.h"
#include "hwref/gpu_regs.h"

namespace hmmsim::host {

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
  uint64_t s_prefetch_blocks_resident = 0;  // prefetched 2 MiB blocks that were resident already
  uint64_t s_pages_faulted_in = 0;     // pages moved to VRAM because they faulted
  uint64_t s_pages_prefetcher = 0;     // pages the prefetcher moved with them
  uint64_t s_pages_counter_migrated = 0;  // pages moved on an access-counter notification
  uint64_t s_throttled_stops = 0;      // bottom halves ended by too many throttled batches
  uint64_t s_put_reads = 0;            // PUT register reads
  uint64_t s_buffer_flushes = 0;       // fault-buffer flushes before a replay
  uint64_t s_entries_flushed = 0;      // pending entries dropped by them
  uint64_t s_ac_interrupts = 0;        // access-counter interrupts serviced
  uint64_t s_ac_notifications = 0;     // access-counter notifications read
  uint64_t s_replays = 0;
  uint64_t s_invalidate_callbacks = 0;
  uint64_t s_pages_unmapped = 0;
  uint64_t s_vram_alloc_failures = 0;
  uint64_t s_pages_prefetched = 0;  // moved to VRAM by prefetch_to_device
  uint64_t s_write_upgrades = 0;    // CPU-side write faults before migrating a read-only page for a write
  uint64_t s_refault_no_evict = 0;  // chunked VRAM: pages left remote, every other block recent
  uint64_t s_dup_pages = 0;         // read-only copies made in VRAM (read-mostly)
  uint64_t s_dup_dropped = 0;       // copies dropped: a write, an unmap, an eviction
  uint64_t s_dup_evicted = 0;       // of which dropped to free VRAM
  uint64_t s_dup_refused = 0;       // read-mostly runs migrated instead (shared or hugetlb memory)
  BatchStageStats batch;            // per-stage service time of fault batches
  common::Histogram migration_pages;  // pages per migration to VRAM (one migrate_vma)
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
  // pages preferring the host are mapped over PCIe, never migrated; pages
  // preferring the device migrate whatever the placement policy; None
  // clears the hint.
  void set_preferred_location(uint64_t start, uint64_t end, PreferredLocation where);
  PreferredLocation preferred_location(uint64_t va) const;
  void set_preferred_host(uint64_t start, uint64_t end) { set_preferred_location(start, end, PreferredLocation::Host); }
  // Like cudaMemAdvise(SetReadMostly / UnsetReadMostly): GPU reads of these
  // pages make read-only copies in VRAM instead of migrating them; a write
  // on either side collapses the copy. Unsetting drops the copies.
  void set_read_mostly(uint64_t start, uint64_t end, bool on);
  bool read_mostly(uint64_t va) const { return m_read_mostly.at(va); }
  size_t duplicates() const { return m_dups.size(); }
  bool prefers_host(uint64_t va) const { return preferred_location(va) == PreferredLocation::Host; }

  // Like cudaMemPrefetchAsync to the GPU: migrates the pages of [start,
  // end) into VRAM and maps them, so that kernels find them resident (a
  // buffer placed on the device). Returns the pages moved.
  uint64_t prefetch_to_device(uint64_t start, uint64_t end);

  // Bottom half: fetch -> coalesce -> service per block -> invalidate ->
  // replay, repeated until the ring is empty or max_batches ran.
  void service_faults();
  // Bottom half of the access-counter interrupt: reads the notifications
  // and migrates the regions they name (placement access_counter).
  void service_access_counters();
  // The GPU accessed `va` (the simulator reports every access only to
  // eviction policies that ask for it: wants_gpu_accesses()).
  bool wants_gpu_accesses() const { return m_evict->wants_accesses(); }
  void note_gpu_access(uint64_t va) { m_evict->on_access(va); }

  // IMmuIntervalNotifierOps: drop device PTEs of the range, flush the TLB.
  bool invalidate(MmuIntervalNotifier& n, const NotifierRange& r, uint64_t cur_seq) override;
  // IPagemapOps: the CPU touched one of our VRAM pages.
  Status migrate_to_ram(AddressSpace& mm, uint64_t va, Pfn pfn) override;
  void page_free(Pfn pfn) override;

  // Records the bottom half (batches and their stages, access-counter
  // service), evictions, and migrate-backs and prefetches on the track of
  // the context that ran them (null: nothing recorded).
  void set_trace(common::EventTrace* trace);

  const DriverStats& stats() const { return m_stats; }
  const ThrashingStats& thrashing_stats() const { return m_thrash->stats(); }
  const DevicePageTable& page_table() const { return m_pt; }
  const VramAllocator& vram() const { return m_vram; }
  const VramChunks& chunks() const { return m_chunks; }
  const CopyEngines& copy_engines() const { return m_ce; }
  uint64_t fault_ring_pa() const { return PhysMem::pa(m_ring_pfn); }

 private:
  Status migrate_back(AddressSpace& mm, uint64_t va, Pfn pfn);  // migrate_to_ram's work
  Status bring_home_for_write(uint64_t va, Pfn pfn);            // make_writable's
  struct PendingFault {
    hwref::AccessType access;
    uint64_t first_ps;
  };
  using FaultSet = std::map<uint64_t, PendingFault>;  // page VA -> strongest access
  // One page of a run the block service makes accessible.
  struct PageReq {
    bool write = false;    // map writable (the access needs it)
    bool faulted = false;  // a fault asked for it (else the prefetcher did)
    bool local = false;    // must be in VRAM: an atomic the link cannot carry
  };
  enum class Origin : uint8_t { Fault, Counter, Api };  // Fault: the run's PageReq says faulted or prefetched

  // fault_pipeline.cpp
  BatchSummary fetch_batch(FaultSet& out);
  uint32_t read_put();
  void flush_fault_buffer(FlushMode mode);
  void replay();
  Stage mark(Stage s) { return m_clock.mark(s, m_bus.now_ps(), m_bus.context()); }
  // block_service.cpp
  void service_block(const std::vector<std::pair<uint64_t, PendingFault>>& faulted);
  void service_run(uint64_t start, const std::vector<PageReq>& pages, bool to_vram, bool need_local);
  PageMask resident_in_block(uint64_t block) const;
  PageMask readable_in_block(uint64_t block) const;
  PageMask hinted_away_from_prefetch(uint64_t block) const;
  void migrate_to_vram(uint64_t start, uint64_t end, Origin why, const std::vector<PageReq>* pages = nullptr);
  // Makes the CPU entries of the pages a write needs writable before they move.
  void make_writable(uint64_t start, const std::vector<PageReq>& pages);
  // Eviction (gpu_driver_evict.cpp): frees VRAM by moving a victim's pages
  // back to system memory; false when no block other than `exclude` (and,
  // with spare_batch, the blocks of the batch being serviced) has any.
  bool evict_one(uint64_t exclude, bool spare_batch, bool spare_recent = false);
  uint64_t evict_range(uint64_t va, uint64_t bytes);
  struct Evicted {
    uint64_t moved = 0, dropped = 0;  // pages copied to sysmem, read-only copies dropped
  };
  Evicted evict_pages(uint64_t va, uint64_t bytes);  // evict_range's work
  // A VRAM frame for the page at `va`, evicting other blocks if VRAM is full.
  // VRAM frame for a page of the VMA [lo, hi), evicting if need be.
  // `local`: the page cannot be mapped remotely, so recent blocks are not spared for it.
  uint64_t frame_for(uint64_t va, uint64_t lo, uint64_t hi, bool local = false);
  bool ensure_tables(uint64_t start, uint64_t end);  // evicting if VRAM is full
  void track_resident(Pfn devpfn, uint64_t va);
  void untrack_resident(Pfn devpfn);
  enum class MirrorResult { Mapped, Raced, Failed };
  MirrorResult mirror(uint64_t start, const std::vector<PageReq>& pages, bool need_local = false);
  // read_duplication.cpp
  void duplicate_run(uint64_t start, size_t n);
  // Frees the copies in [start, end) (unmapping them first if `unmap`, else
  // the caller has); returns how many.
  size_t drop_duplicates(uint64_t start, uint64_t end, bool unmap);
  bool in_vram(uint64_t va) const;  // a VRAM page (not a copy) holds va
  // access_counter_service.cpp
  Status init_access_counters();
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
  std::unique_ptr<IPrefetchPolicy> m_prefetch;
  std::unique_ptr<IReplayPolicy> m_replay;
  std::unique_ptr<IThrashingPolicy> m_thrash;
  std::unique_ptr<IPlacementPolicy> m_place;
  // VRAM pages by virtual page number: the first in a table, any more (a
  // COW copy of a device page after fork) beside it.
  common::BlockTable<Pfn> m_resident;
  std::multimap<uint64_t, Pfn> m_resident_more;
  common::BlockTable<uint64_t> m_page_va;  // VRAM page -> its VA
  StageClock m_clock;
  bool m_batch_throttled = false;  // the batch being serviced left a fault throttled
  bool m_evicted_since_replay = false;  // pauses prefetching under pressure
  // Chunked VRAM: the batch in which each block was last serviced; blocks
  // of the last kRecentBatches are spared by chunk evictions.
  static constexpr uint64_t kRecentBatches = 2;
  std::unordered_map<uint64_t, uint64_t> m_serviced_at;
  std::set<uint64_t> m_batch_blocks;  // 2 MiB blocks serviced since the last replay
  DevicePagemap* m_pagemap = nullptr;
  AddressSpace* m_mm = nullptr;
  MmuIntervalNotifier* m_notifier = nullptr;
  Pfn m_ring_pfn = kNoPfn;
  uint64_t m_ring_pages = 0;
  uint32_t m_get = 0;
  uint32_t m_cached_put = 0;  // PUT as last read: re-read only when GET catches up
  Pfn m_ac_ring_pfn = kNoPfn;
  uint32_t m_ac_get = 0;
  uint32_t m_inv_seq = 0;    // TLB invalidates issued (the device acknowledges each)
  uint32_t m_inv_scope = 0;  // last value written to the scope register
  std::vector<std::pair<uint64_t, uint64_t>> m_inv;  // pending TLB invalidates (va, pages)
  RangeHints<PreferredLocation> m_pref;
  RangeHints<bool> m_read_mostly;
  // Read duplicates (read_duplication.cpp): a VRAM copy of a system page
  // the CPU keeps too, mapped read-only on both sides.
  struct Duplicate {
    Pfn sys;           // the system page, a reference held on it
    uint64_t vram_pa;  // the copy
  };
  std::map<uint64_t, Duplicate> m_dups;  // page VA -> duplicate
  DriverStats m_stats;
  common::EventTrace* m_trace = nullptr;
  common::EventTrace::Track m_trace_driver = 0, m_trace_evict = 0, m_trace_cpu = 0;
};

}  // namespace hmmsim::host
