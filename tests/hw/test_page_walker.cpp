// PageWalker and page-walk caches (hw/gmmu/page_walker.h, page_walk_cache.h)
// over an in-memory table (fake_table_memory.h): which reads a walk makes,
// when, and what it decodes. Plain C++: no SystemC kernel.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fake_table_memory.h"
#include "hw/gmmu/page_walk_cache.h"
#include "hw/gmmu/page_walker.h"
#include "hwref/page_table_format.h"

using namespace hmmsim::hw;
using hmmsim::hwtest::FakeTableMemory;
using hmmsim::hwtest::PageTableWriter;
namespace pt = hmmsim::hwref::pt;
using hmmsim::hwref::FaultType;

namespace {

// Timing of every rig: 1 ns cycle, 20 cycles per level, 10 ns per read,
// 2-cycle walk-cache probe. A level costs 30 ns; a cold 4 KiB walk
// 2 + 5 * 30 = 152 ns.
constexpr double kCycle = 1.0, kLat = 10.0, kLevel = 30.0, kProbe = 2.0;

// VAs: A's 2 MiB range, its neighbours at each directory level, and X in
// another PD3 entry. A + 256 GiB stays in A's PD3 entry (2^47 bytes).
constexpr uint64_t kA = 1ull << 46;
constexpr uint64_t kM2 = 1ull << 21, kM512 = 1ull << 29, kG256 = 1ull << 38, kT128 = 1ull << 47;
constexpr uint64_t kX = kA + kT128;

WalkerSpec wspec(const std::string& pwc = "per_level", std::vector<uint64_t> entries = {4, 8, 16, 32},
                 uint32_t walkers = 8) {
  WalkerSpec s;
  s.walkers = walkers;
  s.level_cycles = 20;
  s.pwc.impl = pwc;
  s.pwc.entries = std::move(entries);
  s.pwc.hit_cycles = 2;
  return s;
}

struct Rig {
  explicit Rig(const WalkerSpec& s = wspec()) : mem(kLat), w(mem), walker(s, kCycle, mem) {
    walker.set_root(w.root());
  }
  // Walks at `t0` and returns the result; `end` gets the finish time.
  WalkResult walk(uint64_t va, double t0 = 0, double* end = nullptr) {
    mem.reads.clear();
    double t = t0;
    WalkResult r = walker.walk(va, t);
    if (end) *end = t;
    EXPECT_EQ(r.reads, mem.reads.size());
    return r;
  }
  std::vector<std::pair<uint64_t, unsigned>> reads() const {
    std::vector<std::pair<uint64_t, unsigned>> v;
    for (auto& r : mem.reads) v.emplace_back(r.pa, r.len);
    return v;
  }
  // The reads of a cold walk of `va` from level `from` down to PD0.
  std::vector<std::pair<uint64_t, unsigned>> dir_reads(uint64_t va, unsigned from = 0) {
    std::vector<std::pair<uint64_t, unsigned>> v;
    for (unsigned l = from; l < pt::kPd0; ++l) v.emplace_back(w.table(l, va) + pt::entry_offset(l, va), 8u);
    v.emplace_back(w.pd0_word0(va), 16u);
    return v;
  }
  std::pair<uint64_t, unsigned> pt_read(uint64_t va) { return {w.pte_4k(va), 8u}; }

