// Servicing one 2 MiB VA block of a fault batch (UVM's
// service_fault_batch_block): skip pages already mapped, cancel bad
// accesses, ask the thrashing policy about each page, the placement policy
// where it goes and the prefetcher what else comes along, then move and
// map the pages run by run.
#include <algorithm>
#include <array>

#include "host/gpu_driver/gpu_driver.h"

namespace hmmsim::host {

using hwref::AccessType;
using hwref::CeDir;
namespace pt = hwref::pt;

namespace {
constexpr int kMaxRetries = 16;
}  // namespace

PageMask GpuDriver::resident_in_block(uint64_t block) const {
  PageMask m;
  m_resident.for_each(block >> kPageShift, (block + kBlockBytes) >> kPageShift,
                      [&](uint64_t vpn, Pfn) { m.set(page_in_block(vpn << kPageShift)); });
  return m;
}

PageMask GpuDriver::readable_in_block(uint64_t block) const {
  PageMask m;
  const auto& vmas = m_mm->vmas();
  auto it = vmas.upper_bound(block);
  if (it != vmas.begin()) --it;
  for (; it != vmas.end() && it->second.start < block + kBlockBytes; ++it) {
    const Vma& v = it->second;
    if (v.end <= block || !(v.prot & kProtRead)) continue;
    const uint64_t lo = std::max(v.start, block), hi = std::min(v.end, block + kBlockBytes);
    m |= page_range(page_in_block(lo), (hi - lo) / kPageSize);
  }
  return m;
}

namespace {
// Pages of [block, block + kBlockBytes) inside ranges whose value passes `want`.
template <class T, class Pred>
PageMask pages_hinted(const RangeHints<T>& hints, uint64_t block, Pred want) {
  PageMask m;
  const auto& rs = hints.ranges();
  auto it = rs.upper_bound(block);
  if (it != rs.begin()) --it;
  for (; it != rs.end() && it->first < block + kBlockBytes; ++it) {
    if (it->second.end <= block || !want(it->second.value)) continue;
    const uint64_t lo = std::max(it->first, block), hi = std::min(it->second.end, block + kBlockBytes);
    m |= page_range(page_in_block(lo), (hi - lo) / kPageSize);
  }
  return m;
}
}  // namespace

PageMask GpuDriver::hinted_away_from_prefetch(uint64_t block) const {
  // Pages preferring the host stay there; read-mostly pages are duplicated
  // when read, not migrated ahead of use.
  return pages_hinted(m_pref, block, [](PreferredLocation p) { return p == PreferredLocation::Host; }) |
         pages_hinted(m_read_mostly, block, [](bool on) { return on; });
}

void GpuDriver::service_block(const std::vector<std::pair<uint64_t, PendingFault>>& faulted) {
  ++m_stats.s_blocks;
  m_bus.cpu_work(m_spec.costs.per_block_ns);
  const uint64_t block = block_of(faulted.front().first);
  m_batch_blocks.insert(block);
  m_serviced_at[block] = m_stats.s_batches;
  const uint64_t now = m_bus.now_ps();
  // Per page of the block: what is asked for, and where it goes.
  enum : uint8_t { kNone, kVram, kRemote, kDup };
  std::array<uint8_t, kBlockPages> dest{};
  std::array<PageReq, kBlockPages> req{};
  std::array<bool, kBlockPages> atomic{};
  PageMask to_vram;
  for (const auto& [va, f] : faulted) {
    const size_t i = page_in_block(va);
    const bool w = f.access >= AccessType::Write, at = f.access >= AccessType::AtomicWeak;
    // Mapped since it faulted (an earlier batch or a prefetch) with what the
    // access needs: only the replay is left to do, as UVM skips these.
    // Migrating it again would unmap it first.
    const uint64_t e = m_pt.pte(va);
    if (pt::pte_valid(e) && (!w || pt::pte_writable(e)) && (!at || pt::pte_atomic(e))) {
      ++m_stats.s_faults_already_mapped;
      continue;
    }
    // Check permissions first so that a bad access is cancelled instead of
    // replayed forever.
    const Vma* vma = m_mm->find_vma(va);
    if (!vma || !(vma->prot & kProtRead) || (w && !(vma->prot & kProtWrite))) {
      cancel(va);
      continue;
    }
    const ThrashHint hint = m_thrash->on_gpu_fault(va, now);
    if (hint == ThrashHint::Throttle) {
      m_batch_throttled = true;  // replayed, it faults again after the nap (counted by the policy)
      continue;
    }
    Where where = hint == ThrashHint::Pin ? Where::Remote : m_place->on_fault(preferred_location(va));
    // Atomics need the page local when the link cannot carry them.
    if (at && !m_spec.sysmem_atomics) where = Where::Vram;
    req[i] = PageReq{w, true, at && !m_spec.sysmem_atomics};
    atomic[i] = at;
    // A read of a read-mostly page still in system memory gets a copy in
    // VRAM beside it (UVM's read duplication); a write migrates as usual,
    // which collapses the copy (the migration's notifier drops it).
    if (where == Where::Vram && !w && m_read_mostly.at(va) && !in_vram(va)) {
      dest[i] = kDup;
      continue;
    }
    dest[i] = where == Where::Vram ? kVram : kRemote;
    if (where == Where::Vram) to_vram.set(i);
  }
  // Prefetch: only towards VRAM, only where the faults go there, never
  // pages that must stay remote or are thrashing; and only into free VRAM,
  // none after an eviction since the last replay: speculation must not push
  // out what other warps need (a prefetched page never evicts either).
  if (to_vram.any() && !m_evicted_since_replay) {
    PrefetchQuery q;
    q.resident = resident_in_block(block);
    q.faulted = to_vram;
    q.eligible = readable_in_block(block);
    for (size_t i = 0; i < kBlockPages; ++i)
      if (dest[i] == kRemote) q.eligible.reset(i);
    q.eligible &= ~hinted_away_from_prefetch(block);
    PageMask extra = m_prefetch->select(q);
    // All of it or none: a region cut to fit would be an arbitrary part.
    if (extra.count() + to_vram.count() > m_vram.free_frames()) extra.reset();
    for (size_t i = 0; i < kBlockPages; ++i)
      if (extra.test(i) && !m_thrash->is_thrashing(block + i * kPageSize, now)) {
        dest[i] = kVram;
        req[i] = PageReq{false, false};
      }
  }
  // Runs of consecutive pages with one destination inside one VMA. Where
  // remote pages cannot take atomics, atomic pages were sent to VRAM above.
  size_t i = 0;
  while (i < kBlockPages) {
    if (dest[i] == kNone) {
      ++i;
      continue;
    }
    const uint64_t va = block + i * kPageSize;
    // An earlier run waited on the device: a CPU thread may have unmapped
    // this page meanwhile. Left unserviced, it faults again and is cancelled.
    const Vma* vma = m_mm->find_vma(va);
    if (!vma) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < kBlockPages && dest[j] == dest[i] && block + j * kPageSize < vma->end) ++j;
    bool need_local = false;
    for (size_t k = i; k < j; ++k) need_local |= atomic[k] && !m_spec.sysmem_atomics;
    if (dest[i] == kDup)
      duplicate_run(va, j - i);
    else
      service_run(va, std::vector<PageReq>(req.begin() + i, req.begin() + j), dest[i] == kVram, need_local);
    i = j;
  }
}

