// TranslationPath (hw/gmmu/translation_path.h): L1 per uTLB -> L1.5 per
// cluster -> L2 -> walker, over an in-memory page table. Exact levels,
// latencies, MSHR merges and stalls, invalidation. Plain C++.
#include <gtest/gtest.h>

#include <string>

#include "fake_table_memory.h"
#include "hw/gmmu/translation_path.h"
#include "hwref/page_table_format.h"

using namespace hmmsim::hw;
using hmmsim::hwtest::FakeTableMemory;
using hmmsim::hwtest::PageTableWriter;
namespace pt = hmmsim::hwref::pt;
using hmmsim::hwref::FaultType;

namespace {

// 1 ns cycle. L1 hit 1 cycle, L1.5 4, L2 8. Walker: probe 2 cycles, then
// 20 cycles + 10 ns per read: a cold 4 KiB walk is 152 ns, a walk whose
// PD0 entry is cached 32 ns.
constexpr double kCold4K = 152, kWarm = 32;
constexpr uint64_t kA = 1ull << 46;        // a 2 MiB range
constexpr uint64_t kM2 = 1ull << 21;
constexpr uint64_t kX = kA + (1ull << 47);  // another PD3 entry

TlbSpec level(uint32_t entries, uint32_t ways, uint32_t hit, uint32_t lookups, uint32_t mshrs) {
  TlbSpec s;
  s.entries = entries;
  s.ways = ways;
  s.hit_cycles = hit;
  s.lookups_per_cycle = lookups;
  s.mshrs = mshrs;
  return s;
}

TlbHierarchySpec hier(bool l15, bool l2) {
  TlbHierarchySpec h;
  h.l1 = level(16, 0, 1, 4, 4);
  h.l15_enabled = l15;
  h.l15_cluster = 2;
  h.l15 = level(32, 0, 4, 2, 8);
  h.l2_enabled = l2;
  h.l2 = level(64, 4, 8, 2, 8);
  return h;
}

WalkerSpec walker_spec() {
  WalkerSpec w;
  w.walkers = 8;
  w.level_cycles = 20;
  w.pwc.hit_cycles = 2;
  return w;
}

struct Rig {
  Rig(const TlbHierarchySpec& h, unsigned utlbs) : mem(10.0), w(mem), path(h, walker_spec(), utlbs, 1.0, mem) {
    path.walker().set_root(w.root());
  }
  XlateResult tr(unsigned utlb, uint64_t va, double t, Access a = Access::Read) {
    return path.translate(utlb, va, a, t);
  }
  FakeTableMemory mem;
  PageTableWriter w;
  TranslationPath path;
};

}  // namespace

TEST(TranslationPath, MissesFillEveryLevelAndLaterHitsStopEarly) {
  Rig r(hier(false, true), 2);
  r.w.map_4k(kA, 0x7000);
  r.w.map_4k(kA + 0x1000, 0x8000);

  XlateResult x = r.tr(0, kA + 0x10, 0);
  ASSERT_TRUE(x.valid);
  EXPECT_EQ(x.level, XlateLevel::Walk);
  EXPECT_EQ(x.t.pa, 0x7000u);
  EXPECT_EQ(x.done, 1 + 8 + kCold4K);  // 161
  EXPECT_EQ(r.path.l1(0).tlb->c.misses, 1u);
  EXPECT_EQ(r.path.l2().tlb->c.misses, 1u);
  EXPECT_EQ(r.path.l1(0).tlb->valid_entries(), 1u);
  EXPECT_EQ(r.path.l2().tlb->valid_entries(), 1u);

  x = r.tr(0, kA + 0x20, 200);
  EXPECT_EQ(x.level, XlateLevel::L1);
  EXPECT_EQ(x.done, 201.0);
  EXPECT_EQ(x.t.pa, 0x7000u);

  // Another uTLB: L1 miss, L2 hit, and its L1 is filled.
  x = r.tr(1, kA, 300);
  EXPECT_EQ(x.level, XlateLevel::L2);
  EXPECT_EQ(x.done, 309.0);
  EXPECT_EQ(r.path.l1(1).tlb->c.fills[0], 1u);
  x = r.tr(1, kA, 400);
  EXPECT_EQ(x.level, XlateLevel::L1);
  EXPECT_EQ(x.done, 401.0);

  // Another page of the same 2 MiB: walk with PD0 cached.
  x = r.tr(0, kA + 0x1000, 500);
  EXPECT_EQ(x.level, XlateLevel::Walk);
  EXPECT_EQ(x.t.pa, 0x8000u);
  EXPECT_EQ(x.done, 500 + 1 + 8 + kWarm);

  EXPECT_EQ(r.path.l1(0).tlb->c.hits, 1u);
  EXPECT_EQ(r.path.l1(0).tlb->c.misses, 2u);
  EXPECT_EQ(r.path.l1(1).tlb->c.hits, 1u);
  EXPECT_EQ(r.path.l1(1).tlb->c.misses, 1u);
  EXPECT_EQ(r.path.l2().tlb->c.hits, 1u);
  EXPECT_EQ(r.path.l2().tlb->c.misses, 2u);
  EXPECT_EQ(r.path.l1(0).mshr.s_allocations, 2u);
  EXPECT_EQ(r.path.l2().mshr.s_allocations, 2u);
  EXPECT_EQ(r.path.walker().s_walks, 2u);
}