  FakeTableMemory mem;
  PageTableWriter w;
  PageWalker walker;
};

template <class V>
V cat(V a, const V& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

// ---- reads per walk ----------------------------------------------------------

TEST(PageWalker, Cold4KiBWalkReadsFiveLevelsAtExactTimes) {
  Rig r;
  r.w.map_4k(kA + 0x3000, 0x7000000);
  double end = 0;
  WalkResult res = r.walk(kA + 0x3456, 100, &end);
  ASSERT_TRUE(res.valid);
  EXPECT_EQ(res.reads, 5u);
  EXPECT_EQ(res.t.shift, 12u);
  EXPECT_EQ(res.t.pa, 0x7000000u);
  EXPECT_EQ(r.reads(), cat(r.dir_reads(kA + 0x3000), {r.pt_read(kA + 0x3000)}));
  // Each level: 20 cycles of walker work, then the 10 ns read.
  const std::vector<double> at = {122, 152, 182, 212, 242};
  for (size_t i = 0; i < at.size(); ++i) EXPECT_EQ(r.mem.reads[i].at, at[i]) << i;
  EXPECT_EQ(end, 100 + kProbe + 5 * kLevel);
  EXPECT_EQ(r.walker.s_walks, 1u);
  EXPECT_EQ(r.walker.s_reads, 5u);
  const uint64_t by_level[6] = {1, 1, 1, 1, 0, 1};
  for (int l = 0; l < 6; ++l) EXPECT_EQ(r.walker.s_reads_by_level[l], by_level[l]) << l;
  EXPECT_EQ(r.walker.s_walks_by_size[0], 1u);
  EXPECT_EQ(r.walker.s_walk_ns, kProbe + 5 * kLevel);
  EXPECT_EQ(r.walker.s_queue_ns, 0.0);
  EXPECT_EQ(r.walker.s_faults, 0u);
}

TEST(PageWalker, Cold64KiBWalkReadsThe64KiBTable) {
  Rig r;
  r.w.map_64k(kA + 0x30000, 0x8030000);
  double end = 0;
  WalkResult res = r.walk(kA + 0x3ABCD, 0, &end);
  ASSERT_TRUE(res.valid);
  EXPECT_EQ(res.reads, 5u);
  EXPECT_EQ(res.t.shift, 16u);
  EXPECT_EQ(res.t.pa, 0x8030000u);
  const uint64_t pt64 = r.w.big_table(kA) + 3 * 8;
  EXPECT_EQ(r.reads(), cat(r.dir_reads(kA), {{pt64, 8u}}));
  EXPECT_EQ(end, kProbe + 5 * kLevel);
  EXPECT_EQ(r.walker.s_reads_by_level[4], 1u);
  EXPECT_EQ(r.walker.s_reads_by_level[5], 0u);
  EXPECT_EQ(r.walker.s_walks_by_size[1], 1u);
}

TEST(PageWalker, Cold2MiBWalkStopsAtPd0) {
  Rig r;
  r.w.map_2m(kA, 0x40000000);
  double end = 0;
  WalkResult res = r.walk(kA + 0x1ABCDE, 0, &end);
  ASSERT_TRUE(res.valid);
  EXPECT_EQ(res.reads, 4u);
  EXPECT_EQ(res.t.shift, 21u);
  EXPECT_EQ(res.t.pa, 0x40000000u);
  EXPECT_EQ(res.t.pa_of(kA + 0x1ABCDE), 0x401ABCDEu);
  EXPECT_EQ(r.reads(), r.dir_reads(kA));
  EXPECT_EQ(end, kProbe + 4 * kLevel);
  EXPECT_EQ(r.walker.s_walks_by_size[2], 1u);
  // A leaf PTE in PD0 is for the TLBs: only PD3, PD2, PD1 were cached.
  EXPECT_EQ(r.walker.pwc().s_fills, 3u);
}

TEST(PageWalker, FourKiBPageUnderA64KiBTableWithoutItsBigPteReadsBothTables) {
  Rig r;
  r.w.map_64k(kA + 0x50000, 0x9050000);  // another 64 KiB page of the range
  r.w.map_4k(kA + 0x1000, 0x6001000);
  WalkResult res = r.walk(kA + 0x1000);
  ASSERT_TRUE(res.valid);
  EXPECT_EQ(res.reads, 6u);
  EXPECT_EQ(res.t.shift, 12u);
  EXPECT_EQ(res.t.pa, 0x6001000u);
  const uint64_t pt64 = r.w.big_table(kA) + 0;  // VA[20:16] = 0
  EXPECT_EQ(r.reads(), cat(r.dir_reads(kA), {{pt64, 8u}, r.pt_read(kA + 0x1000)}));
  EXPECT_EQ(r.walker.s_reads_by_level[4], 1u);
  EXPECT_EQ(r.walker.s_reads_by_level[5], 1u);
}

TEST(PageWalker, AValid64KiBPteHidesThe4KiBPtesUnderIt) {
  Rig r;
  r.w.map_4k(kA + 0x21000, 0x6021000);
  r.w.map_64k(kA + 0x20000, 0x9020000);
  WalkResult res = r.walk(kA + 0x21000);
  ASSERT_TRUE(res.valid);
  EXPECT_EQ(res.reads, 5u);
  EXPECT_EQ(res.t.shift, 16u);
  EXPECT_EQ(res.t.pa, 0x9020000u);
}

TEST(PageWalker, InvalidPdeAtEachLevelFaultsAfterThatLevelsRead) {
  for (unsigned level = 0; level <= pt::kPd0; ++level) {
    Rig r;
    r.w.map_4k(kA, 0x1000);
    const auto expect = r.dir_reads(kA);
    r.w.clear(level, kA);
    double end = 0;
    WalkResult res = r.walk(kA, 0, &end);
    EXPECT_FALSE(res.valid) << level;
    EXPECT_EQ(res.fault, FaultType::InvalidPde) << level;
    EXPECT_EQ(res.reads, level + 1) << level;
    EXPECT_EQ(r.reads(), decltype(expect)(expect.begin(), expect.begin() + level + 1)) << level;
    EXPECT_EQ(end, kProbe + (level + 1) * kLevel) << level;
    EXPECT_EQ(r.walker.s_faults, 1u);
    // Only the present directory entries above were cached.
    EXPECT_EQ(r.walker.pwc().s_fills, level) << level;
  }
}

TEST(PageWalker, InvalidPteFaults) {
  Rig r;
  r.w.map_4k(kA + 0x1000, 0x1000);  // creates the 4 KiB table; kA's PTE stays 0
  WalkResult res = r.walk(kA);
  EXPECT_FALSE(res.valid);
  EXPECT_EQ(res.fault, FaultType::InvalidPte);
  EXPECT_EQ(res.reads, 5u);
  EXPECT_EQ(r.walker.s_faults, 1u);
  EXPECT_EQ(r.walker.s_walks_by_size[0], 0u);

  // Only a 64 KiB table, its entry empty: one PT64 read, no 4 KiB table.
  r.w.big_table(kA + kM2);
  res = r.walk(kA + kM2 + 0x4000);
  EXPECT_FALSE(res.valid);
  EXPECT_EQ(res.fault, FaultType::InvalidPte);
  EXPECT_EQ(res.reads, 2u);  // PD0 (PD1 cached) + PT64
  EXPECT_EQ(r.reads().back(), std::make_pair(r.w.big_table(kA + kM2), 8u));

  // A PTE with the valid bit but no aperture is not valid.
  r.mem.poke(r.w.pte_4k(kA + 0x2000), pt::kPteValid | 0x5000);
  res = r.walk(kA + 0x2000);
  EXPECT_FALSE(res.valid);
  EXPECT_EQ(res.fault, FaultType::InvalidPte);
  EXPECT_EQ(r.walker.s_faults, 3u);
}

TEST(PageWalker, BusErrorReadsAsNotPresent) {
  Rig r;
  r.w.map_4k(kA, 0x1000);
  r.mem.bus_errors.insert(r.w.table(2, kA) + pt::entry_offset(2, kA));  // the PD1 entry
  WalkResult res = r.walk(kA);
  EXPECT_FALSE(res.valid);
  EXPECT_EQ(res.fault, FaultType::InvalidPde);
  EXPECT_EQ(res.reads, 3u);
}

TEST(PageWalker, DecodesPermissionsApertureAndAlignsPa) {
  Rig r;
  r.w.map_4k(kA, 0x12345000, pt::Aperture::SysCoherent, false, false);
  r.w.map_64k(kA + kM2 + 0x10000, 0x76543000, pt::Aperture::SysNonCoherent, true, false);
  r.w.map_2m(kA + 2 * kM2, 0x80123000, pt::Aperture::Vram, true, true);
  r.w.map_4k(kA + 3 * kM2, 0xFFFFFFFFFFF000ull, pt::Aperture::Vram, true, true);

  WalkResult a = r.walk(kA + 0x123);
  ASSERT_TRUE(a.valid);
  EXPECT_EQ(a.t.pa, 0x12345000u);
  EXPECT_EQ(a.t.aperture, uint8_t(pt::Aperture::SysCoherent));
  EXPECT_FALSE(a.t.writable);
  EXPECT_FALSE(a.t.atomic);
  EXPECT_TRUE(a.t.permits(Access::Read));
  EXPECT_FALSE(a.t.permits(Access::Write));
  EXPECT_FALSE(a.t.permits(Access::Atomic));

  WalkResult b = r.walk(kA + kM2 + 0x1FFFF);
  ASSERT_TRUE(b.valid);
  EXPECT_EQ(b.t.shift, 16u);
  EXPECT_EQ(b.t.pa, 0x76540000u);  // aligned to 64 KiB
  EXPECT_EQ(b.t.aperture, uint8_t(pt::Aperture::SysNonCoherent));
  EXPECT_TRUE(b.t.writable);
  EXPECT_FALSE(b.t.atomic);
  EXPECT_TRUE(b.t.permits(Access::Write));
  EXPECT_FALSE(b.t.permits(Access::Atomic));

  WalkResult c = r.walk(kA + 2 * kM2 + 5);
  ASSERT_TRUE(c.valid);
  EXPECT_EQ(c.t.shift, 21u);
  EXPECT_EQ(c.t.pa, 0x80000000u);  // aligned to 2 MiB
  EXPECT_EQ(c.t.aperture, uint8_t(pt::Aperture::Vram));
  EXPECT_TRUE(c.t.writable);
  EXPECT_TRUE(c.t.atomic);
  EXPECT_TRUE(c.t.permits(Access::Atomic));

  WalkResult d = r.walk(kA + 3 * kM2);
  ASSERT_TRUE(d.valid);
  EXPECT_EQ(d.t.pa, 0xFFFFFFFFFFF000ull);  // PA bits 55:12
}

// ---- page-walk caches ----------------------------------------------------------

TEST(PageWalkCache, PerLevelHitsSaveTheReadsAboveTheDeepestHit) {
  Rig r;
  const uint64_t vas[] = {kA, kA + 0x1000, kA + kM2, kA + kM512, kA + kG256, kX};
  for (uint64_t va : vas) r.w.map_4k(va, 0x1000);
  auto& pwc = r.walker.pwc();

  double end = 0;
  EXPECT_EQ(r.walk(kA, 0).reads, 5u);
  EXPECT_EQ(pwc.s_misses, 1u);
  EXPECT_EQ(pwc.s_fills, 4u);

  // Same 2 MiB: PD0 cached, only the PT is read.
  EXPECT_EQ(r.walk(kA + 0x1000, 1000, &end).reads, 1u);
  EXPECT_EQ(r.reads(), (std::vector<std::pair<uint64_t, unsigned>>{r.pt_read(kA + 0x1000)}));
  EXPECT_EQ(end, 1000 + kProbe + kLevel);
  EXPECT_EQ(pwc.s_hits[3], 1u);

  // Same 512 MiB (one PD1 entry), another 2 MiB: PD0 and PT.
  EXPECT_EQ(r.walk(kA + kM2, 2000, &end).reads, 2u);
  EXPECT_EQ(r.reads(), cat(r.dir_reads(kA + kM2, 3), {r.pt_read(kA + kM2)}));
  EXPECT_EQ(end, 2000 + kProbe + 2 * kLevel);
  EXPECT_EQ(pwc.s_hits[2], 1u);

  // Same 256 GiB (one PD2 entry): PD1, PD0, PT.
  EXPECT_EQ(r.walk(kA + kM512, 3000).reads, 3u);
  EXPECT_EQ(r.reads(), cat(r.dir_reads(kA + kM512, 2), {r.pt_read(kA + kM512)}));
  EXPECT_EQ(pwc.s_hits[1], 1u);

  // Same 128 TiB (one PD3 entry): PD2, PD1, PD0, PT.
  EXPECT_EQ(r.walk(kA + kG256, 4000).reads, 4u);
  EXPECT_EQ(r.reads(), cat(r.dir_reads(kA + kG256, 1), {r.pt_read(kA + kG256)}));
  EXPECT_EQ(pwc.s_hits[0], 1u);

  // Another PD3 entry: nothing cached.
  EXPECT_EQ(r.walk(kX, 5000).reads, 5u);
  EXPECT_EQ(pwc.s_misses, 2u);

  // Everything is still cached: 4 + 8 + 16 + 32 entries are plenty.
  EXPECT_EQ(r.walk(kA, 6000).reads, 1u);
  EXPECT_EQ(r.walk(kA + kM512, 7000).reads, 1u);
  EXPECT_EQ(pwc.s_hits[3], 3u);
  EXPECT_EQ(pwc.s_evictions, 0u);
  EXPECT_EQ(pwc.s_fills, 4u + 0 + 1 + 2 + 3 + 4);
}

TEST(PageWalkCache, A2MiBLeafIsNotCachedSoItsRangeRereadsPd0) {
  Rig r;
  r.w.map_2m(kA, 0x40000000);
  EXPECT_EQ(r.walk(kA).reads, 4u);
  WalkResult res = r.walk(kA + 0x1000, 1000);
  EXPECT_EQ(res.reads, 1u);
  EXPECT_EQ(res.t.shift, 21u);
  EXPECT_EQ(r.reads(), (std::vector<std::pair<uint64_t, unsigned>>{{r.w.pd0_word0(kA), 16u}}));
}

TEST(PageWalkCache, FaultingWalksCacheOnlyPresentEntries) {
  Rig r;
  r.w.map_4k(kA, 0x1000);
  r.w.clear(2, kA);  // PD1 entry empty
  EXPECT_EQ(r.walk(kA).reads, 3u);
  WalkResult res = r.walk(kA, 1000);
  EXPECT_EQ(res.reads, 1u);  // PD2 cached, the empty PD1 entry read again
  EXPECT_EQ(res.fault, FaultType::InvalidPde);
  EXPECT_EQ(r.reads(), (std::vector<std::pair<uint64_t, unsigned>>{
                           {r.w.table(2, kA) + pt::entry_offset(2, kA), 8u}}));
}

TEST(PageWalkCache, PerLevelCapacityEvictsPerLevel) {
  Rig r(wspec("per_level", {1, 1, 1, 1}));
  for (uint64_t va : {kA, kA + 0x1000, kA + kM2}) r.w.map_4k(va, 0x1000);
  EXPECT_EQ(r.walk(kA).reads, 5u);
  EXPECT_EQ(r.walk(kA + kM2, 1000).reads, 2u);   // its PD0 entry replaces A's
  EXPECT_EQ(r.walker.pwc().s_evictions, 1u);
  EXPECT_EQ(r.walk(kA + 0x1000, 2000).reads, 2u);  // so A's range reads PD0 again
  EXPECT_EQ(r.walker.pwc().s_evictions, 2u);
  EXPECT_EQ(r.walk(kA, 3000).reads, 1u);
}

TEST(PageWalkCache, UnifiedSmallCapacityEvictsLeastRecentlyUsed) {
  Rig r(wspec("unified", {2}));
  for (uint64_t va : {kA, kA + 0x1000, kA + 0x2000, kA + kM2, kA + kG256}) r.w.map_4k(va, 0x1000);
  auto& pwc = r.walker.pwc();
  // Cold: PD3, PD2, PD1, PD0 filled into two lines: PD1 and PD0 remain.
  EXPECT_EQ(r.walk(kA).reads, 5u);
  EXPECT_EQ(pwc.s_fills, 4u);
  EXPECT_EQ(pwc.s_evictions, 2u);
  EXPECT_EQ(r.walk(kA + 0x1000, 1000).reads, 1u);
  // PD1 hit; B's PD0 evicts A's (PD1 was used more recently).
  EXPECT_EQ(r.walk(kA + kM2, 2000).reads, 2u);
  EXPECT_EQ(pwc.s_hits[2], 1u);
  EXPECT_EQ(pwc.s_evictions, 3u);
  EXPECT_EQ(r.walk(kA + 0x2000, 3000).reads, 2u);
  EXPECT_EQ(pwc.s_evictions, 4u);
  // PD3 and PD2 were evicted long ago: another 256 GiB reads all five.
  EXPECT_EQ(r.walk(kA + kG256, 4000).reads, 5u);
  EXPECT_EQ(pwc.s_hits[0] + pwc.s_hits[1], 0u);
}

TEST(PageWalkCache, NoneReadsEveryLevelEveryTimeWithoutProbeTime) {
  Rig r(wspec("none", {}));
  r.w.map_4k(kA, 0x1000);
  r.w.map_4k(kA + 0x1000, 0x2000);
  double end = 0;
  EXPECT_EQ(r.walk(kA, 0, &end).reads, 5u);
  EXPECT_EQ(end, 5 * kLevel);
  EXPECT_EQ(r.walk(kA + 0x1000, 1000, &end).reads, 5u);
  EXPECT_EQ(end, 1000 + 5 * kLevel);
  EXPECT_EQ(r.walker.pwc().s_misses, 2u);
  EXPECT_EQ(r.walker.pwc().s_fills, 0u);
}

TEST(PageWalkCache, InvalidateByRangeForcesRereads) {
  Rig r;
  for (uint64_t va : {kA, kA + 0x1000, kA + kM2, kA + kM2 + 0x1000}) r.w.map_4k(va, 0x1000);
  auto& pwc = r.walker.pwc();
  EXPECT_EQ(r.walk(kA).reads, 5u);
  // A range in the next 2 MiB: PD3, PD2, PD1 cover it, A's PD0 does not.
  pwc.invalidate(kA + kM2, 0x1000);
  EXPECT_EQ(pwc.s_invalidated, 3u);
  EXPECT_EQ(r.walk(kA + 0x1000, 1000).reads, 1u);
  EXPECT_EQ(r.walk(kA + kM2, 2000).reads, 5u);
  // A's first page: every entry covering it, not the neighbour's PD0.
  pwc.invalidate(kA, 0x1000);
  EXPECT_EQ(pwc.s_invalidated, 7u);
  EXPECT_EQ(r.walk(kA + 0x1000, 3000).reads, 5u);
  EXPECT_EQ(r.walk(kA + kM2 + 0x1000, 4000).reads, 1u);
  // A range starting where the PD1 entry's 512 MiB ends: only PD3 and PD2
  // cover it.
  pwc.invalidate(kA + kM512, 0x1000);
  EXPECT_EQ(pwc.s_invalidated, 9u);
  EXPECT_EQ(r.walk(kA, 5000).reads, 1u);  // A's PD0 kept
  // Full flush: PD1 and both PD0 entries remain to drop.
  pwc.invalidate(0, 0);
  EXPECT_EQ(pwc.s_invalidated, 12u);
  EXPECT_EQ(r.walk(kA, 6000).reads, 5u);
}

// ---- walker slots --------------------------------------------------------------

TEST(PageWalker, OneWalkerSerialisesWalksThatArriveTogether) {
  Rig r(wspec("per_level", {4, 8, 16, 32}, 1));
  r.w.map_4k(kA, 0x1000);
  r.w.map_4k(kA + 0x1000, 0x2000);
  r.w.map_4k(kX, 0x3000);
  double e1 = 0, e2 = 0, e3 = 0;
  r.walk(kA, 0, &e1);
  EXPECT_EQ(e1, kProbe + 5 * kLevel);  // 152
  r.walk(kX, 0, &e2);                  // waits for the walker
  EXPECT_EQ(e2, 2 * (kProbe + 5 * kLevel));
  EXPECT_EQ(r.mem.reads.front().at, e1 + kProbe + 20 * kCycle);
  r.walk(kA + 0x1000, 10, &e3);        // waits too; PD0 is cached: one read
  EXPECT_EQ(e3, e2 + kProbe + kLevel);
  EXPECT_EQ(r.walker.s_queue_ns, 152.0 + (304.0 - 10.0));
  r.walk(kA + 0x1000, 1000, &e3);  // the walker is free by then
  EXPECT_EQ(e3, 1000 + kProbe + kLevel);
}

TEST(PageWalker, SeveralWalkersWalkInParallelThenQueue) {
  Rig r(wspec("per_level", {4, 8, 16, 32}, 2));
  const uint64_t vas[] = {kA, kX, kA + 2 * kT128};  // three PD3 entries
  for (uint64_t va : vas) r.w.map_4k(va, 0x1000);
  double e[3] = {};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.walk(vas[i], 0, &e[i]).reads, 5u);
  }
  EXPECT_EQ(e[0], 152.0);
  EXPECT_EQ(e[1], 152.0);
  EXPECT_EQ(e[2], 304.0);
  EXPECT_EQ(r.walker.s_queue_ns, 152.0);
}

