// Read duplication (cudaMemAdvise SetReadMostly): a GPU read of a
// read-mostly page leaves the page in system memory and puts a read-only
// copy in VRAM beside it, so both sides read locally. The copy goes when
// either side writes, as UVM collapses duplicates on a write:
// - a GPU write faults (the copy is mapped read-only): make_writable drops
//   the copy and makes the CPU entry writable, then the page migrates;
// - a CPU write faults too: the driver write-protected the CPU's entry when
//   it made the copy and holds a reference on the page, so the fault copies
//   the page (it is not the CPU's alone) and raises CLEAR, which drops it.
// Any other change of the CPU page table over the page drops it as well;
// under memory pressure a copy is evicted by dropping it (nothing to copy
// back: the system page is current).
#include <optional>

#include "host/gpu_driver/gpu_driver.h"

namespace hmmsim::host {

using hwref::CeDir;
namespace pt = hwref::pt;

void GpuDriver::set_read_mostly(uint64_t start, uint64_t end, bool on) {
  m_read_mostly.set(start, end, on);
  if (!on) drop_duplicates(start, end, true);
}

bool GpuDriver::in_vram(uint64_t va) const {
  return !(va & (kPageSize - 1)) && m_resident.contains(va >> kPageShift);
}

void GpuDriver::duplicate_run(uint64_t start, size_t n) {
  const uint64_t end = start + n * kPageSize;
  const Vma* vma = m_mm->find_vma(start);
  if (!vma) return;
  const uint64_t lo = vma->start, hi = vma->end;
  // Shared and hugetlb memory cannot be write-protected for us (a CPU write
  // would not be heard): such pages migrate as usual.
  if (vma->shared() || vma->hugetlb) {
    ++m_stats.s_dup_refused;
    service_run(start, std::vector<PageReq>(n, PageReq{false, true}), true, false);
    return;
  }
  const Stage prev = mark(Stage::Allocate);
  const bool tables = ensure_tables(start, end);
  // Frames first: taking one may evict, and the eviction's notifier event
  // would make the snapshot below stale.
  std::vector<uint64_t> vpa(n, VramAllocator::kNone);
  for (size_t k = 0; k < n && tables; ++k) vpa[k] = frame_for(start + k * kPageSize, lo, hi);
  auto release_frames = [&] {
    for (size_t k = 0; k < n; ++k)
      if (vpa[k] != VramAllocator::kNone) m_chunks.release(vpa[k]);
  };
  mark(Stage::RangeFault);
  m_bus.cpu_work(m_spec.costs.per_page_ns * n);
  // The VMA may have changed while frames were found: then, or without
  // tables, the pages are served as usual.
  if (!tables || m_mm->write_protect(start, end - start, this) != Status::Ok) {
    release_frames();
    mark(prev);
    ++m_stats.s_dup_refused;
    service_run(start, std::vector<PageReq>(n, PageReq{false, true}), true, false);
    return;
  }
  HmmRange r;
  r.notifier = m_notifier;
  r.start = start;
  r.end = end;
  r.dev_private_owner = this;
  r.pfn_flags_mask = kHmmPfnReqFault;
  r.hmm_pfns.assign(n, kHmmPfnReqFault);
  r.notifier_seq = m_notifier->read_begin();
  if (hmm_range_fault(*m_mm, r) != Status::Ok) {
    release_frames();
    mark(prev);
    return;  // the replay refaults
  }
  // Hold the pages from the snapshot on, before anything waits: a CPU write
  // from now on must copy the page (raising CLEAR), not reuse it unheard. A
  // page already writable again (the CPU wrote between the write-protect
  // and the snapshot) is left for the replay.
  std::vector<bool> held(n, false);
  for (size_t k = 0; k < n; ++k) {
    const Pfn pfn = hmm_pfn_to_pfn(r.hmm_pfns[k]);
    if (DevicePagemaps::is_device(pfn) || (r.hmm_pfns[k] & kHmmPfnWrite)) continue;
    m_sys.phys.get(pfn);
    held[k] = true;
  }
  std::vector<CopyRun> runs;
  for (size_t k = 0; k < n; ++k) {
    if (!held[k] || vpa[k] == VramAllocator::kNone) continue;  // no VRAM: mapped remotely below
    const Pfn pfn = hmm_pfn_to_pfn(r.hmm_pfns[k]);
    const bool zero = pfn == m_sys.phys.zero_pfn();
    CopyRun run{zero ? CeDir::FillZero : CeDir::HostToDevice, zero ? 0 : PhysMem::pa(pfn), vpa[k], kPageSize};
    if (!runs.empty() && runs.back().dir == run.dir && runs.back().dst + runs.back().len == run.dst &&
        (zero || runs.back().src + runs.back().len == run.src))
      runs.back().len += kPageSize;
    else
      runs.push_back(run);
  }
  mark(Stage::Copy);
  copy(runs);
  mark(Stage::PteWrite);
  std::vector<bool> remote(n, false);  // found no VRAM: read over the link instead
  bool raced;
  {
    LockGuard g(m_lock);
    // A CPU write or any other change since the snapshot: start over on the
    // replay (frames and references go back below).
    raced = m_notifier->read_retry(r.notifier_seq);
    if (!raced) {
      m_bus.cpu_work(m_spec.costs.per_pte_ns * n);
      for (size_t k = 0; k < n; ++k) {
        if (!held[k]) continue;
        const Pfn pfn = hmm_pfn_to_pfn(r.hmm_pfns[k]);
        const uint64_t va = start + k * kPageSize;
        if (vpa[k] == VramAllocator::kNone || m_dups.count(va) ||
            !m_pt.map(va, vpa[k], pt::Aperture::Vram, false, true)) {
          remote[k] = true;
          continue;
        }
        if (!in_vram(va)) m_evict->on_resident(va);
        m_dups[va] = Duplicate{pfn, vpa[k]};
        vpa[k] = VramAllocator::kNone;  // taken, with the reference
        held[k] = false;
        ++m_stats.s_dup_pages;
        ++m_stats.s_faults_serviced;
        if (pfn != m_sys.phys.zero_pfn()) m_stats.s_bytes_h2d += kPageSize;
      }
      queue_tlb_invalidate(start, n);
    }
  }
  release_frames();
  for (size_t k = 0; k < n; ++k)
    if (held[k]) m_sys.phys.put(hmm_pfn_to_pfn(r.hmm_pfns[k]));
  for (size_t k = 0; k < n && !raced;) {
    size_t j = k;
    while (j < n && remote[j]) ++j;
    if (j > k) mirror(start + k * kPageSize, std::vector<PageReq>(j - k, PageReq{false, true}));
    k = j + 1;
  }
  mark(prev);
}

size_t GpuDriver::drop_duplicates(uint64_t start, uint64_t end, bool unmap) {
  // Under the lock from lookup to erase when unmapping: taking it may wait,
  // and whoever held it (a notifier callback) may have dropped these copies
  // meanwhile. Without unmapping (the callback has), nothing here waits.
  std::optional<LockGuard> g;
  if (unmap) g.emplace(m_lock);
  auto first = m_dups.lower_bound(start);
  if (first == m_dups.end() || first->first >= end) return 0;
  if (unmap) {
    // The device must stop reading a copy before its frame can be reused.
    for (auto it = first; it != m_dups.end() && it->first < end; ++it)
      if (!m_pt.unmap_range(it->first, it->first + kPageSize).empty()) queue_tlb_invalidate(it->first, 1);
    flush_tlb_invalidates();  // waits, holding the lock: no one else drops copies meanwhile
  }
  size_t n = 0;
  for (auto it = first; it != m_dups.end() && it->first < end; ++n) {
    m_chunks.release(it->second.vram_pa);
    m_sys.phys.put(it->second.sys);
    const uint64_t va = it->first;
    it = m_dups.erase(it);
    if (!in_vram(va)) m_evict->on_released(va);
  }
  m_stats.s_dup_dropped += n;
  return n;
}

}  // namespace hmmsim::host
