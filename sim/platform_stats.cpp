// What stats.json holds: every component's counters, registered once.
#include "sim/platform_impl.h"
#include "sim/translation_stats.h"

namespace hmmsim::sim {

void Platform::Impl::register_stats() {
  Stats& s = stats;
  s.value("sim.time_ns", &sim_ns, "simulated time at the end of the run");
  s.value("sim.kernel_time_ns", &kernel_ns,
          "GPU kernel launch to completion, summed over kernels (one the run stopped in: up to the stop)");
  s.derived("gpu.cycles", [this] { return kstats->cycles(kernel_ns); },
            "kernel time (sim.kernel_time_ns) in GPU cycles at gpu.clock_mhz");
  s.derived("gpu.ipc",
            [this] {
              const double c = kstats->cycles(kernel_ns);
              return c > 0 ? stats.get("gpu.instructions") / c : 0.0;
            },
            "warp instructions per GPU cycle of kernel time, all SMs together (gpu.instructions / gpu.cycles)");
  s.derived("sim.seed", [this] { return double(cfg.run.seed); }, "seed of every random choice");

  auto sum_sm = [this](uint64_t hw::SmCounters::*m) {
    return [this, m] {
      double t = 0;
      for (unsigned i = 0; i < gpu.sm_count(); ++i) t += double(gpu.sm(i).c.*m);
      return t;
    };
  };
  using C = hw::SmCounters;
  s.derived("gpu.accesses",
            [l = sum_sm(&C::loads), st = sum_sm(&C::stores), a = sum_sm(&C::atomics)] { return l() + st() + a(); },
            "global warp memory instructions completed (loads + stores + atomics)");
  struct G {
    const char* name;
    uint64_t C::*m;
    const char* desc;
  };
  const G gstats[] = {
      {"instructions", &C::instructions, "warp instructions executed (all kinds)"},
      {"compute_instructions", &C::compute, "warp instructions without a memory access"},
      {"loads", &C::loads, "global warp loads completed"},
      {"stores", &C::stores, "global warp stores completed"},
      {"atomics", &C::atomics, "global warp atomics/reductions completed"},
      {"shared_accesses", &C::shared, "shared-memory warp instructions (not translated)"},
      {"local_accesses", &C::local, "local-memory warp instructions (not translated)"},
      {"const_accesses", &C::constant, "constant-memory warp instructions (not translated)"},
      {"active_lanes", &C::lanes, "active lanes of global memory instructions (lane addresses)"},
      {"sectors", &C::sectors, "32-byte sectors touched by global memory instructions"},
      {"lines", &C::lines, "128-byte line accesses of global memory instructions"},
      {"pages", &C::pages, "distinct 4 KiB pages per global memory instruction, summed (translations needed)"},
      {"bytes", &C::bytes, "bytes of active lanes of global memory instructions"},
      {"remote_lines", &C::remote_lines, "line accesses to system memory over PCIe"},
      {"ctas", &C::ctas, "thread blocks completed"},
      {"warps", &C::warps, "warps started"},
      {"fault_stalls", &C::faults, "global memory instructions that stalled on a fault"},
  };
  for (const G& g : gstats) s.derived(std::string("gpu.") + g.name, sum_sm(g.m), g.desc);
  s.derived("gpu.avg_fault_stall_ns",
            [this, n = sum_sm(&C::faults)] {
              double t = 0;
              for (unsigned i = 0; i < gpu.sm_count(); ++i) t += gpu.sm(i).c.fault_stall_ns;
              return n() > 0 ? t / n() : 0.0;
            },
            "mean time from a faulting instruction to its replay");
  for (unsigned i = 0; i < gpu.sm_count(); ++i) {
    hw::SmCounters& sm = gpu.sm(i).c;
    const std::string p = "gpu.sm" + std::to_string(i) + ".";
    s.counter(p + "instructions", &sm.instructions, "warp instructions executed");
    s.counter(p + "loads", &sm.loads, "global loads completed");
    s.counter(p + "stores", &sm.stores, "global stores completed");
    s.counter(p + "bytes", &sm.bytes, "bytes loaded or stored by active lanes");
    s.counter(p + "tlb_hits", &sm.tlb_hits, "L1 TLB hits");
    s.counter(p + "tlb_misses", &sm.tlb_misses, "L1 TLB misses");
    s.counter(p + "fault_stalls", &sm.faults, "instructions that faulted");
    s.counter(p + "fatal_faults", &sm.fatal, "warps killed by a cancelled fault");
    s.counter(p + "remote_accesses", &sm.remote_lines, "line accesses to system memory over PCIe");
    s.counter(p + "ctas", &sm.ctas, "thread blocks completed");
    s.value(p + "fault_stall_ns", &sm.fault_stall_ns, "sum over warps of fault-to-replay stall");
  }
  register_translation_stats(s, gpu);
  hw::VramCore& v = gpu.vram().core();
  s.counter("gpu.vram.reads", &v.s_reads, "read transactions");
  s.counter("gpu.vram.writes", &v.s_writes, "write transactions");
  s.counter("gpu.vram.bytes_read", &v.s_bytes_read, "bytes read");
  s.counter("gpu.vram.bytes_written", &v.s_bytes_written, "bytes written");
  s.counter("gpu.vram.row_hits", &v.s_row_hits, "row-buffer hits");
  s.counter("gpu.vram.row_misses", &v.s_row_misses, "accesses to a closed bank");
  s.counter("gpu.vram.row_conflicts", &v.s_row_conflicts, "accesses needing precharge");
  if (gpu.l2().enabled()) {
    hw::L2CacheCore& l2 = gpu.l2().core();
    s.counter("gpu.l2_cache.reads", &l2.s_reads, "read requests");
    s.counter("gpu.l2_cache.writes", &l2.s_writes, "write requests");
    s.counter("gpu.l2_cache.read_misses", &l2.s_read_misses, "read requests that waited for DRAM");
    s.counter("gpu.l2_cache.sector_hits", &l2.s_sector_hits, "32-byte sectors found");
    s.counter("gpu.l2_cache.sector_misses", &l2.s_sector_misses, "sectors missing from a present line");
    s.counter("gpu.l2_cache.line_misses", &l2.s_line_misses, "lines allocated");
    s.counter("gpu.l2_cache.evictions", &l2.s_evictions, "valid lines replaced");
    s.counter("gpu.l2_cache.writebacks", &l2.s_writebacks, "dirty lines written back");
    s.counter("gpu.l2_cache.bytes_from_dram", &l2.s_bytes_from_dram, "bytes filled from VRAM");
    s.counter("gpu.l2_cache.bytes_to_dram", &l2.s_bytes_to_dram, "bytes written back to VRAM");
  }
  hw::AccessCounters& ac = gpu.access_counters();
  s.counter("gpu.access_counters.accesses", &ac.core().s_accesses, "system-memory accesses counted");
  s.counter("gpu.access_counters.notifications", &ac.core().s_notifications, "regions that reached the threshold");
  s.counter("gpu.access_counters.written", &ac.s_written, "notifications written to the ring");
  s.counter("gpu.access_counters.dropped", &ac.s_dropped, "notifications lost to a full ring");
  // Copy engines: totals, then each engine's share.
  auto ce_sum = [this](uint64_t hw::CopyEngine::*m) {
    return [this, m] {
      double n = 0;
      for (unsigned i = 0; i < gpu.copy_engines(); ++i) n += gpu.copy_engine(i).*m;
      return n;
    };
  };
  s.derived("gpu.copy_engine.copies", ce_sum(&hw::CopyEngine::s_copies), "descriptors executed, all engines");
  s.derived("gpu.copy_engine.bytes_h2d", ce_sum(&hw::CopyEngine::s_bytes_h2d), "bytes copied host to device");
  s.derived("gpu.copy_engine.bytes_d2h", ce_sum(&hw::CopyEngine::s_bytes_d2h), "bytes copied device to host");
  s.derived("gpu.copy_engine.bytes_d2d", ce_sum(&hw::CopyEngine::s_bytes_d2d), "bytes copied device to device");
  s.derived("gpu.copy_engine.errors", ce_sum(&hw::CopyEngine::s_errors), "descriptors that failed or were refused");
  for (unsigned i = 0; i < gpu.copy_engines(); ++i) {
    hw::CopyEngine& ce = gpu.copy_engine(i);
    const std::string p = "gpu.copy_engine.ce" + std::to_string(i) + ".";
    s.counter(p + "copies", &ce.s_copies, "descriptors executed");
    s.value(p + "busy_ns", &ce.s_busy_ns, "time spent copying");
  }
  s.counter("gpu.bar0_reads", &gpu.s_bar0_reads, "BAR0 register reads");
  s.counter("gpu.bar0_writes", &gpu.s_bar0_writes, "BAR0 register writes");
  s.counter("gpu.bar1_bytes", &gpu.s_bar1_bytes, "bytes written or read through the VRAM aperture");

  for (auto [name, d] : {std::pair{"down", &link.down}, std::pair{"up", &link.up}}) {
    const std::string p = std::string("pcie.") + name + ".";
    s.counter(p + "tlps", &d->s_tlps, "TLPs sent in this direction");
    s.counter(p + "payload_bytes", &d->s_payload_bytes, "data bytes carried in this direction");
    s.counter(p + "wire_bytes", &d->s_wire_bytes, "bytes on the wire incl. TLP overhead");
    s.value(p + "busy_ns", &d->s_busy_ns, "time the direction was transmitting");
    s.derived(p + "utilisation", [this, d] { return sim_ns > 0 ? d->s_busy_ns / sim_ns : 0.0; },
              "busy time / simulated time");
  }

  const host::DriverStats& ds = driver.stats();
  struct D {
    const char* name;
    const uint64_t* v;
    const char* desc;
  };
  const D dstats[] = {
      {"interrupts", &ds.s_interrupts, "fault interrupts serviced (bottom-half runs)"},
      {"batches", &ds.s_batches, "fault batches fetched and serviced"},
      {"faults_fetched", &ds.s_faults_fetched, "fault-buffer entries read"},
      {"faults_duplicate", &ds.s_faults_duplicate, "entries coalesced into another of the same page"},
      {"faults_serviced", &ds.s_faults_serviced, "faulted pages made accessible"},
      {"faults_fatal", &ds.s_faults_fatal, "faults cancelled (no VMA / no permission)"},
      {"blocks", &ds.s_blocks, "2 MiB VA blocks serviced"},
      {"range_fault_retries", &ds.s_range_fault_retries, "hmm_range_fault retries after invalidation"},
      {"pages_to_vram", &ds.s_pages_to_vram, "pages migrated to VRAM"},
      {"pages_to_sysmem", &ds.s_pages_to_sysmem, "pages migrated back to system memory"},
      {"pages_mapped_remote", &ds.s_pages_mapped_remote, "PTEs pointing at system memory"},
      {"bytes_h2d", &ds.s_bytes_h2d, "page data copied host to device by migration"},
      {"bytes_d2h", &ds.s_bytes_d2h, "page data copied device to host by migration"},
      {"dma_commands", &ds.s_dma_commands, "copy-engine descriptors submitted"},
      {"tlb_invalidate_batches", &ds.s_tlb_invalidates, "TLB invalidate batches sent"},
      {"tlb_full_flushes", &ds.s_tlb_full_flushes, "batches that flushed the whole TLB"},
      {"tlb_ack_polls", &ds.s_tlb_ack_polls, "invalidate acknowledgement reads that found it still running"},
      {"ptes_unchanged", &ds.s_ptes_unchanged, "pages mirrored that were already mapped just so"},
      {"faults_already_mapped", &ds.s_faults_already_mapped, "faulted pages mapped by the time they were serviced"},
      {"evictions", &ds.s_evictions, "blocks that gave their VRAM pages back to system memory"},
      {"pages_evicted", &ds.s_pages_evicted, "VRAM pages moved back to system memory to free VRAM"},
      {"evict_no_host_memory", &ds.s_evict_no_host_memory, "pages that stayed in VRAM for want of a system page"},
      {"prefetch_blocks_resident", &ds.s_prefetch_blocks_resident, "prefetched blocks already in VRAM and mapped"},
      {"replays", &ds.s_replays, "replay commands sent"},
      {"invalidate_callbacks", &ds.s_invalidate_callbacks, "mmu-notifier callbacks received"},
      {"pages_unmapped", &ds.s_pages_unmapped, "device PTEs cleared by invalidation"},
      {"vram_alloc_failures", &ds.s_vram_alloc_failures, "pages left in system memory for lack of VRAM"},
      {"pages_prefetched", &ds.s_pages_prefetched, "pages moved to VRAM ahead of a kernel (placement: device)"},
      {"pages_faulted_in", &ds.s_pages_faulted_in, "pages moved to VRAM because they faulted"},
      {"pages_prefetcher", &ds.s_pages_prefetcher, "pages the prefetcher moved to VRAM with faulted ones"},
      {"pages_counter_migrated", &ds.s_pages_counter_migrated, "pages moved to VRAM on access-counter notifications"},
      {"throttled_stops", &ds.s_throttled_stops, "bottom halves ended by max_throttled_batches"},
      {"put_reads", &ds.s_put_reads, "fault-buffer PUT register reads"},
      {"buffer_flushes", &ds.s_buffer_flushes, "fault-buffer flushes before a replay (batch_flush)"},
      {"entries_flushed", &ds.s_entries_flushed, "pending fault entries dropped by flushes"},
      {"ac_interrupts", &ds.s_ac_interrupts, "access-counter interrupts serviced"},
      {"ac_notifications", &ds.s_ac_notifications, "access-counter notifications read"},
      {"write_upgrades", &ds.s_write_upgrades,
       "read-only pages made writable on the CPU side before migrating for a GPU write"},
      {"refault_no_evict", &ds.s_refault_no_evict,
       "chunked VRAM: pages left remote, every block with a chunk serviced in the last 2 batches"},
      {"read_dup.pages", &ds.s_dup_pages, "read-only copies of read-mostly pages made in VRAM"},
      {"read_dup.dropped", &ds.s_dup_dropped, "copies dropped (a write on either side, an unmap, an eviction)"},
      {"read_dup.evicted", &ds.s_dup_evicted, "copies dropped to free VRAM"},
      {"read_dup.refused", &ds.s_dup_refused, "read-mostly runs migrated instead (shared or hugetlb memory)"}};
  for (const D& d : dstats) s.counter(std::string("driver.") + d.name, d.v, d.desc);
  const host::ThrashingStats& ts = driver.thrashing_stats();
  s.counter("driver.thrashing.events", &ts.s_events, "page migrations counted by thrashing detection");
  s.counter("driver.thrashing.detected", &ts.s_detected, "pages found thrashing");
  s.counter("driver.faults_throttled", &ts.s_throttled, "faulted pages left unserviced by the thrashing throttle");
  s.counter("driver.thrashing.pinned", &ts.s_pinned, "pin periods started");
  s.counter("driver.faults_pinned", &ts.s_pinned_faults, "faulted pages mapped remotely because pinned by thrashing");
  const host::BatchStageStats& bs = ds.batch;
  for (size_t i = 0; i < host::kStageCount; ++i) {
    const std::string n = host::stage_name(static_cast<host::Stage>(i));
    s.value("driver.batch.stage_ns." + n, &bs.total_ns[i], "batch time in stage " + n + ", all batches");
    s.histogram("driver.batch.stage." + n, &bs.per_batch[i], "ns per batch in stage " + n);
  }
  s.histogram("driver.batch.time_ns", &bs.batch_ns, "service time per fault batch, ns");
  s.histogram("driver.batch.faults", &bs.batch_faults, "fault entries fetched per batch");
  s.histogram("driver.migration_pages", &ds.migration_pages, "pages moved to VRAM per migration");
  s.histogram("driver.batch.unique_pages", &bs.batch_unique_pages, "distinct pages per batch");
  s.counter("driver.pte_writes", &driver.page_table().s_pte_writes, "device PTEs written to VRAM");
  s.counter("driver.pde_writes", &driver.page_table().s_pde_writes, "directory entries written");
  s.counter("driver.big_pte_writes", &driver.page_table().s_big_pte_writes, "64 KiB PTEs written (set or cleared)");
  s.counter("driver.huge_pte_writes", &driver.page_table().s_huge_pte_writes, "2 MiB PTEs written");
  s.counter("driver.vram_chunks", &driver.chunks().s_chunks_allocated, "VRAM chunks taken for VA ranges");
  s.counter("driver.vram_pieces", &driver.chunks().s_pieces_allocated,
            "64 KiB pieces: for VMAs smaller than a chunk, or where no chunk could be had");
  s.counter("driver.vram_chunk_fallbacks", &driver.chunks().s_fallback_frames,
            "pages that got a lone frame instead of their chunk slot");
  s.counter("driver.page_tables", &driver.page_table().s_tables, "page-table pages allocated in VRAM");
  s.value("driver.cpu_ns", &bus.s_cpu_ns, "driver CPU time charged");
  s.value("driver.mmio_wait_ns", &bus.s_mmio_wait_ns, "driver time stalled on non-posted reads");
  s.counter("driver.mmio_reads", &bus.s_mmio_reads, "BAR0 reads issued");
  s.counter("driver.mmio_writes", &bus.s_mmio_writes, "BAR0 writes issued");

  s.counter("host.cpu_faults", &mm.s_cpu_faults, "CPU page faults handled");
  s.counter("host.zero_page_maps", &mm.s_zero_page_maps, "read faults served by the zero page");
  s.counter("host.migrate_to_ram", &mm.s_migrate_to_ram, "CPU faults on device-private pages (migrate_to_ram calls)");
  s.counter("host.notifier_invalidations", &mm.notifiers().s_invalidations, "mmu notifier events raised");
  s.counter("host.ram_allocs", &sys.phys.s_allocs, "system page allocations");
  s.counter("host.ram_alloc_failures", &sys.phys.s_alloc_failures, "allocations host RAM could not satisfy (the run stops at the first)");
  s.counter("oracle.checks", &oracle.s_checks, "GPU line loads and CPU page reads compared with the oracle");
  s.counter("oracle.checked_bytes", &oracle.s_checked_bytes, "bytes compared");
  s.counter("oracle.mismatches", &oracle.s_mismatches, "loads that returned wrong data");
  register_host_stats();
  for (const ErrorCounter& e : error_counters())
    s.counter("errors." + e.name, e.value, e.desc);
}

std::vector<Platform::Impl::ErrorCounter> Platform::Impl::error_counters() {
  std::vector<ErrorCounter> v = {
      {"gpu_decode", &gpu.s_decode_errors, "BAR accesses to no register"},
      {"vram_decode", &gpu.vram().s_decode_errors, "VRAM accesses out of range"},
      {"root_complex", &root.s_errors, "DMA to unallocated host memory or bad MSI writes"},
      {"driver_bus", &bus.s_errors, "driver register or aperture accesses that failed"}};
  for (unsigned i = 0; i < gpu.copy_engines(); ++i)
    v.push_back({i == 0 ? std::string("copy_engine") : "copy_engine" + std::to_string(i), &gpu.copy_engine(i).s_errors,
                 "copy descriptors that failed or were refused"});
  if (legacy) v.push_back({"semantic", &cpu->s_semantic_errors, "out[k] != in[k] + 1 in the CPU readback"});
  for (unsigned i = 0; i < gpu.sm_count(); ++i)
    v.push_back({"sm" + std::to_string(i) + "_access", &gpu.sm(i).c.access_errors, "warp line accesses that failed"});
  return v;
}

void Platform::Impl::register_host_stats() {
  Stats& s = stats;
  if (legacy) {
    s.counter("host.pages_written", &cpu->s_pages_written, "pages the CPU initialised");
    s.counter("host.pages_read", &cpu->s_pages_read, "pages the CPU read back");
    s.counter("host.pages_touched_during_kernel", &cpu->s_pages_touched, "CPU touches of `in` while the GPU ran");
    s.counter("host.migration_waits", &cpu->retries(), "CPU accesses that waited on a page under migration");
    return;
  }
  s.counter("host.pages_written", &prog->s_pages_written, "pages the program's steps wrote (incl. MemcpyHtoD)");
  s.counter("host.pages_read", &prog->s_pages_read, "pages the program's steps read back");
  s.counter("host.steps", &prog->s_steps, "program steps run");
  s.counter("host.kernels", &prog->s_kernels, "kernels launched and completed");
  s.counter("host.pages_prefetched", &prog->s_prefetched_pages, "pages moved to VRAM before kernels (placement device)");
  s.counter("host.migration_waits", &prog->retries(), "CPU accesses that waited on a page under migration");
  s.value("host.buffer_bytes", &footprint_bytes, "bytes of the program's buffers");
  footprint_bytes = double(program.footprint());
  for (size_t i = 0; i < prog->threads.size(); ++i) {
    ThreadCounters& t = prog->threads[i];
    const std::string p = "host.cpu_threads.t" + std::to_string(i) + ".";
    s.counter(p + "ops", &t.ops, "operations the CPU thread ran");
    s.counter(p + "pages", &t.pages, "pages it read or wrote");
    s.counter(p + "migrate_to_ram", &t.migrate_to_ram, "its accesses that found the page in VRAM (CPU faults that migrate it back)");
    s.counter(p + "device_unmaps", &t.device_unmaps, "device PTEs invalidated while its operations ran");
  }
}

}  // namespace hmmsim::sim
