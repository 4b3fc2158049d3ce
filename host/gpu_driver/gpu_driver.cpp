#include "host/gpu_driver/gpu_driver.h"

#include <algorithm>
#include <cassert>

namespace hmmsim::host {

using hwref::AccessType;
using hwref::CeDir;
namespace bar0 = hwref::bar0;
namespace pt = hwref::pt;

GpuDriver::GpuDriver(HostSystem& sys, DeviceBus& bus, ILock& lock, const DriverSpec& spec,
                     uint64_t vram_bytes)
    : m_sys(sys),
      m_bus(bus),
      m_lock(lock),
      m_spec(spec),
      m_vram(vram_bytes),
      m_chunks(m_vram, spec.vram_chunk_bytes),
      m_pt(bus, m_vram),
      m_ce(bus, sys.phys, spec.copy),
      m_evict(eviction_registry().make(spec.eviction.impl, spec.eviction)),
      m_prefetch(prefetch_registry().make(spec.prefetch.impl, spec.prefetch)),
      m_replay(replay_registry().make(spec.replay.impl, spec.replay)),
      m_thrash(thrashing_registry().make(spec.thrashing.impl, spec.thrashing)),
      m_place(placement_registry().make(spec.placement.impl, spec.placement)) {}

GpuDriver::~GpuDriver() { detach(); }

void GpuDriver::detach() {
  // The read copies' references on system pages go with the mirror (the
  // device is not told: it is going away, or the process is).
  for (const auto& [va, d] : m_dups) {
    m_chunks.release(d.vram_pa);
    m_sys.phys.put(d.sys);
  }
  m_dups.clear();
  if (m_mm && m_notifier) m_mm->notifiers().remove(m_notifier);
  delete m_notifier;
  m_notifier = nullptr;
  m_mm = nullptr;
}

void GpuDriver::write64(uint64_t lo_reg, uint64_t value) {
  m_bus.mmio_write32(lo_reg, static_cast<uint32_t>(value));
  m_bus.mmio_write32(lo_reg + 4, static_cast<uint32_t>(value >> 32));
}

Status GpuDriver::init(uint64_t msi_address) {
  if (m_bus.mmio_read32(bar0::kId) != hwref::kIdValue) return Status::Inval;
  // Every VRAM frame gets a device-private pfn; only data frames are handed out.
  m_pagemap = &m_sys.pagemaps.add("gpu0-vram", this, this, m_vram.total_frames());

  const uint64_t ring_bytes = uint64_t(m_spec.fault_buffer_entries) * hwref::kFaultEntryBytes;
  m_ring_pages = page_up(ring_bytes) >> kPageShift;
  m_ring_pfn = m_sys.phys.alloc_contiguous(m_ring_pages);
  if (m_ring_pfn == kNoPfn) return Status::NoMem;
  if (!m_pt.init()) return Status::NoMem;

  write64(bar0::kFaultBufBaseLo, PhysMem::pa(m_ring_pfn));
  m_bus.mmio_write32(bar0::kFaultBufEntries, m_spec.fault_buffer_entries);
  m_bus.mmio_write32(bar0::kFaultBufGet, 0);
  write64(bar0::kPdbLo, m_pt.root_pa());
  write64(bar0::kMsiAddrLo, msi_address);
  m_bus.mmio_write32(bar0::kIntrEnable, hwref::kIntrFault | hwref::kIntrCopy);
  const Status s = m_ce.init();
  if (s != Status::Ok || !m_place->migrates_on_access_counters()) return s;
  return init_access_counters();
}

void GpuDriver::attach(AddressSpace& mm) {
  assert(!m_mm && "one mirrored process per driver instance");
  m_mm = &mm;
  m_notifier = new MmuIntervalNotifier(0, 1ull << pt::kVaBits, this);
  mm.notifiers().insert(m_notifier);
}

void GpuDriver::set_preferred_location(uint64_t start, uint64_t end, PreferredLocation where) {
  m_pref.set(start, end, where);
}

PreferredLocation GpuDriver::preferred_location(uint64_t va) const { return m_pref.at(va); }

void GpuDriver::cancel(uint64_t va) {
  LockGuard g(m_lock);
  ++m_stats.s_faults_fatal;
  write64(bar0::kCancelVaLo, va);
  m_bus.mmio_write32(bar0::kCancelTrigger, 1);
}

// ---- copy engine ----------------------------------------------------------

void GpuDriver::copy(const std::vector<CopyRun>& runs) {
  if (runs.empty()) return;
  // The engines' register blocks are shared state: serialise their users.
  LockGuard g(m_lock);
  m_ce.copy(runs);
  m_stats.s_dma_commands += runs.size();
}

// ---- CPU side: notifier and device-private pages --------------------------

bool GpuDriver::invalidate(MmuIntervalNotifier& n, const NotifierRange& r, uint64_t cur_seq) {
  ++m_stats.s_invalidate_callbacks;
  {
    LockGuard g(m_lock);
    n.set_seq(cur_seq);
    // Our own migrations are not skipped: pages that move must lose their
    // device mapping too, and unmapping an unmapped page costs nothing.
    // A writable mapping of system memory may have been written by the GPU
    // (DMA sets no CPU dirty bit): report it before the mapping goes, as the
    // seeds' dirty-range helper does.
    if (m_mm)
      for (uint64_t va : m_pt.writable_sysmem_in(r.start, r.end)) m_mm->mark_dirty(va, va + kPageSize);
    const std::vector<uint64_t> vas = m_pt.unmap_range(r.start, r.end);
    if (!vas.empty()) {
      m_stats.s_pages_unmapped += vas.size();
      m_bus.cpu_work(m_spec.costs.per_pte_ns * vas.size());
      queue_tlb_invalidate(vas.front(), (vas.back() - vas.front()) / kPageSize + 1);
      flush_tlb_invalidates();
    }
  }
  // Read-only copies in the range go (the CPU is about to write, unmap or
  // move the page); our own write-protect of a page being copied does not
  // change what the copy holds.
  if (!(r.event == NotifyEvent::ProtectionPage && r.owner == this)) drop_duplicates(r.start, r.end, false);
  // The process is gone: stop mirroring it (the notifier list is copied
  // while callbacks run, so removing ourselves here is safe).
  if (r.event == NotifyEvent::Release) detach();
  return true;
}

void GpuDriver::set_trace(common::EventTrace* trace) {
  m_trace = trace;
  m_clock.set_trace(nullptr, 0);
  if (!trace) return;
  m_trace_driver = trace->track("Host", "driver (bottom half)");
  m_trace_evict = trace->track("Host", "driver evictions");
  m_trace_cpu = trace->track("Host", "CPU faults");
  m_clock.set_trace(trace, m_trace_driver);
}

Status GpuDriver::migrate_to_ram(AddressSpace& mm, uint64_t va, Pfn pfn) {
  const uint64_t t0 = m_bus.now_ps();
  const Status s = migrate_back(mm, va, pfn);
  if (m_trace)
    m_trace->slice(m_trace->context_track(m_bus.context(), m_trace_cpu), "migrate back (CPU fault)", t0,
                   m_bus.now_ps(), {common::EventTrace::hex("va", page_down(va))});
  return s;
}

// The driver's own migrate-back (make_writable), not a CPU fault: a slice of
// the batch that needs it, and not counted in host.migrate_to_ram.
Status GpuDriver::bring_home_for_write(uint64_t va, Pfn pfn) {
  const uint64_t t0 = m_bus.now_ps();
  const Status s = migrate_back(*m_mm, va, pfn);
  if (m_trace)
    m_trace->slice(m_trace_driver, "migrate back (GPU write to a read-only page)", t0, m_bus.now_ps(),
                   {common::EventTrace::hex("va", page_down(va))});
  return s;
}

Status GpuDriver::migrate_back(AddressSpace& mm, uint64_t va, Pfn) {
  m_bus.cpu_work(m_spec.costs.migrate_to_ram_ns);
  MigrateVma a;
  a.start = page_down(va);
  a.end = a.start + kPageSize;
  a.flags = kSelectDevicePrivate;
  a.pgmap_owner = this;
  Status s = migrate_vma_setup(mm, a);
  if (s != Status::Ok) return s;
  if (a.cpages == 0) return Status::Ok;  // someone else moved it already
  const Pfn sys = m_sys.phys.alloc();
  if (sys == kNoPfn) {
    migrate_vma_finalize(mm, a);  // restores the device entry
    return Status::NoMem;
  }
  copy({{CeDir::DeviceToHost, vram_pa_of(migrate_pfn_to_pfn(a.src[0])), PhysMem::pa(sys), kPageSize}});
  a.dst[0] = migrate_pfn(sys) | (a.src[0] & kMigratePfnWrite);
  migrate_vma_pages(mm, a);
  if ((a.src[0] & kMigratePfnMigrate)) {
    m_thrash->on_migration(a.start, Processor::Cpu, m_bus.now_ps());
    ++m_stats.s_pages_to_sysmem;
    m_stats.s_bytes_d2h += kPageSize;
  }
  migrate_vma_finalize(mm, a);
  return Status::Ok;
}

void GpuDriver::page_free(Pfn pfn) {
  untrack_resident(pfn);
  m_chunks.release(vram_pa_of(pfn));
}

}  // namespace hmmsim::host