void GpuDriver::service_run(uint64_t start, const std::vector<PageReq>& pages, bool to_vram, bool need_local) {
  const size_t n = pages.size();
  const uint64_t end = start + n * kPageSize;
  size_t faulted = 0;
  for (const PageReq& p : pages) faulted += p.faulted;
  // Directory levels first: data frames must not take the VRAM the page
  // table needs to map them.
  const Stage prev = mark(Stage::Allocate);
  const bool tables = ensure_tables(start, end);
  mark(prev);
  if (!tables) {
    ++m_stats.s_vram_alloc_failures;
    for (size_t k = 0; k < n; ++k)
      if (pages[k].faulted) cancel(start + k * kPageSize);  // nothing to map with
    return;
  }
  if (to_vram) {
    make_writable(start, pages);
    migrate_to_vram(start, end, Origin::Fault, &pages);
  }
  switch (mirror(start, pages, need_local)) {
    case MirrorResult::Mapped: m_stats.s_faults_serviced += faulted; break;
    case MirrorResult::Raced: break;  // the replay refaults and we try again
    case MirrorResult::Failed:
      for (size_t k = 0; k < n; ++k)
        if (pages[k].faulted) cancel(start + k * kPageSize);
      break;
  }
}

void GpuDriver::make_writable(uint64_t start, const std::vector<PageReq>& pages) {
  // A page migrates with the CPU entry's permission: moved while read-only
  // (write-protected for a read copy, or shared after fork), it becomes a
  // read-only device-private page, which hmm_range_fault reports as it is
  // without faulting, so no mirror could ever map it writable. A write
  // fault on the CPU side first breaks COW (or collapses the read copy);
  // one of our VRAM pages that is read-only comes home for it first.
  for (size_t k = 0; k < pages.size(); ++k) {
    if (!pages[k].write) continue;
    const uint64_t va = start + k * kPageSize;
    // The zero page and holes need nothing: migration inserts a new page
    // writable where the VMA is (migrate_vma_insert_page).
    if (m_dups.count(va)) drop_duplicates(va, va + kPageSize, true);  // saves the CPU a copy
    const Pte p = m_mm->pte(va);
    if (p.write || (p.kind != PteKind::Present && p.kind != PteKind::DevicePrivate)) continue;
    if (p.kind == PteKind::Present && (!p.anon || p.pfn == m_sys.phys.zero_pfn())) continue;
    if (p.kind == PteKind::DevicePrivate && bring_home_for_write(va, p.pfn) != Status::Ok) continue;
    HmmRange r;
    r.notifier = m_notifier;
    r.start = va;
    r.end = va + kPageSize;
    r.pfn_flags_mask = kHmmPfnReqFault | kHmmPfnReqWrite;
    r.hmm_pfns.assign(1, kHmmPfnReqFault | kHmmPfnReqWrite);
    r.notifier_seq = m_notifier->read_begin();
    ++m_stats.s_write_upgrades;
    hmm_range_fault(*m_mm, r);  // on failure the page migrates read-only and faults again
  }
}

