// gpu: SMs, translation hardware, VRAM, copy engines.
#include "sim/config_parts.h"

#include "hw/tlb/tlb_replacement.h"

namespace hmmsim::sim {

namespace {

// One TLB level. Optional levels (L1.5, L2) have `enabled`; the L1.5 also
// `cluster`, the number of SMs sharing one.
void parse_tlb_level(ConfigReader t, hw::TlbSpec& s, bool always, bool* enabled, uint32_t* cluster = nullptr) {
  if (!always) *enabled = t.boolean("enabled", *enabled);
  if (cluster) *cluster = static_cast<uint32_t>(t.u64("cluster", *cluster, 1, 1024));
  s.impl = t.impl("impl", s.impl, hw::tlb_registry().names());
  s.replacement = t.impl("replacement", s.replacement, hw::tlb_replacement_registry().names());
  s.entries = static_cast<uint32_t>(t.u64("entries", s.entries, 1, 1 << 20));
  s.ways = static_cast<uint32_t>(t.u64("ways", s.ways, 0, 1 << 20));
  s.hit_cycles = static_cast<uint32_t>(t.u64("hit_cycles", s.hit_cycles, 0, 1000));
  s.lookups_per_cycle = static_cast<uint32_t>(t.u64("lookups_per_cycle", s.lookups_per_cycle, 1, 64));
  s.mshrs = static_cast<uint32_t>(t.u64("mshrs", s.mshrs, 1, 4096));
  s.entries_64k = static_cast<uint32_t>(t.u64("entries_64k", s.entries_64k, 1, 1 << 16));
  s.entries_2m = static_cast<uint32_t>(t.u64("entries_2m", s.entries_2m, 1, 1 << 16));
  t.check(s.validate());
  t.finish();
}

}  // namespace

void parse_gpu(ConfigReader r, hw::GpuSpec& s) {
  s.sms = static_cast<unsigned>(r.u64("sms", s.sms, 1, 1024));
  const double clk = r.real("clock_mhz", s.sm.clock_mhz, 1, 1e5);
  s.sm.clock_mhz = clk;
  s.gmmu.clock_mhz = clk;
  {
    ConfigReader m = r.child("sm");
    s.sm.issue_cycles = static_cast<uint32_t>(m.u64("issue_cycles", s.sm.issue_cycles, 1, 1000));
    s.sm.compute_cycles = static_cast<uint32_t>(m.u64("compute_cycles", s.sm.compute_cycles, 1, 100000));
    s.sm.shared_cycles = static_cast<uint32_t>(m.u64("shared_cycles", s.sm.shared_cycles, 1, 100000));
    s.sm.max_ctas = static_cast<uint32_t>(m.u64("max_ctas", s.sm.max_ctas, 1, 1024));
    s.sm.max_warps = static_cast<uint32_t>(m.u64("max_warps", s.sm.max_warps, 1, 1024));
    m.finish();
  }
  {
    ConfigReader t = r.child("tlb");
    parse_tlb_level(t.child("l1"), s.tlb.l1, true, nullptr);
    if (uint64_t(s.tlb.l1.entries) * s.sms > (8ull << 20))
      t.child("l1").fail("entries", "gpu.sms x gpu.tlb.l1.entries exceeds 8M TLB entries in all");
    parse_tlb_level(t.child("l15"), s.tlb.l15, false, &s.tlb.l15_enabled, &s.tlb.l15_cluster);
    parse_tlb_level(t.child("l2"), s.tlb.l2, false, &s.tlb.l2_enabled);
    t.finish();
  }
  {
    ConfigReader g = r.child("gmmu");
    s.gmmu.walker.walkers = static_cast<uint32_t>(g.u64("walkers", s.gmmu.walker.walkers, 1, 1024));
    s.gmmu.walker.level_cycles =
        static_cast<uint32_t>(g.u64("walk_level_cycles", s.gmmu.walker.level_cycles, 0, 100000));
    s.gmmu.max_faults_per_utlb =
        static_cast<uint32_t>(g.u64("max_faults_per_utlb", s.gmmu.max_faults_per_utlb, 1, 1 << 16));
    s.gmmu.replay_latency_ns = g.time_ns("replay_latency", s.gmmu.replay_latency_ns, 0, 1e6);
    s.gmmu.invalidate_ns = g.time_ns("invalidate_latency", s.gmmu.invalidate_ns, 0, 1e6);
    {
      ConfigReader p = g.child("pwc");
      hw::PwcSpec& w = s.gmmu.walker.pwc;
      w.impl = p.impl("impl", w.impl, hw::pwc_registry().names());
      if (w.impl == "unified" && !p.has("entries")) w.entries = {64};
      w.entries = p.u64_list("entries", w.entries);
      w.hit_cycles = static_cast<uint32_t>(p.u64("hit_cycles", w.hit_cycles, 0, 1000));
      p.check(w.validate());
      p.finish();
    }
    g.check(s.gmmu.validate());
    g.finish();
  }
  parse_vram(r.child("vram"), s.vram);
  {
    ConfigReader c = r.child("l2_cache");
    hw::L2CacheSpec& l = s.l2;
    l.enabled = c.boolean("enabled", l.enabled);
    l.size_bytes = c.bytes("size", l.size_bytes, 4096, 1ull << 30);
    l.ways = static_cast<uint32_t>(c.u64("ways", l.ways, 1, 1024));
    l.line_bytes = static_cast<uint32_t>(c.bytes("line", l.line_bytes, 32, 4096));
    l.sector_bytes = static_cast<uint32_t>(c.bytes("sector", l.sector_bytes, 4, 4096));
    l.hit_cycles = static_cast<uint32_t>(c.u64("hit_cycles", l.hit_cycles, 0, 10000));
    l.clock_mhz = clk;
    c.check(l.validate());
    c.finish();
  }
  {
    ConfigReader a = r.child("access_counters");
    hw::AccessCounterSpec& c = s.counters;
    c.granularity_bytes = a.bytes("granularity", c.granularity_bytes, 64 << 10, 2 << 20);
    c.threshold = static_cast<uint32_t>(a.u64("threshold", c.threshold, 1, 65535));
    a.check(c.validate());
    a.finish();
  }
  {
    ConfigReader c = r.child("copy_engine");
    s.copy_engines = static_cast<unsigned>(c.u64("engines", s.copy_engines, 1, hwref::bar0::kCeMaxEngines));
    s.ce.queue_depth = static_cast<uint32_t>(c.u64("queue_depth", s.ce.queue_depth, 1, 4096));
    s.ce.setup_ns = c.time_ns("setup", s.ce.setup_ns, 0, 1e6);
    s.ce.chunk_bytes = static_cast<uint32_t>(c.bytes("chunk", s.ce.chunk_bytes, 64, 1 << 24));
    c.finish();
  }
  s.bar0_access_ns = r.time_ns("bar0_access", s.bar0_access_ns, 0, 1e5);
  r.finish();
}

}  // namespace hmmsim::sim