TEST(TranslationPath, WithoutL2TheL1MissGoesStraightToTheWalker) {
  Rig r(hier(false, false), 1);
  r.w.map_4k(kA, 0x7000);
  EXPECT_FALSE(r.path.has_l2());
  EXPECT_EQ(r.path.l15_count(), 0u);
  XlateResult x = r.tr(0, kA, 0);
  EXPECT_EQ(x.level, XlateLevel::Walk);
  EXPECT_EQ(x.done, 1 + kCold4K);
}

TEST(TranslationPath, L15IsSharedByTheUtlbsOfOneCluster) {
  Rig r(hier(true, true), 3);  // clusters {0, 1} and {2}
  ASSERT_EQ(r.path.l15_count(), 2u);
  r.w.map_4k(kA, 0x7000);

  XlateResult x = r.tr(0, kA, 0);
  EXPECT_EQ(x.level, XlateLevel::Walk);
  EXPECT_EQ(x.done, 1 + 4 + 8 + kCold4K);
  x = r.tr(1, kA, 1000);
  EXPECT_EQ(x.level, XlateLevel::L15);
  EXPECT_EQ(x.done, 1000 + 1 + 4.0);
  x = r.tr(2, kA, 2000);
  EXPECT_EQ(x.level, XlateLevel::L2);
  EXPECT_EQ(x.done, 2000 + 1 + 4 + 8.0);
  x = r.tr(2, kA, 3000);
  EXPECT_EQ(x.level, XlateLevel::L1);
  EXPECT_EQ(x.done, 3001.0);

  EXPECT_EQ(r.path.l15(0).tlb->c.misses, 1u);
  EXPECT_EQ(r.path.l15(0).tlb->c.hits, 1u);
  EXPECT_EQ(r.path.l15(1).tlb->c.misses, 1u);
  EXPECT_EQ(r.path.l15(1).tlb->c.hits, 0u);
  EXPECT_EQ(r.path.l15(1).tlb->c.fills[0], 1u);  // filled by the L2 hit
  EXPECT_EQ(r.path.l2().tlb->c.hits, 1u);
  EXPECT_EQ(r.path.walker().s_walks, 1u);
}

TEST(TranslationPath, L15WithoutL2) {
  Rig r(hier(true, false), 2);
  r.w.map_4k(kA, 0x7000);
  EXPECT_EQ(r.tr(0, kA, 0).done, 1 + 4 + kCold4K);
  XlateResult x = r.tr(1, kA, 1000);
  EXPECT_EQ(x.level, XlateLevel::L15);
  EXPECT_EQ(x.done, 1005.0);
}