uint64_t GpuDriver::prefetch_to_device(uint64_t start, uint64_t end) {
  if (!m_mm) return 0;
  const uint64_t t0 = m_bus.now_ps();
  const uint64_t before = m_stats.s_pages_to_vram;
  for (uint64_t a = page_down(start); a < end;) {
    const Vma* vma = m_mm->find_vma(a);
    if (!vma) {
      a += kPageSize;
      continue;
    }
    // One 2 MiB block of one VMA at a time, as fault servicing does. The
    // VMA may change while we wait on the device: keep what we need now.
    const uint64_t stop = std::min({end, vma->end, block_of(a) + kBlockBytes});
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
      if (m_place->on_fault(preferred_location(a)) == Where::Vram) migrate_to_vram(a, stop, Origin::Api);
      // A race with an invalidation only leaves pages unmapped: a fault maps them
      // later (range_fault fails on pages whose VMA went away).
      mirror(a, std::vector<PageReq>(n, PageReq{(prot & kProtWrite) != 0, false}));
    }
    a = stop;
  }
  LockGuard g(m_lock);
  flush_tlb_invalidates();
  const uint64_t moved = m_stats.s_pages_to_vram - before;
  m_stats.s_pages_prefetched += moved;
  if (m_trace)
    m_trace->slice(m_trace->context_track(m_bus.context(), m_trace_cpu), "prefetch to device", t0, m_bus.now_ps(),
                   {common::EventTrace::hex("va", start), common::EventTrace::num("pages", moved)});
  return moved;
}

