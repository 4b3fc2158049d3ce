// gpu: SMs, translation hardware, VRAM, copy engines.
#include "sim/config_parts.h"

namespace hmmsim::sim {

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
    ConfigReader t = r.child("l1_tlb");
    s.l1_tlb.entries = static_cast<uint32_t>(t.u64("entries", s.l1_tlb.entries, 1, 1 << 20));
    s.l1_tlb.ways = static_cast<uint32_t>(t.u64("ways", s.l1_tlb.ways, 1, 1 << 20));
    if (s.l1_tlb.entries % s.l1_tlb.ways) t.fail("ways", "entries must be a multiple of ways");
    if (uint64_t(s.l1_tlb.entries) * s.sms > (8ull << 20))
      t.fail("entries", "gpu.sms x gpu.l1_tlb.entries exceeds 8M TLB entries in all");
    s.l1_tlb.hit_cycles = static_cast<uint32_t>(t.u64("hit_cycles", s.l1_tlb.hit_cycles, 0, 1000));
    t.finish();
  }
  {
    ConfigReader g = r.child("gmmu");
    s.gmmu.walkers = static_cast<uint32_t>(g.u64("walkers", s.gmmu.walkers, 1, 1024));
    s.gmmu.walk_level_cycles = static_cast<uint32_t>(g.u64("walk_level_cycles", s.gmmu.walk_level_cycles, 0, 100000));
    s.gmmu.max_faults_per_utlb =
        static_cast<uint32_t>(g.u64("max_faults_per_utlb", s.gmmu.max_faults_per_utlb, 1, 1 << 16));
    s.gmmu.replay_latency_ns = g.time_ns("replay_latency", s.gmmu.replay_latency_ns, 0, 1e6);
    g.finish();
  }
  parse_vram(r.child("vram"), s.vram);
  {
    ConfigReader c = r.child("copy_engine");
    s.ce.setup_ns = c.time_ns("setup", s.ce.setup_ns, 0, 1e6);
    s.ce.chunk_bytes = static_cast<uint32_t>(c.bytes("chunk", s.ce.chunk_bytes, 64, 1 << 24));
    c.finish();
  }
  s.bar0_access_ns = r.time_ns("bar0_access", s.bar0_access_ns, 0, 1e5);
  r.finish();
}

}  // namespace hmmsim::sim