TEST(TranslationPath, SharedLevelPortsQueueLookupsOfTheSameCycle) {
  TlbHierarchySpec h = hier(false, true);
  h.l1.hit_cycles = 2;
  h.l2.lookups_per_cycle = 1;
  Rig r(h, 4);
  r.w.map_4k(kA, 0x7000);
  EXPECT_EQ(r.tr(0, kA, 0).done, 2 + 8 + kCold4K);
  // Three uTLBs miss their L1 in the same cycle: one L2 lookup per cycle.
  EXPECT_EQ(r.tr(1, kA, 1000).done, 1010.0);
  EXPECT_EQ(r.tr(2, kA, 1000).done, 1011.0);
  EXPECT_EQ(r.tr(3, kA, 1000).done, 1012.0);
  EXPECT_EQ(r.path.l2().port.s_wait_ns, 3.0);
  // The private L1 has no port of its own here (the SM models it).
  EXPECT_EQ(r.tr(1, kA, 2000).done, 2002.0);
  EXPECT_EQ(r.tr(1, kA, 2000).done, 2002.0);
  EXPECT_EQ(r.tr(1, kA, 2000).done, 2002.0);
}

TEST(TranslationPath, TwoUtlbsMissingOnePageTogetherShareOneWalk) {
  Rig r(hier(false, true), 2);
  r.w.map_4k(kA, 0x7000);
  XlateResult a = r.tr(0, kA, 0);
  XlateResult b = r.tr(1, kA + 0x800, 0);
  EXPECT_EQ(a.level, XlateLevel::Walk);
  EXPECT_EQ(a.done, 161.0);
  // uTLB 1 reaches L2 at 9 ns: the entry is there but its fill is still on
  // its way, so it merges and finishes with the walk.
  ASSERT_TRUE(b.valid);
  EXPECT_EQ(b.level, XlateLevel::L2);
  EXPECT_EQ(b.done, 161.0);
  EXPECT_EQ(b.t.pa, 0x7000u);
  EXPECT_EQ(r.path.l2().s_merges, 1u);
  EXPECT_EQ(r.path.walker().s_walks, 1u);
  EXPECT_EQ(r.path.l1(1).tlb->valid_entries(), 1u);
  // After the fill is ready, no more merging.
  EXPECT_EQ(r.tr(1, kA, 161).done, 162.0);
  EXPECT_EQ(r.path.l1(1).s_merges, 0u);
}

TEST(TranslationPath, MissToAnother4KiBPageOfAPendingHugePageMerges) {
  Rig r(hier(false, true), 2);
  r.w.map_2m(kA, 0x40000000);
  XlateResult a = r.tr(0, kA + 0x1000, 0);
  EXPECT_EQ(a.done, 1 + 8 + 2 + 4 * 30.0);  // 131
  EXPECT_EQ(a.t.shift, 21u);
  XlateResult b = r.tr(1, kA + 0x1F5000, 0);
  EXPECT_EQ(b.level, XlateLevel::L2);
  EXPECT_EQ(b.done, 131.0);
  EXPECT_EQ(b.t.pa_of(kA + 0x1F5000), 0x401F5000u);
  // The same uTLB, another page of the huge page: its own L1 merges.
  XlateResult c = r.tr(0, kA + 0x100000, 50);
  EXPECT_EQ(c.level, XlateLevel::L1);
  EXPECT_EQ(c.done, 131.0);
  EXPECT_EQ(r.path.l1(0).s_merges, 1u);
  EXPECT_EQ(r.path.l2().s_merges, 1u);
  EXPECT_EQ(r.path.walker().s_walks, 1u);
}

TEST(TranslationPath, SameUtlbSamePageMergesAtL1) {
  Rig r(hier(false, true), 1);
  r.w.map_4k(kA, 0x7000);
  EXPECT_EQ(r.tr(0, kA, 0).done, 161.0);
  XlateResult b = r.tr(0, kA + 8, 0);
  EXPECT_EQ(b.level, XlateLevel::L1);
  EXPECT_EQ(b.done, 161.0);
  EXPECT_EQ(r.path.l1(0).s_merges, 1u);
  EXPECT_EQ(r.path.l1(0).mshr.s_allocations, 1u);
}

