// Access-counter migration (placement access_counter): faulted pages are
// mapped remotely, the GPU counts its accesses to system memory per region,
// and every `threshold` accesses to a region it writes a notification into
// a ring in host memory and raises an MSI. This bottom half reads them and
// migrates the 64 KiB sub-regions they mark to VRAM, as UVM's
// access-counter service does (uvm_gpu_access_counters.c).
#include <algorithm>

#include "host/gpu_driver/gpu_driver.h"
#include "hwref/access_counter_entry.h"
#include "hwref/access_counter_regs.h"

namespace hmmsim::host {

namespace bar0 = hwref::bar0;

namespace {
constexpr uint32_t kRingEntries = 256;  // UVM services 256 notifications per batch
}  // namespace

Status GpuDriver::init_access_counters() {
  const uint64_t bytes = uint64_t(kRingEntries) * hwref::kAccessCounterEntryBytes;
  const uint64_t pages = page_up(bytes) >> kPageShift;
  m_ac_ring_pfn = m_sys.phys.alloc_contiguous(pages);
  if (m_ac_ring_pfn == kNoPfn) return Status::NoMem;
  unsigned log2 = 0;
  while ((1ull << (log2 + 1)) <= m_spec.placement.counter_granularity) ++log2;
  write64(bar0::kAcBufBaseLo, PhysMem::pa(m_ac_ring_pfn));
  m_bus.mmio_write32(bar0::kAcBufEntries, kRingEntries);
  m_bus.mmio_write32(bar0::kAcGranularity, log2);
  m_bus.mmio_write32(bar0::kAcThreshold, m_spec.placement.counter_threshold);
  m_bus.mmio_write32(bar0::kAcEnable, 1);
  m_bus.mmio_write32(bar0::kIntrEnable, hwref::kIntrFault | hwref::kIntrCopy | hwref::kIntrAccessCounter);
  return Status::Ok;
}

void GpuDriver::service_access_counters() {
  const uint64_t t0 = m_bus.now_ps();
  ++m_stats.s_ac_interrupts;
  m_bus.cpu_work(m_spec.costs.isr_ns);
  // Read every notification that has landed, then migrate what they name.
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // [start, end) to migrate
  const uint32_t put = m_bus.mmio_read32(bar0::kAcBufPut);
  uint32_t read = 0;
  while (m_ac_get != put) {
    const uint64_t off = uint64_t(m_ac_get) * hwref::kAccessCounterEntryBytes;
    const Pfn pfn = m_ac_ring_pfn + (off >> kPageShift);
    uint8_t raw[hwref::kAccessCounterEntryBytes];
    m_sys.phys.read(pfn, off & kPageMask, raw, sizeof raw);
    const hwref::AccessCounterEntry e = hwref::decode_access_counter(raw);
    if (!e.valid) break;
    const uint8_t zero = 0;
    m_sys.phys.write(pfn, (off & kPageMask) + hwref::kAccessCounterEntryBytes - 1, &zero, 1);
    m_ac_get = (m_ac_get + 1) % kRingEntries;
    ++read;
    const uint64_t sub = 1ull << hwref::kAccessCounterSubRegionLog2;
    const uint64_t region = 1ull << e.granularity_log2;
    for (uint64_t s = 0; s < std::max<uint64_t>(1, region / sub); ++s)
      if (e.sub_mask & (1u << s)) ranges.emplace_back(e.va + s * sub, e.va + std::min(region, (s + 1) * sub));
  }
  if (read) m_bus.mmio_write32(bar0::kAcBufGet, m_ac_get);
  m_stats.s_ac_notifications += read;
  m_bus.cpu_work(m_spec.costs.per_fault_ns * read);
  std::sort(ranges.begin(), ranges.end());
  for (auto [start, end] : ranges) {
    // Per VMA and 2 MiB block, like a fault's service; hints still rule.
    for (uint64_t a = start; a < end;) {
      const Vma* vma = m_mm ? m_mm->find_vma(a) : nullptr;
      if (!vma) {
        a += kPageSize;
        continue;
      }
      // The VMA may go while we wait on the device: keep what we need now.
      const uint64_t stop = std::min({end, vma->end, block_of(a) + kBlockBytes});
      const uint32_t prot = vma->prot;
      const bool writable = prot & kProtWrite;
      m_bus.cpu_work(m_spec.costs.per_block_ns);
      if ((prot & kProtRead) && preferred_location(a) != PreferredLocation::Host && ensure_tables(a, stop)) {
        migrate_to_vram(a, stop, Origin::Counter);
        const size_t n = (stop - a) / kPageSize;
        mirror(a, std::vector<PageReq>(n, PageReq{writable, false}));
      }
      a = stop;
    }
  }
  LockGuard g(m_lock);
  flush_tlb_invalidates();
  // The migrated regions' counters restart; re-arm the interrupt.
  for (auto [start, end] : ranges) {
    write64(bar0::kAcClearVaLo, start);
    write64(bar0::kAcClearLenLo, end - start);
    m_bus.mmio_write32(bar0::kAcClear, hwref::kAcClearTargeted);
  }
  m_bus.mmio_write32(bar0::kAcStatus, hwref::kAcStatusOverflow);
  m_bus.mmio_write32(bar0::kIntrStatus, hwref::kIntrAccessCounter);
  if (m_trace)
    m_trace->slice(m_trace_driver, "access counter interrupt", t0, m_bus.now_ps(),
                   {common::EventTrace::num("notifications", read), common::EventTrace::num("regions", ranges.size())});
}

}  // namespace hmmsim::host
