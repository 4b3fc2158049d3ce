#include "sim/translation_stats.h"

#include <vector>

namespace hmmsim::sim {

namespace {

const char* const kSizeName[] = {"4k", "64k", "2m"};

// A level's counters summed over its instances (the per-SM L1s, the L1.5s).
void register_level(Stats& s, const std::string& p, std::vector<hw::TlbLevel*> levels, const std::string& what) {
  auto sum = [levels](auto field) {
    return [levels, field] {
      double n = 0;
      for (hw::TlbLevel* l : levels) n += field(*l);
      return n;
    };
  };
  s.derived(p + "hits", sum([](hw::TlbLevel& l) { return double(l.tlb->c.hits); }), what + " hits");
  s.derived(p + "misses", sum([](hw::TlbLevel& l) { return double(l.tlb->c.misses); }), what + " misses");
  s.derived(p + "evictions", sum([](hw::TlbLevel& l) { return double(l.tlb->c.evictions); }),
            what + " valid entries replaced");
  s.derived(p + "invalidated", sum([](hw::TlbLevel& l) { return double(l.tlb->c.invalidated); }),
            what + " entries dropped by invalidates");
  for (unsigned i = 0; i < hw::kPageSizes; ++i) {
    s.derived(p + "fills_" + kSizeName[i], sum([i](hw::TlbLevel& l) { return double(l.tlb->c.fills[i]); }),
              what + " entries filled, " + kSizeName[i] + " pages");
    s.derived(p + "hits_" + kSizeName[i], sum([i](hw::TlbLevel& l) { return double(l.tlb->c.hits_by_size[i]); }),
              what + " hits on " + kSizeName[i] + " pages");
  }
  s.derived(p + "mshr_merges", sum([](hw::TlbLevel& l) { return double(l.s_merges); }),
            what + " misses merged into a fill in flight");
  s.derived(p + "mshr_stalls", sum([](hw::TlbLevel& l) { return double(l.mshr.s_stalls); }),
            what + " misses that waited for a free MSHR");
  s.derived(p + "mshr_stall_ns", sum([](hw::TlbLevel& l) { return l.mshr.s_stall_ns; }),
            what + " time spent waiting for a free MSHR");
  s.derived(p + "port_wait_ns", sum([](hw::TlbLevel& l) { return l.port.s_wait_ns; }),
            what + " time lookups waited for a port");
}

}  // namespace

void register_translation_stats(Stats& s, hw::Gpu& gpu) {
  hw::Gmmu& g = gpu.gmmu();
  hw::TranslationPath& path = g.path();
  std::vector<hw::TlbLevel*> l1, l15;
  for (unsigned i = 0; i < path.utlbs(); ++i) l1.push_back(&path.l1(i));
  for (unsigned i = 0; i < path.l15_count(); ++i) l15.push_back(&path.l15(i));
  register_level(s, "gpu.tlb.l1.", l1, "L1 TLB (all SMs)");
  if (!l15.empty()) register_level(s, "gpu.tlb.l15.", l15, "L1.5 TLB (all clusters)");
  if (path.has_l2()) register_level(s, "gpu.tlb.l2.", {&path.l2()}, "L2 TLB");

  hw::PageWalker& w = path.walker();
  s.counter("gpu.gmmu.walks", &w.s_walks, "page walks");
  s.counter("gpu.gmmu.walk_reads", &w.s_reads, "VRAM reads made by walks");
  const char* const level_names[] = {"pd3", "pd2", "pd1", "pd0", "pt64", "pt"};
  for (unsigned i = 0; i < 6; ++i)
    s.counter(std::string("gpu.gmmu.walk_reads_") + level_names[i], &w.s_reads_by_level[i],
              std::string("walk reads of ") + level_names[i] + " entries");
  for (unsigned i = 0; i < hw::kPageSizes; ++i)
    s.counter(std::string("gpu.gmmu.walks_") + kSizeName[i], &w.s_walks_by_size[i],
              std::string("walks that found a ") + kSizeName[i] + " page");
  s.counter("gpu.gmmu.walk_faults", &w.s_faults, "walks that found no valid PTE");
  s.value("gpu.gmmu.walk_ns", &w.s_walk_ns, "total walk latency (from a walker slot)");
  s.value("gpu.gmmu.walk_queue_ns", &w.s_queue_ns, "total time walks waited for a walker slot");
  s.histogram("gpu.gmmu.walk_latency_ns", &w.s_walk_latency_ns, "latency of one page walk, ns (from a walker slot)");
  hw::IPageWalkCache& c = w.pwc();
  for (unsigned i = 0; i < 4; ++i)
    s.counter(std::string("gpu.gmmu.pwc.hits_") + level_names[i], &c.s_hits[i],
              std::string("walks that started below a cached ") + level_names[i] + " entry");
  s.counter("gpu.gmmu.pwc.misses", &c.s_misses, "walks with no cached directory entry");
  s.counter("gpu.gmmu.pwc.fills", &c.s_fills, "directory entries cached");
  s.counter("gpu.gmmu.pwc.evictions", &c.s_evictions, "cached directory entries replaced");
  s.counter("gpu.gmmu.pwc.invalidated", &c.s_invalidated, "cached directory entries dropped by invalidates");

  s.counter("gpu.gmmu.faults", &g.s_faults, "fault entries written to the ring");
  s.histogram("gpu.gmmu.fault_latency_ns", &g.s_fault_latency_ns,
              "fault service latency, ns: fault entry written to the replay that retries it");
  s.histogram("gpu.tlb.miss_latency_ns", &g.s_miss_latency_ns,
              "latency of a translation that missed the L1 TLB and found a valid entry, ns");
  const char* const type_names[] = {"invalid_pde", "invalid_pte", "write", "atomic"};
  for (unsigned i = 0; i < 4; ++i)
    s.counter(std::string("gpu.gmmu.faults_") + type_names[i], &g.s_faults_by_type[i],
              std::string("fault entries of type ") + type_names[i]);
  s.counter("gpu.gmmu.faults_merged", &g.s_faults_merged, "faults merged into one in flight on the same uTLB");
  s.counter("gpu.gmmu.faults_dropped", &g.s_faults_dropped, "faults dropped (ring full / uTLB limit)");
  s.counter("gpu.gmmu.faults_reraised", &g.s_faults_reraised, "dropped faults written after a later replay");
  s.counter("gpu.gmmu.cancels", &g.s_fatal, "fatal faults cancelled by the driver");
  s.counter("gpu.gmmu.replays", &g.s_replays, "replay commands");
  s.counter("gpu.gmmu.replays_targeted", &g.s_replays_targeted, "replay commands for one uTLB");
  s.counter("gpu.gmmu.msis", &g.s_msis, "fault interrupts sent");
  s.counter("gpu.gmmu.tlb_invalidates", &g.s_invalidates, "TLB invalidate commands");
  s.counter("gpu.gmmu.tlb_invalidates_full", &g.s_invalidates_full, "TLB invalidate commands for everything");
}

}  // namespace hmmsim::sim
