// Eviction under memory pressure: when VRAM is full, a victim block chosen
// by the eviction policy gives its pages back to system memory through the
// HMM core's device migration (migrate_device_*), as the kernel evicts
// device-private memory. Isolating the pages raises the notifier, whose
// callback drops our device PTEs and waits for the TLB invalidate to be
// acknowledged before the copy engines copy the data home.
#include <algorithm>
#include <cassert>

#include "host/gpu_driver/gpu_driver.h"

namespace hmmsim::host {

using hwref::CeDir;

void GpuDriver::track_resident(Pfn devpfn, uint64_t va) {
  // The policy hears of a VA once, however many VRAM pages (COW copies) it has.
  assert(!(va & (kPageSize - 1)));
  const uint64_t vpn = va >> kPageShift;
  if (Pfn* first = m_resident.find(vpn)) {
    bool known = *first == devpfn;
    for (auto [it, e] = m_resident_more.equal_range(vpn); it != e && !known; ++it) known = it->second == devpfn;
    if (!known) m_resident_more.emplace(vpn, devpfn);
  } else {
    m_evict->on_resident(va);
    m_resident[vpn] = devpfn;
  }
  m_page_va[devpfn] = va;
}

void GpuDriver::untrack_resident(Pfn devpfn) {
  const uint64_t* at = m_page_va.find(devpfn);
  if (!at) return;
  const uint64_t va = *at;
  const uint64_t vpn = va >> kPageShift;
  m_page_va.erase(devpfn);
  auto [lo, hi] = m_resident_more.equal_range(vpn);
  Pfn* first = m_resident.find(vpn);
  if (first && *first == devpfn) {
    if (lo == hi) {
      m_resident.erase(vpn);
      m_evict->on_released(va);
    } else {
      *first = lo->second;
      m_resident_more.erase(lo);
    }
    return;
  }
  for (auto it = lo; it != hi; ++it)
    if (it->second == devpfn) {
      m_resident_more.erase(it);
      break;
    }
}

uint64_t GpuDriver::frame_for(uint64_t va, uint64_t lo, uint64_t hi, bool local) {
  // A page that finds no chunk for its range evicts one, as UVM's allocator
  // evicts a root chunk, rather than taking a lone frame: lone frames would
  // break up VRAM until no block could have a chunk (and large pages) again.
  // Only when enough VRAM is free but scattered does it settle for a piece.
  using Fit = VramChunks::Fit;
  const uint64_t chunk_frames = m_chunks.chunk_bytes_for(va, lo, hi) >> kPageShift;
  // With chunks, blocks serviced in the last few batches are spared too,
  // not only those of this batch: when every warp needs more blocks than
  // VRAM holds chunks, evicting one of them for another would have blocks
  // push each other out round after round, and no warp would finish. The
  // page takes free VRAM or stays remote instead.
  const bool spare_recent = chunk_frames > 1;
  uint64_t pa;
  while ((pa = m_chunks.frame_for(va, Fit::Chunk, lo, hi)) == VramAllocator::kNone) {
    if (m_vram.free_frames() >= 2 * chunk_frames || !evict_one(block_of(va), true, spare_recent)) break;
  }
  if (pa == VramAllocator::kNone) pa = m_chunks.frame_for(va, Fit::Any, lo, hi);
  while (pa == VramAllocator::kNone && evict_one(block_of(va), true, spare_recent))
    pa = m_chunks.frame_for(va, Fit::Any, lo, hi);
  // A page that cannot stay remote (an atomic the link cannot carry) takes
  // from recent blocks too: else its fault would be fatal.
  while (pa == VramAllocator::kNone && spare_recent && local && evict_one(block_of(va), true))
    pa = m_chunks.frame_for(va, Fit::Any, lo, hi);
  if (pa == VramAllocator::kNone && spare_recent) ++m_stats.s_refault_no_evict;
  return pa;
}

bool GpuDriver::ensure_tables(uint64_t start, uint64_t end) {
  // Tables first spare the batch's other blocks, then take from them too: a
  // page the table cannot map would be a fatal fault, a data page left in
  // system memory is only mapped remotely.
  while (!m_pt.ensure_tables(start, end))
    if (!evict_one(block_of(start), true) && !evict_one(block_of(start), false)) return false;
  return true;
}

bool GpuDriver::evict_one(uint64_t exclude, bool spare_batch, bool spare_recent) {
  // Pages a batch has just made resident stay until its replay: evicting
  // them first would leave warps whose accesses span more blocks than VRAM
  // holds faulting forever. A victim that frees nothing (its pages are
  // pinned, or there is no system memory for them) is forgotten by the
  // policy, so this ends.
  auto excluded = [&](uint64_t b) {
    if (b == exclude || (spare_batch && m_batch_blocks.count(b))) return true;
    if (!spare_recent) return false;
    auto it = m_serviced_at.find(b);
    return it != m_serviced_at.end() && m_stats.s_batches - it->second <= kRecentBatches;
  };
  while (auto v = m_evict->victim_outside(excluded)) {
    if (evict_range(v->va, v->bytes)) return true;
    for (uint64_t a = v->va; a < v->va + v->bytes; a += kPageSize) m_evict->on_released(a);
  }
  return false;
}

uint64_t GpuDriver::evict_range(uint64_t va, uint64_t bytes) {
  const uint64_t t0 = m_bus.now_ps();
  const Evicted e = evict_pages(va, bytes);
  // One slice per eviction as stats.json counts them (pages copied out);
  // read-only copies dropped on the way are an argument.
  if (m_trace && e.moved)
    m_trace->slice(m_trace_evict, "evict", t0, m_bus.now_ps(),
                   {common::EventTrace::hex("va", va), common::EventTrace::num("pages", e.moved),
                    common::EventTrace::num("copies_dropped", e.dropped)});
  return e.moved + e.dropped;
}

GpuDriver::Evicted GpuDriver::evict_pages(uint64_t va, uint64_t bytes) {
  // Read-only copies go first: dropping them costs no copy.
  const uint64_t dropped = drop_duplicates(va, va + bytes, true);
  m_stats.s_dup_evicted += dropped;
  std::vector<Pfn> pfns;
  const uint64_t lo = va >> kPageShift, hi = (va + bytes) >> kPageShift;
  m_resident.for_each(lo, hi, [&](uint64_t, Pfn p) { pfns.push_back(p); });
  for (auto it = m_resident_more.lower_bound(lo); it != m_resident_more.end() && it->first < hi; ++it)
    pfns.push_back(it->second);
  if (pfns.empty()) return {0, dropped};
  std::sort(pfns.begin(), pfns.end());
  // One device migration per run of consecutive pfns.
  std::vector<MigrateDevice> ms;
  for (size_t i = 0; i < pfns.size();) {
    size_t j = i + 1;
    while (j < pfns.size() && pfns[j] == pfns[j - 1] + 1) ++j;
    ms.emplace_back();
    migrate_device_range(m_sys, ms.back(), pfns[i], j - i);
    i = j;
  }
  std::vector<CopyRun> runs;
  bool host_full = false;  // after one failed allocation, the rest would fail too
  for (MigrateDevice& m : ms)
    for (size_t k = 0; k < m.src.size(); ++k) {
      if (!(m.src[k] & kMigratePfnMigrate)) continue;
      const Pfn d = host_full ? kNoPfn : m_sys.phys.alloc();
      if (d == kNoPfn) {
        host_full = true;
        ++m_stats.s_evict_no_host_memory;  // stays in VRAM
        continue;
      }
      m.dst[k] = migrate_pfn(d) | (m.src[k] & kMigratePfnWrite);
      runs.push_back({CeDir::DeviceToHost, vram_pa_of(m.start_pfn + k), PhysMem::pa(d), kPageSize});
    }
  m_bus.cpu_work(m_spec.costs.per_page_ns * runs.size());
  const Stage prev = mark(Stage::Copy);
  copy(runs);
  mark(prev);
  uint64_t moved = 0;
  const uint64_t now = m_bus.now_ps();
  for (MigrateDevice& m : ms) {
    migrate_device_pages(m_sys, m);
    for (size_t k = 0; k < m.src.size(); ++k)
      if ((m.src[k] & kMigratePfnMigrate) && (m.dst[k] & kMigratePfnValid)) {
        ++moved;
        // Unlike UVM, an eviction counts for thrashing detection: a page
        // evicted and faulted back again and again (accesses spanning more
        // blocks than VRAM holds) is thrashing, and pinning it remotely is
        // what lets the warps that need it make progress.
        if (const uint64_t* at = m_page_va.find(m.start_pfn + k)) m_thrash->on_migration(*at, Processor::Cpu, now);
      }
    migrate_device_finalize(m_sys, m);  // the device pages' last references go: page_free
  }
  if (moved) {
    m_evicted_since_replay = true;
    ++m_stats.s_evictions;
    m_stats.s_pages_evicted += moved;
    m_stats.s_pages_to_sysmem += moved;
    m_stats.s_bytes_d2h += moved * kPageSize;
  }
  return {moved, dropped};
}

}  // namespace hmmsim::host