TEST(TranslationPath, FullL1MshrsStallTheNextMiss) {
  for (uint32_t mshrs : {1u, 2u}) {
    TlbHierarchySpec h = hier(false, true);
    h.l1.mshrs = mshrs;
    Rig r(h, 1);
    r.w.map_4k(kA, 0x7000);
    r.w.map_4k(kX, 0x9000);  // another PD3 entry: both walks are cold
    EXPECT_EQ(r.tr(0, kA, 0).done, 161.0);
    XlateResult b = r.tr(0, kX, 0);
    EXPECT_EQ(b.level, XlateLevel::Walk);
    if (mshrs == 1) {
      // Waits at L1 (from 1 ns) until the first miss's fill at 161.
      EXPECT_EQ(b.done, 161 + 8 + kCold4K);
      EXPECT_EQ(r.path.l1(0).mshr.s_stalls, 1u);
      EXPECT_EQ(r.path.l1(0).mshr.s_stall_ns, 160.0);
    } else {
      EXPECT_EQ(b.done, 161.0);
      EXPECT_EQ(r.path.l1(0).mshr.s_stalls, 0u);
    }
    EXPECT_EQ(r.path.l2().mshr.s_stalls, 0u);
  }
}

TEST(TranslationPath, FaultIsNotCachedAndAConcurrentMissWaitsThenWalksAgain) {
  Rig r(hier(false, true), 2);
  r.w.map_4k(kA + 0x1000, 0x7000);  // kA's PTE stays invalid
  XlateResult a = r.tr(0, kA, 0);
  EXPECT_FALSE(a.valid);
  EXPECT_EQ(a.fault, FaultType::InvalidPte);
  EXPECT_EQ(a.level, XlateLevel::Walk);
  EXPECT_EQ(a.done, 161.0);
  EXPECT_EQ(r.path.l1(0).tlb->valid_entries(), 0u);
  EXPECT_EQ(r.path.l2().tlb->valid_entries(), 0u);
  // uTLB 1 misses L2 at 9 ns while that walk is in flight: it waits for it
  // (161), then walks itself (PD0 cached: one read).
  XlateResult b = r.tr(1, kA, 0);
  EXPECT_FALSE(b.valid);
  EXPECT_EQ(b.fault, FaultType::InvalidPte);
  EXPECT_EQ(b.done, 161 + kWarm);
  EXPECT_EQ(r.path.l2().s_merges, 1u);
  EXPECT_EQ(r.path.walker().s_walks, 2u);

  // A missing PD0 entry (both halves empty) faults InvalidPde.
  r.w.clear(pt::kPd0, kA + kM2);
  EXPECT_EQ(r.tr(0, kA + kM2, 1000).fault, FaultType::InvalidPde);
}

