// The fault pipeline's outer loop (UVM's bottom half): fetch a batch from
// the fault ring, coalesce it per page, service it per 2 MiB VA block,
// invalidate the TLBs, replay as the replay policy says; repeat until the
// ring is empty or a limit is reached. The time of each batch is charged
// to its stages (batch_stages.h).
#include "host/gpu_driver/gpu_driver.h"

namespace hmmsim::host {

namespace bar0 = hwref::bar0;

uint32_t GpuDriver::read_put() {
  ++m_stats.s_put_reads;
  return m_cached_put = m_bus.mmio_read32(bar0::kFaultBufPut);
}

BatchSummary GpuDriver::fetch_batch(FaultSet& out) {
  const uint32_t entries = m_spec.fault_buffer_entries;
  BatchSummary sum;
  while (sum.fetched < m_spec.batch_count) {
    // PUT is read over BAR0 only when the cached copy is used up (UVM).
    if (m_get == m_cached_put && read_put() == m_get) break;
    const uint64_t off = uint64_t(m_get) * hwref::kFaultEntryBytes;
    const Pfn pfn = m_ring_pfn + (off >> kPageShift);
    uint8_t raw[hwref::kFaultEntryBytes];
    m_sys.phys.read(pfn, off & kPageMask, raw, sizeof raw);
    hwref::FaultEntry e = hwref::decode(raw);
    if (!e.valid) break;  // entry not landed yet: stop at the first one not ready
    uint8_t zero = 0;
    m_sys.phys.write(pfn, (off & kPageMask) + hwref::kFaultEntryBytes - 1, &zero, 1);
    ++sum.fetched;
    m_get = (m_get + 1) % entries;
    const uint64_t page = page_down(e.va);
    auto [it, fresh] = out.emplace(page, PendingFault{e.access, e.timestamp_ps});
    if (!fresh) {
      ++sum.duplicates;
      if (e.access > it->second.access) it->second.access = e.access;
    }
  }
  if (sum.fetched) m_bus.mmio_write32(bar0::kFaultBufGet, m_get);
  m_stats.s_faults_fetched += sum.fetched;
  m_stats.s_faults_duplicate += sum.duplicates;
  m_bus.cpu_work(m_spec.costs.per_fault_ns * sum.fetched);
  return sum;
}

void GpuDriver::flush_fault_buffer(FlushMode mode) {
  ++m_stats.s_buffer_flushes;
  const uint32_t put = mode == FlushMode::UpdatePut ? read_put() : m_cached_put;
  uint32_t dropped = 0;
  // Drop what is pending up to PUT: what is still unsatisfied faults again
  // after the replay. An entry not landed yet ends the flush (skipping it
  // would leave a valid entry behind GET when it lands).
  while (m_get != put) {
    const uint64_t off = uint64_t(m_get) * hwref::kFaultEntryBytes;
    const Pfn pfn = m_ring_pfn + (off >> kPageShift);
    const uint64_t last = (off & kPageMask) + hwref::kFaultEntryBytes - 1;
    uint8_t valid = 0;
    m_sys.phys.read(pfn, last, &valid, 1);
    if (!valid) break;
    const uint8_t zero = 0;
    m_sys.phys.write(pfn, last, &zero, 1);
    m_get = (m_get + 1) % m_spec.fault_buffer_entries;
    ++dropped;
  }
  if (dropped) m_bus.mmio_write32(bar0::kFaultBufGet, m_get);
  m_stats.s_entries_flushed += dropped;
  m_bus.cpu_work(m_spec.costs.per_fault_ns * dropped);
}

void GpuDriver::replay() {
  m_bus.mmio_write32(bar0::kReplay, 1);
  ++m_stats.s_replays;
  m_batch_blocks.clear();  // their warps may run now: their pages may be evicted again
  m_evicted_since_replay = false;
}

void GpuDriver::service_faults() {
  const uint64_t t0 = m_bus.now_ps();
  const uint64_t batches0 = m_stats.s_batches;
  ++m_stats.s_interrupts;
  m_bus.cpu_work(m_spec.costs.isr_ns);
  bool replayed = false;
  uint32_t throttled_batches = 0;
  for (uint32_t b = 0; b < m_spec.max_batches; ++b) {
    FaultSet faults;  // ordered by VA: the sort groups faults by 2 MiB block
    const uint64_t batch_t0 = m_bus.now_ps();
    m_clock.begin(Stage::Fetch, batch_t0, m_bus.context());
    m_bus.cpu_work(m_spec.costs.batch_fixed_ns);
    const BatchSummary sum = fetch_batch(faults);
    if (sum.fetched == 0) {
      m_clock.cancel();
      break;
    }
    ++m_stats.s_batches;
    m_stats.batch.batch_faults.add(sum.fetched);
    m_stats.batch.batch_unique_pages.add(double(faults.size()));
    m_batch_throttled = false;
    mark(Stage::Preprocess);
    std::vector<std::pair<uint64_t, PendingFault>> block;
    auto service = [&] {
      service_block(block);
      block.clear();
      if (!m_replay->after_block()) return;
      LockGuard g(m_lock);
      mark(Stage::Invalidate);
      flush_tlb_invalidates();
      mark(Stage::Replay);
      replay();
      replayed = true;
      mark(Stage::Preprocess);
    };
    for (auto& f : faults) {
      if (!block.empty() && block_of(block.front().first) != block_of(f.first)) service();
      block.push_back(f);
    }
    if (!block.empty()) service();
    {
      // Register sequences are not atomic: no notifier callback may interleave.
      LockGuard g(m_lock);
      mark(Stage::Invalidate);
      flush_tlb_invalidates();
      if (m_replay->after_batch()) {
        mark(Stage::Replay);
        const FlushMode fm = m_replay->flush(sum);
        if (fm != FlushMode::None) flush_fault_buffer(fm);
        replay();
        replayed = true;
      }
    }
    m_clock.end(m_bus.now_ps(), m_stats.batch);
    if (m_trace) {
      using ET = common::EventTrace;
      m_trace->slice(m_trace_driver, "batch", batch_t0, m_bus.now_ps(),
                     {ET::num("batch", m_stats.s_batches), ET::num("faults", sum.fetched),
                      ET::num("pages", faults.size()), ET::num("duplicates", sum.duplicates)});
    }
    // Throttled faults come straight back: stop rather than spin (UVM: 5).
    if (m_batch_throttled && ++throttled_batches >= m_spec.max_throttled_batches) {
      ++m_stats.s_throttled_stops;
      break;
    }
  }
  // Like UVM, always replay at least once: faults the GMMU had to drop
  // (full ring, uTLB limit) are only retried on a replay.
  LockGuard g(m_lock);
  if (!replayed || m_replay->at_end()) replay();
  m_bus.mmio_write32(bar0::kFaultBufStatus, 1);              // clear overflow
  m_bus.mmio_write32(bar0::kIntrStatus, hwref::kIntrFault);  // re-arm: fires again if entries remain
  if (m_trace)
    m_trace->slice(m_trace_driver, "fault interrupt", t0, m_bus.now_ps(),
                   {common::EventTrace::num("batches", m_stats.s_batches - batches0)});
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

}  // namespace hmmsim::host