void GpuDriver::migrate_to_vram(uint64_t start, uint64_t end, Origin why, const std::vector<PageReq>* pages) {
  MigrateVma a;
  a.start = start;
  a.end = end;
  a.flags = kSelectSystem;
  a.pgmap_owner = this;
  const Stage prev = mark(Stage::Migrate);
  // Chunks are sized to the VMA; keep its bounds before anything waits.
  const Vma* vma = m_mm->find_vma(start);
  const uint64_t vma_lo = vma ? vma->start : start, vma_hi = vma ? vma->end : end;
  if (migrate_vma_setup(*m_mm, a) != Status::Ok) {
    mark(prev);
    return;
  }
  const size_t n = a.src.size();
  m_bus.cpu_work(m_spec.costs.per_page_ns * n);

  // Allocate and copy, coalescing physically contiguous runs into one
  // copy-engine command each; the runs go to the engines as one batch.
  mark(Stage::Allocate);
  std::vector<CopyRun> runs;
  for (size_t i = 0; i < n; ++i) {
    if (!(a.src[i] & kMigratePfnMigrate)) continue;
    // Speculation never evicts: a prefetched page takes only free VRAM, and
    // never splits a chunk for it (Fit::Chunk: no piece where a chunk belongs).
    // Evicting resident pages for it makes warps whose accesses span more
    // blocks than VRAM holds fault on them forever (Ganguly ISCA'19 show how
    // prefetch and eviction interfere).
    // Nor does it take what an eviction freed for demanded pages since the
    // last replay: under pressure, prefetching pauses.
    const bool speculative = pages && !(*pages)[i].faulted;
    if (speculative && m_evicted_since_replay) continue;
    const uint64_t va = start + i * kPageSize;
    const uint64_t vpa = speculative ? m_chunks.frame_for(va, VramChunks::Fit::Chunk, vma_lo, vma_hi)
                                     : frame_for(va, vma_lo, vma_hi, pages && (*pages)[i].local);
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
  mark(Stage::Copy);
  copy(runs);
  mark(Stage::Migrate);
  migrate_vma_pages(*m_mm, a);
  const uint64_t now = m_bus.now_ps();
  const uint64_t moved_before = m_stats.s_pages_to_vram;
  for (size_t i = 0; i < n; ++i)
    if ((a.src[i] & kMigratePfnMigrate) && (a.dst[i] & kMigratePfnValid)) {
      const uint64_t va = start + i * kPageSize;
      track_resident(migrate_pfn_to_pfn(a.dst[i]), va);
      m_thrash->on_migration(va, Processor::Gpu, now);
      ++m_stats.s_pages_to_vram;
      if (a.src[i] & kMigratePfnValid) m_stats.s_bytes_h2d += kPageSize;
      switch (why) {
        case Origin::Fault: ++(pages && !(*pages)[i].faulted ? m_stats.s_pages_prefetcher : m_stats.s_pages_faulted_in); break;
        case Origin::Counter: ++m_stats.s_pages_counter_migrated; break;
        case Origin::Api: break;  // counted by prefetch_to_device
      }
    }
  if (m_stats.s_pages_to_vram > moved_before) m_stats.migration_pages.add(double(m_stats.s_pages_to_vram - moved_before));
  migrate_vma_finalize(*m_mm, a);
  mark(prev);
}

GpuDriver::MirrorResult GpuDriver::mirror(uint64_t start, const std::vector<PageReq>& pages, bool need_local) {
  const size_t n = pages.size();
  HmmRange r;
  r.notifier = m_notifier;
  r.start = start;
  r.end = start + n * kPageSize;
  r.dev_private_owner = this;
  r.pfn_flags_mask = kHmmPfnReqFault | kHmmPfnReqWrite;
  const Stage prev = mark(Stage::RangeFault);
  struct Restore {
    GpuDriver* d;
    Stage s;
    ~Restore() { d->mark(s); }
  } restore{this, prev};
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    mark(Stage::RangeFault);
    r.hmm_pfns.assign(n, kHmmPfnReqFault);
    for (size_t k = 0; k < n; ++k)
      if (pages[k].write) r.hmm_pfns[k] |= kHmmPfnReqWrite;
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
    mark(Stage::PteWrite);
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

}  // namespace hmmsim::host
