// Eviction under memory pressure: when VRAM is full, a victim block chosen
// by the eviction policy gives its pages back to system memory through the
// HMM core's device migration (migrate_device_*), as the kernel evicts
// device-private memory. Isolating the pages raises the notifier, whose
// callback drops our device PTEs and waits for the TLB invalidate to be
// acknowledged before the copy engines copy the data home.
#include <algorithm>

#include "host/gpu_driver/gpu_driver.h"

namespace hmmsim::host {

using hwref::CeDir;

void GpuDriver::track_resident(Pfn devpfn, uint64_t va) {
  const uint64_t block = va & ~(kBlockBytes - 1);
  auto& pages = m_block_pages[block];
  if (pages.empty()) m_evict->on_resident(block);
  pages.insert(devpfn);
  m_page_block[devpfn] = block;
}

uint64_t GpuDriver::frame_for(uint64_t va) {
  uint64_t pa = m_chunks.frame_for(va);
  while (pa == VramAllocator::kNone && evict_one(va & ~(kBlockBytes - 1))) pa = m_chunks.frame_for(va);
  return pa;
}

bool GpuDriver::ensure_tables(uint64_t start, uint64_t end) {
  while (!m_pt.ensure_tables(start, end))
    if (!evict_one(start & ~(kBlockBytes - 1))) return false;
  return true;
}

bool GpuDriver::evict_one(uint64_t exclude) {
  // A victim that frees nothing (its pages are pinned, or there is no
  // system memory for them) leaves the policy's list, so this ends.
  while (auto v = m_evict->victim(exclude)) {
    if (evict_block(*v)) return true;
    m_evict->on_empty(*v);
  }
  return false;
}

uint64_t GpuDriver::evict_block(uint64_t block) {
  auto it = m_block_pages.find(block);
  if (it == m_block_pages.end()) return 0;
  std::vector<Pfn> pfns(it->second.begin(), it->second.end());  // sorted
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
  for (MigrateDevice& m : ms)
    for (size_t k = 0; k < m.src.size(); ++k) {
      if (!(m.src[k] & kMigratePfnMigrate)) continue;
      const Pfn d = m_sys.phys.alloc();
      if (d == kNoPfn) {
        ++m_stats.s_evict_no_host_memory;  // stays in VRAM
        continue;
      }
      m.dst[k] = migrate_pfn(d) | (m.src[k] & kMigratePfnWrite);
      runs.push_back({CeDir::DeviceToHost, vram_pa_of(m.start_pfn + k), PhysMem::pa(d), kPageSize});
    }
  m_bus.cpu_work(m_spec.costs.per_page_ns * runs.size());
  copy(runs);
  uint64_t moved = 0;
  for (MigrateDevice& m : ms) {
    migrate_device_pages(m_sys, m);
    for (size_t k = 0; k < m.src.size(); ++k) moved += (m.src[k] & kMigratePfnMigrate) && (m.dst[k] & kMigratePfnValid);
    migrate_device_finalize(m_sys, m);  // the device pages' last references go: page_free
  }
  if (moved) {
    ++m_stats.s_evictions;
    m_stats.s_pages_evicted += moved;
    m_stats.s_pages_to_sysmem += moved;
    m_stats.s_bytes_d2h += moved * kPageSize;
  }
  return moved;
}

}  // namespace hmmsim::host
