#include "host/gpu_driver/gpu_driver.h"

#include <algorithm>
#include <cassert>

namespace hmmsim::host {

using hwref::AccessType;
using hwref::CeDir;
namespace bar0 = hwref::bar0;
namespace pt = hwref::pt;

namespace {
constexpr int kMaxRetries = 16;
}  // namespace

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
      m_evict(eviction_registry().make(spec.eviction.impl, spec.eviction)) {}

GpuDriver::~GpuDriver() { detach(); }

void GpuDriver::detach() {
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
  return m_ce.init();
}

void GpuDriver::attach(AddressSpace& mm) {
  assert(!m_mm && "one mirrored process per driver instance");
  m_mm = &mm;
  m_notifier = new MmuIntervalNotifier(0, 1ull << pt::kVaBits, this);
  mm.notifiers().insert(m_notifier);
}

void GpuDriver::set_preferred_host(uint64_t start, uint64_t end) {
  if (end <= start) return;
  // Keep the ranges disjoint: absorb every range that overlaps or touches.
  auto it = m_host_pref.upper_bound(start);
  if (it != m_host_pref.begin() && std::prev(it)->second >= start) --it;
  while (it != m_host_pref.end() && it->first <= end) {
    start = std::min(start, it->first);
    end = std::max(end, it->second);
    it = m_host_pref.erase(it);
  }
  m_host_pref[start] = end;
}

bool GpuDriver::prefers_host(uint64_t va) const {
  auto it = m_host_pref.upper_bound(va);
  if (it == m_host_pref.begin()) return false;
  --it;
  return va < it->second;
}

// ---- fault servicing ------------------------------------------------------

uint32_t GpuDriver::fetch_batch(FaultSet& out) {
  const uint32_t entries = m_spec.fault_buffer_entries;
  const uint32_t put = m_bus.mmio_read32(bar0::kFaultBufPut);
  uint32_t fetched = 0;
  while (m_get != put && fetched < m_spec.batch_count) {
    const uint64_t off = uint64_t(m_get) * hwref::kFaultEntryBytes;
    const Pfn pfn = m_ring_pfn + (off >> kPageShift);
    uint8_t raw[hwref::kFaultEntryBytes];
    m_sys.phys.read(pfn, off & kPageMask, raw, sizeof raw);
    hwref::FaultEntry e = hwref::decode(raw);
    if (!e.valid) break;  // entry not landed yet: stop at the first one not ready
    uint8_t zero = 0;
    m_sys.phys.write(pfn, (off & kPageMask) + hwref::kFaultEntryBytes - 1, &zero, 1);
    ++fetched;
    m_get = (m_get + 1) % entries;
    const uint64_t page = page_down(e.va);
    auto [it, fresh] = out.emplace(page, PendingFault{e.access, e.timestamp_ps});
    if (!fresh) {
      ++m_stats.s_faults_duplicate;
      if (e.access > it->second.access) it->second.access = e.access;
    }
  }
  if (fetched) m_bus.mmio_write32(bar0::kFaultBufGet, m_get);
  m_stats.s_faults_fetched += fetched;
  m_bus.cpu_work(m_spec.costs.per_fault_ns * fetched);
  return fetched;
}

void GpuDriver::service_faults() {
  ++m_stats.s_interrupts;
  m_bus.cpu_work(m_spec.costs.isr_ns);
  bool replayed = false;
  for (uint32_t b = 0; b < m_spec.max_batches; ++b) {
    FaultSet faults;  // ordered by VA: the sort groups faults by 2 MiB block
    m_bus.cpu_work(m_spec.costs.batch_fixed_ns);
    if (fetch_batch(faults) == 0) break;
    replayed = true;
    ++m_stats.s_batches;
    std::vector<std::pair<uint64_t, PendingFault>> block;
    for (auto& f : faults) {
      if (!block.empty() && block.front().first / kBlockBytes != f.first / kBlockBytes) {
        service_block(block);
        block.clear();
      }
      block.push_back(f);
    }
    if (!block.empty()) service_block(block);
    // Register sequences are not atomic: no notifier callback may interleave.
    LockGuard g(m_lock);
    flush_tlb_invalidates();
    m_bus.mmio_write32(bar0::kReplay, 1);
    ++m_stats.s_replays;
  }
  // Like UVM, always replay at least once: faults the GMMU had to drop
  // (full ring, uTLB limit) are only retried on a replay.
  LockGuard g(m_lock);
  if (!replayed) {
    m_bus.mmio_write32(bar0::kReplay, 1);
    ++m_stats.s_replays;
  }
  m_bus.mmio_write32(bar0::kFaultBufStatus, 1);          // clear overflow
  m_bus.mmio_write32(bar0::kIntrStatus, hwref::kIntrFault);  // re-arm: fires again if entries remain
}

void GpuDriver::service_block(const std::vector<std::pair<uint64_t, PendingFault>>& faulted) {
  ++m_stats.s_blocks;
  m_bus.cpu_work(m_spec.costs.per_block_ns);
  // Pages mapped since they faulted (by an earlier batch or a prefetch)
  // with what the access needs: only the replay is left to do, as UVM
  // skips them. Migrating them again would unmap them first.
  std::vector<std::pair<uint64_t, PendingFault>> pages;
  pages.reserve(faulted.size());
  for (const auto& f : faulted) {
    const uint64_t e = m_pt.pte(f.first);
    const bool w = f.second.access >= AccessType::Write, at = f.second.access >= AccessType::AtomicWeak;
    if (pt::pte_valid(e) && (!w || pt::pte_writable(e)) && (!at || pt::pte_atomic(e))) {
      ++m_stats.s_faults_already_mapped;
      continue;
    }
    pages.push_back(f);
  }
  // Split into runs of consecutive pages inside one VMA; check permissions
  // first so that a bad access is cancelled instead of replayed forever.
  size_t i = 0;
  while (i < pages.size()) {
    const uint64_t va = pages[i].first;
    const Vma* vma = m_mm->find_vma(va);
    const bool is_write = pages[i].second.access >= AccessType::Write;
    if (!vma || !(vma->prot & kProtRead) || (is_write && !(vma->prot & kProtWrite))) {
      cancel(va);
      ++i;
      continue;
    }
    std::vector<bool> write{is_write};
    size_t j = i + 1;
    const bool host_pref = prefers_host(va);
    // Where pages would be mapped remote but the link cannot carry atomics,
    // atomic pages form runs of their own: only they must migrate.
    auto is_atomic = [&](size_t k) { return pages[k].second.access >= AccessType::AtomicWeak; };
    const bool split_atomic = !m_spec.sysmem_atomics && (m_spec.policy == FaultPolicy::RemoteMap || host_pref);
    while (j < pages.size() && pages[j].first == pages[j - 1].first + kPageSize &&
           pages[j].first < vma->end && prefers_host(pages[j].first) == host_pref &&
           (!split_atomic || is_atomic(j) == is_atomic(i))) {
      const bool w = pages[j].second.access >= AccessType::Write;
      if (w && !(vma->prot & kProtWrite)) break;
      write.push_back(w);
      ++j;
    }
    // Atomics need the page local when the link cannot carry them.
    bool atomic = false;
    for (size_t k = i; k < j; ++k) atomic |= is_atomic(k);
    service_run(va, write, j - i, atomic && !m_spec.sysmem_atomics);
    i = j;
  }
}

uint64_t GpuDriver::prefetch_to_device(uint64_t start, uint64_t end) {
  if (!m_mm) return 0;
  const uint64_t before = m_stats.s_pages_to_vram;
  for (uint64_t a = page_down(start); a < end;) {
    const Vma* vma = m_mm->find_vma(a);
    if (!vma) {
      a += kPageSize;
      continue;
    }
    // One 2 MiB block of one VMA at a time, as fault servicing does. The
    // VMA may change while we wait on the device: keep what we need now.
    const uint64_t stop = std::min({end, vma->end, (a / kBlockBytes + 1) * kBlockBytes});
    const uint32_t prot = vma->prot;
    const size_t n = (stop - a) / kPageSize;
    m_bus.cpu_work(m_spec.costs.per_block_ns);
    // Already resident and mapped (a buffer prefetched before every kernel):
    // nothing to move, and migrating would unmap it and flush the TLBs.
    bool resident = true;
    for (uint64_t v = a; v < stop && resident; v += kPageSize)
      resident = pt::aperture(m_pt.pte(v)) == pt::Aperture::Vram;
    if (resident) {
      ++m_stats.s_prefetch_blocks_resident;
      a = stop;
      continue;
    }
    if ((prot & kProtRead) && ensure_tables(a, stop)) {
      if (m_spec.policy == FaultPolicy::Migrate && !prefers_host(a)) migrate_to_vram(a, stop);
      // A race with an invalidation only leaves pages unmapped: a fault maps them
      // later (range_fault fails on pages whose VMA went away).
      mirror(a, std::vector<bool>(n, (prot & kProtWrite) != 0), n);
    }
    a = stop;
  }
  LockGuard g(m_lock);
  flush_tlb_invalidates();
  m_stats.s_pages_prefetched += m_stats.s_pages_to_vram - before;
  return m_stats.s_pages_to_vram - before;
}

void GpuDriver::service_run(uint64_t start, const std::vector<bool>& write, size_t n, bool need_local) {
  const uint64_t end = start + n * kPageSize;
  // Directory levels first: data frames must not take the VRAM the page
  // table needs to map them.
  if (!ensure_tables(start, end)) {
    ++m_stats.s_vram_alloc_failures;
    for (size_t k = 0; k < n; ++k) cancel(start + k * kPageSize);  // nothing to map with
    return;
  }
  if ((m_spec.policy == FaultPolicy::Migrate && !prefers_host(start)) || need_local) migrate_to_vram(start, end);
  switch (mirror(start, write, n, need_local)) {
    case MirrorResult::Mapped: m_stats.s_faults_serviced += n; break;
    case MirrorResult::Raced: break;  // the replay refaults and we try again
    case MirrorResult::Failed:
      for (size_t k = 0; k < n; ++k) cancel(start + k * kPageSize);
      break;
  }
}

void GpuDriver::migrate_to_vram(uint64_t start, uint64_t end) {
  MigrateVma a;
  a.start = start;
  a.end = end;
  a.flags = kSelectSystem;
  a.pgmap_owner = this;
  if (migrate_vma_setup(*m_mm, a) != Status::Ok) return;
  const size_t n = a.src.size();
  m_bus.cpu_work(m_spec.costs.per_page_ns * n);

  // Allocate and copy, coalescing physically contiguous runs into one
  // copy-engine command each; the runs go to the engines as one batch.
  std::vector<CopyRun> runs;
  for (size_t i = 0; i < n; ++i) {
    if (!(a.src[i] & kMigratePfnMigrate)) continue;
    const uint64_t vpa = frame_for(start + i * kPageSize);
    if (vpa == VramAllocator::kNone) {
      ++m_stats.s_vram_alloc_failures;  // the page stays in system memory
      continue;
    }
    const Pfn dp = devpfn_of(vpa);
    m_sys.pagemaps.init_page(dp);
    a.dst[i] = migrate_pfn(dp) | (a.src[i] & kMigratePfnWrite);
    const bool has_data = a.src[i] & kMigratePfnValid;
    CopyRun r{has_data ? CeDir::HostToDevice : CeDir::FillZero,
          has_data ? PhysMem::pa(migrate_pfn_to_pfn(a.src[i])) : 0, vpa, kPageSize};
    if (!runs.empty()) {
      CopyRun& b = runs.back();
      if (b.dir == r.dir && b.dst + b.len == r.dst && (!has_data || b.src + b.len == r.src)) {
        b.len += kPageSize;
        continue;
      }
    }
    runs.push_back(r);
  }
  copy(runs);
  migrate_vma_pages(*m_mm, a);
  for (size_t i = 0; i < n; ++i)
    if ((a.src[i] & kMigratePfnMigrate) && (a.dst[i] & kMigratePfnValid)) {
      track_resident(migrate_pfn_to_pfn(a.dst[i]), start + i * kPageSize);
      ++m_stats.s_pages_to_vram;
      if (a.src[i] & kMigratePfnValid) m_stats.s_bytes_h2d += kPageSize;
    }
  migrate_vma_finalize(*m_mm, a);
}

GpuDriver::MirrorResult GpuDriver::mirror(uint64_t start, const std::vector<bool>& write, size_t n,
                                          bool need_local) {
  HmmRange r;
  r.notifier = m_notifier;
  r.start = start;
  r.end = start + n * kPageSize;
  r.dev_private_owner = this;
  r.pfn_flags_mask = kHmmPfnReqFault | kHmmPfnReqWrite;
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    r.hmm_pfns.assign(n, kHmmPfnReqFault);
    for (size_t k = 0; k < n; ++k)
      if (write[k]) r.hmm_pfns[k] |= kHmmPfnReqWrite;
    r.notifier_seq = m_notifier->read_begin();
    m_bus.cpu_work(m_spec.costs.per_page_ns * n);
    Status s = hmm_range_fault(*m_mm, r);
    if (s == Status::Busy) {
      ++m_stats.s_range_fault_retries;
      continue;
    }
    if (s != Status::Ok) return MirrorResult::Failed;
    // Program the device only under the lock, after a passing retry check.
    LockGuard g(m_lock);
    if (m_notifier->read_retry(r.notifier_seq)) {
      ++m_stats.s_range_fault_retries;
      continue;
    }
    // An atomic the link cannot carry, and no VRAM to move the page into:
    // mapping it remote again would refault forever.
    if (need_local)
      for (size_t k = 0; k < n; ++k)
        if (!DevicePagemaps::is_device(hmm_pfn_to_pfn(r.hmm_pfns[k]))) return MirrorResult::Failed;
    m_bus.cpu_work(m_spec.costs.per_pte_ns * n);
    bool changed = false;
    for (size_t k = 0; k < n; ++k) {
      const uint64_t e = r.hmm_pfns[k];
      const Pfn pfn = hmm_pfn_to_pfn(e);
      const bool w = e & kHmmPfnWrite;
      const uint64_t va = start + k * kPageSize;
      const bool local = DevicePagemaps::is_device(pfn);
      const uint64_t pa = local ? vram_pa_of(pfn) : PhysMem::pa(pfn);
      const auto ap = local ? pt::Aperture::Vram : pt::Aperture::SysCoherent;
      const bool atomic = local || m_spec.sysmem_atomics;
      // Already mapped just so (a prefetch of a resident buffer, a fault
      // that raced its own mapping): leave the PTE and the TLBs alone.
      if (m_pt.pte(va) == pt::make_pte(pa, ap, w, atomic)) {
        ++m_stats.s_ptes_unchanged;
        continue;
      }
      // Tables were ensured before any data frame was taken, so map() only
      // fills a leaf entry here.
      if (!m_pt.map(va, pa, ap, w, atomic)) return MirrorResult::Failed;
      m_stats.s_pages_mapped_remote += !local;
      changed = true;
    }
    if (changed) queue_tlb_invalidate(start, n);
    return MirrorResult::Mapped;
  }
  return MirrorResult::Raced;
}