TEST(TranslationPath, InvalidateOf4KiBDropsAHugePageAtEveryLevel) {
  Rig r(hier(true, true), 2);
  r.w.map_2m(kA, 0x40000000);
  EXPECT_EQ(r.tr(0, kA + 0x1000, 0).level, XlateLevel::Walk);
  EXPECT_EQ(r.tr(1, kA + 0x2000, 1000).level, XlateLevel::L15);
  for (unsigned i = 0; i < 2; ++i) ASSERT_EQ(r.path.l1(i).tlb->valid_entries(), 1u);
  ASSERT_EQ(r.path.l15(0).tlb->valid_entries(), 1u);
  ASSERT_EQ(r.path.l2().tlb->valid_entries(), 1u);

  r.path.invalidate(kA - 0x1000, 0x1000, false);  // next to it: nothing
  r.path.invalidate(kA + kM2, 0x1000, true);
  EXPECT_EQ(r.path.l2().tlb->valid_entries(), 1u);
  EXPECT_EQ(r.path.l1(0).tlb->c.invalidated, 0u);
  EXPECT_EQ(r.path.walker().pwc().s_invalidated, 3u);  // PD3, PD2, PD1 cover kA + 2 MiB

  // Refill the walk cache's directories with a walk next door (8 MiB on),
  // then drop one 4 KiB page of the huge page.
  r.w.map_4k(kA + 4 * kM2, 0x9000);
  EXPECT_EQ(r.tr(0, kA + 4 * kM2, 1500).level, XlateLevel::Walk);
  r.path.invalidate(kA + 0x5000, 0x1000, false);
  for (unsigned i = 0; i < 2; ++i) {
    EXPECT_EQ(r.path.l1(i).tlb->c.invalidated, 1u) << i;
    EXPECT_FALSE(r.path.l1(i).tlb->lookup(kA + 0x1FF000)) << i;
  }
  EXPECT_EQ(r.path.l1(0).tlb->valid_entries(), 1u);  // the page at 8 MiB stays
  EXPECT_EQ(r.path.l1(1).tlb->valid_entries(), 0u);
  EXPECT_EQ(r.path.l15(0).tlb->c.invalidated, 1u);
  EXPECT_EQ(r.path.l15(0).tlb->valid_entries(), 1u);
  EXPECT_FALSE(r.path.l15(0).tlb->lookup(kA));
  EXPECT_EQ(r.path.l2().tlb->c.invalidated, 1u);
  EXPECT_EQ(r.path.l2().tlb->valid_entries(), 1u);
  EXPECT_FALSE(r.path.l2().tlb->lookup(kA));

  // The walk cache kept its directories: only PD0 (the 2 MiB leaf) is read.
  const uint64_t reads = r.path.walker().s_reads;
  XlateResult x = r.tr(0, kA, 2000);
  EXPECT_EQ(x.level, XlateLevel::Walk);
  EXPECT_EQ(r.path.walker().s_reads - reads, 1u);
  EXPECT_EQ(x.done, 2000 + 1 + 4 + 8 + 2 + 30.0);

  // directories = true drops the walk-cache entries covering the range too.
  r.path.invalidate(kA + 0x5000, 0x1000, true);
  EXPECT_EQ(r.path.l2().tlb->c.invalidated, 2u);
  EXPECT_EQ(r.path.walker().pwc().s_invalidated, 3u + 3u);  // not the PD0 entry at 8 MiB
  x = r.tr(0, kA, 3000);
  EXPECT_EQ(x.level, XlateLevel::Walk);
  EXPECT_EQ(r.path.walker().s_reads - reads, 1u + 4u);
  EXPECT_EQ(x.done, 3000 + 1 + 4 + 8 + 2 + 4 * 30.0);

  // A full invalidate (bytes = 0) empties every level.
  r.path.invalidate(0, 0, true);
  EXPECT_EQ(r.path.l1(0).tlb->valid_entries(), 0u);
  EXPECT_EQ(r.path.l2().tlb->valid_entries(), 0u);
  EXPECT_EQ(r.tr(0, kA, 4000).done, 4000 + 1 + 4 + 8 + 2 + 4 * 30.0);
}