// ---- specs -------------------------------------------------------------------

TEST(PageWalkerSpec, ValidateGivesKeyAndMessage) {
  EXPECT_FALSE(WalkerSpec{}.validate().has_value());
  EXPECT_EQ(pwc_registry().names(), (std::vector<std::string>{"none", "per_level", "unified"}));

  WalkerSpec s = wspec();
  s.walkers = 0;
  auto e = s.validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "walkers");
  EXPECT_EQ(e->message, "must be at least 1");
  FakeTableMemory mem;
  EXPECT_THROW(PageWalker(s, 1.0, mem), std::invalid_argument);

  e = wspec("shared", {4}).validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "pwc.impl");
  EXPECT_EQ(e->message, "unknown implementation 'shared'; registered: none, per_level, unified");

  e = wspec("per_level", {1, 2, 3}).validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "pwc.entries");
  EXPECT_EQ(e->message, "per_level takes four sizes: [pd3, pd2, pd1, pd0]");
  e = wspec("unified", {1, 2, 3, 4}).validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "pwc.entries");
  EXPECT_EQ(e->message, "unified takes one size: [n]");
  e = wspec("unified", {65537}).validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "at most 65536 entries per cache");
  EXPECT_FALSE(wspec("unified", {65536}).validate().has_value());
  EXPECT_FALSE(wspec("none", {}).validate().has_value());

  PwcSpec p;
  p.impl = "unified";
  try {
    make_pwc(p);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& x) {
    EXPECT_STREQ(x.what(), "page-walk cache entries: unified takes one size: [n]");
  }
}