void GpuDriver::cancel(uint64_t va) {
  LockGuard g(m_lock);
  ++m_stats.s_faults_fatal;
  write64(bar0::kCancelVaLo, va);
  m_bus.mmio_write32(bar0::kCancelTrigger, 1);
}

// ---- TLB invalidation -----------------------------------------------------

void GpuDriver::queue_tlb_invalidate(uint64_t va, uint64_t pages) { m_inv.emplace_back(va, pages); }

void GpuDriver::flush_tlb_invalidates() {
  if (m_inv.empty()) return;
  bool full = m_inv.size() > m_spec.tlb_inv_max_ranges;
  for (auto [va, pages] : m_inv) full |= pages > UINT32_MAX;  // the register is 32 bits wide
  // A directory entry changed (a large page came or went): the GPU's
  // page-walk caches must forget the old one too.
  const uint32_t scope = m_pt.take_directories_changed() ? hwref::kTlbInvDirectories : 0;
  if (scope != m_inv_scope) m_bus.mmio_write32(bar0::kTlbInvScope, m_inv_scope = scope);
  if (full) {
    m_bus.mmio_write32(bar0::kTlbInvPages, 0);  // too many ranges: flush everything
    m_bus.mmio_write32(bar0::kTlbInvTrigger, 1);
    ++m_inv_seq;
    ++m_stats.s_tlb_full_flushes;
  } else {
    for (auto [va, pages] : m_inv) {
      write64(bar0::kTlbInvVaLo, va);
      m_bus.mmio_write32(bar0::kTlbInvPages, static_cast<uint32_t>(pages));
      m_bus.mmio_write32(bar0::kTlbInvTrigger, 1);
      ++m_inv_seq;
    }
  }
  // Wait for the device to acknowledge the last one: no stale translation
  // may survive into the replay (each poll is a PCIe round trip).
  while (static_cast<int32_t>(m_bus.mmio_read32(bar0::kTlbInvAck) - m_inv_seq) < 0) ++m_stats.s_tlb_ack_polls;
  m_stats.s_tlb_invalidates += 1;
  m_inv.clear();
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
  // The process is gone: stop mirroring it (the notifier list is copied
  // while callbacks run, so removing ourselves here is safe).
  if (r.event == NotifyEvent::Release) detach();
  return true;
}

Status GpuDriver::migrate_to_ram(AddressSpace& mm, uint64_t va, Pfn) {
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
    ++m_stats.s_pages_to_sysmem;
    m_stats.s_bytes_d2h += kPageSize;
  }
  migrate_vma_finalize(mm, a);
  return Status::Ok;
}

void GpuDriver::page_free(Pfn pfn) {
  auto it = m_page_block.find(pfn);
  if (it != m_page_block.end()) {
    auto b = m_block_pages.find(it->second);
    if (b != m_block_pages.end() && b->second.erase(pfn) && b->second.empty()) {
      m_evict->on_empty(b->first);
      m_block_pages.erase(b);
    }
    m_page_block.erase(it);
  }
  m_chunks.release(vram_pa_of(pfn));
}

}  // namespace hmmsim::host