// A cached entry without the permission asked for is dropped at that level
// and the lookup continues below it (the PTE may have been upgraded since);
// the walk's answer refills every level and the caller checks permissions.
TEST(TranslationPath, ReadOnlyEntryAskedForAWriteLooksFurtherDown) {
  Rig r(hier(false, true), 1);
  r.w.map_4k(kA, 0x7000, pt::Aperture::Vram, /*writable=*/false);
  XlateResult x = r.tr(0, kA, 0, Access::Read);
  ASSERT_TRUE(x.valid);
  EXPECT_FALSE(x.t.writable);

  x = r.tr(0, kA, 1000, Access::Write);
  ASSERT_TRUE(x.valid);  // the PTE is valid, still read-only: the Gmmu faults
  EXPECT_FALSE(x.t.writable);
  EXPECT_EQ(x.level, XlateLevel::Walk);  // L1 and L2 both looked past
  EXPECT_EQ(x.done, 1000 + 1 + 8 + kWarm);
  EXPECT_EQ(r.path.l1(0).tlb->c.hits, 1u);  // the lookup itself hit
  EXPECT_EQ(r.path.l1(0).tlb->c.invalidated, 1u);
  EXPECT_EQ(r.path.l2().tlb->c.hits, 1u);
  EXPECT_EQ(r.path.l2().tlb->c.invalidated, 1u);
  EXPECT_EQ(r.path.l1(0).tlb->valid_entries(), 1u);  // refilled by the walk
  EXPECT_EQ(r.path.l1(0).tlb->c.fills[0], 2u);
  EXPECT_EQ(r.path.walker().s_walks, 2u);

  // Reads still hit the read-only entry at L1.
  x = r.tr(0, kA, 2000, Access::Read);
  EXPECT_EQ(x.level, XlateLevel::L1);

  // The driver upgrades the PTE (no invalidate): the next write finds it.
  r.w.map_4k(kA, 0x7000, pt::Aperture::Vram, /*writable=*/true);
  x = r.tr(0, kA, 3000, Access::Write);
  EXPECT_EQ(x.level, XlateLevel::Walk);
  EXPECT_TRUE(x.t.writable);
  x = r.tr(0, kA, 4000, Access::Write);
  EXPECT_EQ(x.level, XlateLevel::L1);
  EXPECT_EQ(x.done, 4001.0);
  EXPECT_EQ(r.path.walker().s_walks, 3u);
}

TEST(TranslationPath, AtomicOnAnAtomicDisabledPageWalksEachTime) {
  Rig r(hier(false, true), 1);
  r.w.map_4k(kA, 0x7000, pt::Aperture::Vram, true, /*atomic=*/false);
  EXPECT_TRUE(r.tr(0, kA, 0, Access::Write).valid);
  XlateResult x = r.tr(0, kA, 1000, Access::Atomic);
  EXPECT_EQ(x.level, XlateLevel::Walk);
  EXPECT_FALSE(x.t.permits(Access::Atomic));
  x = r.tr(0, kA, 2000, Access::Atomic);
  EXPECT_EQ(x.level, XlateLevel::Walk);
  EXPECT_EQ(r.tr(0, kA, 3000, Access::Write).level, XlateLevel::L1);
  EXPECT_EQ(r.path.walker().s_walks, 3u);
}

TEST(TranslationPath, SpecValidationNamesTheLevel) {
  EXPECT_FALSE(TlbHierarchySpec{}.validate().has_value());
  TlbHierarchySpec h = hier(false, true);
  h.l1.entries = 0;
  auto e = h.validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "l1.entries");
  FakeTableMemory mem;
  try {
    TranslationPath p(h, walker_spec(), 1, 1.0, mem);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& x) {
    EXPECT_STREQ(x.what(), "TLB hierarchy l1.entries: must be at least 1");
  }

  h = hier(false, true);
  h.l15.ways = 3;  // 32 % 3: ignored while L1.5 is off
  EXPECT_FALSE(h.validate().has_value());
  h.l15_enabled = true;
  e = h.validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "l15.ways");
  h.l15.ways = 0;
  h.l15_cluster = 0;
  e = h.validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "l15.cluster");

  h = hier(false, false);
  h.l2.replacement = "mru";  // ignored while L2 is off
  EXPECT_FALSE(h.validate().has_value());
  h.l2_enabled = true;
  e = h.validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "l2.replacement");
}

TEST(TranslationPath, EachL1GetsItsOwnRandomSeed) {
  TlbHierarchySpec h = hier(false, true);
  h.l1.replacement = "random";
  h.l1.seed = 40;
  Rig r(h, 3);
  EXPECT_EQ(r.path.l1(0).spec.seed, 40u);
  EXPECT_EQ(r.path.l1(1).spec.seed, 41u);
  EXPECT_EQ(r.path.l1(2).spec.seed, 42u);
  EXPECT_EQ(r.path.utlbs(), 3u);
  EXPECT_EQ(r.path.l1_lookups_per_cycle(), 4u);
}
