// driver: the fault pipeline's limits, its CPU costs, the copy engines it
// uses, and one block per policy family, each with `impl:` naming a
// registered implementation and the keys of that family's Spec.
#include "sim/config_parts.h"

namespace hmmsim::sim {

namespace {

void parse_policies(ConfigReader& r, host::DriverSpec& s, uint64_t seed) {
  {
    ConfigReader p = r.child("placement");
    s.placement.impl = p.impl("impl", s.placement.impl, host::placement_registry().names());
    s.placement.counter_threshold =
        static_cast<uint32_t>(p.u64("counter_threshold", s.placement.counter_threshold, 1, 65535));
    s.placement.counter_granularity =
        p.bytes("counter_granularity", s.placement.counter_granularity, 64ull << 10, 2ull << 20);
    const uint64_t g = s.placement.counter_granularity;
    if (g & (g - 1)) p.fail("counter_granularity", "must be a power of two from 64KiB to 2MiB");
    p.finish();
  }
  {
    ConfigReader p = r.child("prefetch");
    s.prefetch.impl = p.impl("impl", s.prefetch.impl, host::prefetch_registry().names());
    s.prefetch.threshold = p.real("threshold", s.prefetch.threshold, 0, 1);
    p.finish();
  }
  {
    ConfigReader e = r.child("eviction");
    s.eviction.impl = e.impl("impl", s.eviction.impl, host::eviction_registry().names());
    s.eviction.threshold = e.real("threshold", s.eviction.threshold, 0, 1);
    s.eviction.seed = seed;
    e.finish();
  }
  {
    ConfigReader t = r.child("thrashing");
    host::ThrashingSpec& h = s.thrashing;
    h.impl = t.impl("impl", h.impl, host::thrashing_registry().names());
    h.threshold = static_cast<uint32_t>(t.u64("threshold", h.threshold, 1, 1000));
    h.lapse_ns = t.time_ns("lapse", h.lapse_ns, 1, 1e12);
    h.nap_ns = t.time_ns("nap", h.nap_ns, 1, 1e12);
    h.pin_threshold = static_cast<uint32_t>(t.u64("pin_threshold", h.pin_threshold, 0, 1000));
    h.pin_ns = t.time_ns("pin", h.pin_ns, 1, 1e13);
    h.epoch_ns = t.time_ns("epoch", h.epoch_ns, 1, 1e13);
    if (h.epoch_ns < h.lapse_ns) t.fail("epoch", "must be at least the lapse");
    t.finish();
  }
  {
    ConfigReader p = r.child("replay");
    s.replay.impl = p.impl("impl", s.replay.impl, host::replay_registry().names());
    s.replay.update_put_ratio = p.real("update_put_ratio", s.replay.update_put_ratio, 0, 1);
    p.finish();
  }
}

}  // namespace

void parse_driver(ConfigReader r, host::DriverSpec& s, uint64_t seed) {
  s.fault_buffer_entries = static_cast<uint32_t>(r.u64("fault_buffer_entries", s.fault_buffer_entries, 2, 1 << 20));
  s.batch_count = static_cast<uint32_t>(r.u64("batch_count", s.batch_count, 1, 1 << 20));
  s.max_batches = static_cast<uint32_t>(r.u64("max_batches", s.max_batches, 1, 1 << 20));
  s.max_throttled_batches =
      static_cast<uint32_t>(r.u64("max_throttled_batches", s.max_throttled_batches, 1, 1 << 20));
  s.tlb_inv_max_ranges = static_cast<uint32_t>(r.u64("tlb_inv_max_ranges", s.tlb_inv_max_ranges, 0, 1024));
  s.vram_chunk_bytes = r.bytes("vram_chunk", s.vram_chunk_bytes, 4096, 2ull << 20);
  if (s.vram_chunk_bytes != 4096 && s.vram_chunk_bytes != (64ull << 10) && s.vram_chunk_bytes != (2ull << 20))
    r.fail("vram_chunk", "must be 4KiB, 64KiB or 2MiB (a page size of the device page table)");
  s.sysmem_atomics = r.boolean("sysmem_atomics", s.sysmem_atomics);
  parse_policies(r, s, seed);
  {
    ConfigReader c = r.child("copy");
    s.copy.engines = static_cast<uint32_t>(c.u64("engines", s.copy.engines, 0, 16));
    const std::string done = c.choice(
        "completion", s.copy.completion == host::CopyCompletion::Interrupt ? "interrupt" : "semaphore",
        {"interrupt", "semaphore"});
    s.copy.completion = done == "interrupt" ? host::CopyCompletion::Interrupt : host::CopyCompletion::Semaphore;
    s.copy.max_in_flight = static_cast<uint32_t>(c.u64("max_in_flight", s.copy.max_in_flight, 1, 4096));
    s.copy.poll_ns = c.time_ns("poll", s.copy.poll_ns, 1, 1e6);
    c.finish();
  }
  ConfigReader c = r.child("costs");
  s.costs.isr_ns = c.time_ns("isr", s.costs.isr_ns, 0, 1e9);
  s.costs.batch_fixed_ns = c.time_ns("batch_fixed", s.costs.batch_fixed_ns, 0, 1e9);
  s.costs.per_fault_ns = c.time_ns("per_fault", s.costs.per_fault_ns, 0, 1e9);
  s.costs.per_block_ns = c.time_ns("per_block", s.costs.per_block_ns, 0, 1e9);
  s.costs.per_page_ns = c.time_ns("per_page", s.costs.per_page_ns, 0, 1e9);
  s.costs.per_pte_ns = c.time_ns("per_pte", s.costs.per_pte_ns, 0, 1e9);
  s.costs.migrate_to_ram_ns = c.time_ns("migrate_to_ram", s.costs.migrate_to_ram_ns, 0, 1e9);
  c.finish();
  r.finish();
}

}  // namespace hmmsim::sim
