// The GMMU's newer units on the tiny platform of gmmu_bench.h: the shared
// L2 TLB and page-walk cache seen through translate(), large pages, atomic
// and dropped-fault handling, targeted replay and cancel, and invalidation
// with its acknowledgement.
#include <gtest/gtest.h>

#include "tests/hw/gmmu_bench.h"

using namespace gmmu_test;

namespace {
constexpr uint64_t kSema = 0x180000;  // host PA of the invalidate semaphore
}

TEST(GmmuUnits, L2TlbServesTheSecondUtlbWithoutAWalk) {
  TlbHierarchySpec t;  // L1 per uTLB + shared L2 (defaults)
  Bench b(plain_gmmu(), 2, t);
  b.pt.map(kVa, kPageA, pt::Aperture::Vram, true);
  Gmmu::Result r0{}, r1{};
  sc_time d1;
  b.drv.body = [&] {
    r0 = b.translate(0, kVa, false);
    r1 = b.translate(1, kVa + 0x40, false, &d1);
  };
  sc_core::sc_start();
  EXPECT_EQ(r0.outcome, Outcome::Walked);
  EXPECT_EQ(r1.outcome, Outcome::Walked);  // not an L1 hit: answered by the L2
  EXPECT_EQ(r1.t.pa, kPageA);
  EXPECT_EQ(b.walker().s_walks, 1u);
  hmmsim::hw::TlbLevel& l2 = b.gmmu.path().l2();
  EXPECT_EQ(l2.tlb->c.misses, 1u);
  EXPECT_EQ(l2.tlb->c.hits, 1u);
  EXPECT_EQ(b.l1(1).c.misses, 1u);
  EXPECT_EQ(b.l1(1).valid_entries(), 1u);  // filled on the way back
  // L1 hit check, then the L2's.
  EXPECT_LE(abs_diff(ps(d1), double(b.hit_ps() + ps_of_ns(t.l2.hit_cycles * b.cycle_ns()))), 3.0) << ps(d1);
}

TEST(GmmuUnits, PageWalkCacheLeavesOneReadForANeighbourPage) {
  GmmuSpec g;  // per_level page-walk cache (defaults)
  Bench b(g);
  b.pt.map(kVa, kPageA, pt::Aperture::Vram, true);
  b.pt.map(kVaNextPage, kPageB, pt::Aperture::Vram, true);
  uint64_t reads_first = 0;
  b.drv.body = [&] {
    b.translate(0, kVa, false);
    reads_first = b.walker().s_reads;
    b.translate(0, kVaNextPage, false);
  };
  sc_core::sc_start();
  EXPECT_EQ(reads_first, 5u);
  EXPECT_EQ(b.walker().s_reads, 6u);  // PD0 was cached: only the PT
  EXPECT_EQ(b.walker().pwc().s_hits[3], 1u);
  EXPECT_EQ(b.walker().s_reads_by_level[5], 2u);
}

TEST(GmmuUnits, HugeAndBigPagesWalkFewerLevelsAndCoverTheirRange) {
  Bench b;
  const uint64_t huge_va = kVa & ~((2ull << 20) - 1);
  const uint64_t big_va = huge_va + (4ull << 20);  // another 2 MiB range
  b.pt.map_huge(huge_va, 0x400000, pt::Aperture::Vram, true);
  b.pt.map_big(big_va + 0x10000, 0x610000, pt::Aperture::Vram, false);
  Gmmu::Result h1{}, h2{}, g1{}, g2{};
  uint64_t reads_huge = 0;
  b.drv.body = [&] {
    h1 = b.translate(0, huge_va + 0x123456, false);
    reads_huge = b.walker().s_reads;
    h2 = b.translate(0, huge_va + 0x1FF000, true);  // same 2 MiB entry
    g1 = b.translate(0, big_va + 0x1F000, false);
    g2 = b.translate(0, big_va + 0x10008, false);  // same 64 KiB entry
  };
  sc_core::sc_start();
  EXPECT_EQ(reads_huge, 4u);  // PD3, PD2, PD1, PD0: the PTE is in PD0
  EXPECT_EQ(h1.outcome, Outcome::Walked);
  EXPECT_EQ(h1.t.shift, 21u);
  EXPECT_EQ(h1.t.pa_of(huge_va + 0x123456), 0x523456u);
  EXPECT_EQ(h2.outcome, Outcome::Hit);
  EXPECT_EQ(g1.outcome, Outcome::Walked);
  EXPECT_EQ(g1.t.shift, 16u);
  EXPECT_FALSE(g1.t.writable);
  EXPECT_EQ(g1.t.pa_of(big_va + 0x1F000), 0x61F000u);
  EXPECT_EQ(g2.outcome, Outcome::Hit);
  EXPECT_EQ(b.walker().s_walks_by_size[2], 1u);
  EXPECT_EQ(b.walker().s_walks_by_size[1], 1u);
  EXPECT_EQ(b.l1(0).c.hits_by_size[2], 1u);
  EXPECT_EQ(b.l1(0).c.hits_by_size[1], 1u);
}

TEST(GmmuUnits, InvalidateOfOnePageDropsTheLargeEntryCoveringIt) {
  Bench b;
  const uint64_t huge_va = kVa & ~((2ull << 20) - 1);
  b.pt.map_huge(huge_va, 0x400000, pt::Aperture::Vram, true);
  uint64_t before = 0, after = 99;
  b.drv.body = [&] {
    b.translate(0, huge_va, false);
    before = b.l1(0).valid_entries();
    b.gmmu.invalidate(huge_va + 0x5000, 1, false, sc_core::SC_ZERO_TIME);
    after = b.l1(0).valid_entries();
  };
  sc_core::sc_start();
  EXPECT_EQ(before, 1u);
  EXPECT_EQ(after, 0u);
}

TEST(GmmuUnits, AtomicToAtomicDisabledPageFaultsWithAtomicType) {
  Bench b;
  b.pt.map(kVa, kPageA, pt::Aperture::SysCoherent, true, /*atomic=*/false);
  b.gmmu.set_ring(kRing, 8);
  Gmmu::Result rd{}, wr{}, at{};
  b.drv.body = [&] {
    rd = b.access(0, kVa, Access::Read);
    wr = b.access(0, kVa, Access::Write);
    at = b.access(0, kVa, Access::Atomic);
  };
  sc_core::sc_start();
  EXPECT_EQ(rd.outcome, Outcome::Walked);
  EXPECT_EQ(wr.outcome, Outcome::Hit);
  EXPECT_EQ(at.outcome, Outcome::Faulted);
  ASSERT_EQ(b.host.writes.size(), 1u);
  EXPECT_EQ(b.entry(0).type, FaultType::Atomic);
  EXPECT_EQ(b.entry(0).access, AccessType::AtomicStrong);
  EXPECT_EQ(b.gmmu.s_faults_by_type[3], 1u);
}

TEST(GmmuUnits, DroppedFaultIsRaisedAgainAfterTheReplayAndCounted) {
  GmmuSpec g = plain_gmmu();
  g.max_faults_per_utlb = 1;
  Bench b(g);
  b.gmmu.set_ring(kRing, 8);
  b.drv.body = [&] {
    b.translate(0, kVa, false);          // written
    b.translate(0, kVaNextPage, false);  // uTLB 0 is at its limit: dropped
    b.gmmu.replay(Gmmu::kAllUtlbs, sc_core::SC_ZERO_TIME);
    sc_core::wait(b.gmmu.replay_event());
    b.translate(0, kVaNextPage, false);  // the retry: written, and counted as re-raised
  };
  sc_core::sc_start();
  EXPECT_EQ(b.gmmu.s_faults_dropped, 1u);
  EXPECT_EQ(b.gmmu.s_faults_reraised, 1u);
  EXPECT_EQ(b.gmmu.s_faults, 2u);
  ASSERT_EQ(b.host.writes.size(), 2u);
  EXPECT_EQ(b.entry(1).va, kVaNextPage);
}

TEST(GmmuUnits, TargetedReplayReleasesOnlyItsUtlb) {
  Bench b(plain_gmmu(), 3);
  b.gmmu.set_ring(kRing, 8);
  std::vector<uint64_t> gens;
  b.drv.body = [&] {
    b.translate(0, kVa, false);
    b.translate(1, kVa, false);
    b.gmmu.replay(1, sc_core::SC_ZERO_TIME);
    gens = {b.gmmu.replay_gen(0), b.gmmu.replay_gen(1), b.gmmu.replay_gen(2)};
    b.translate(0, kVa, false);  // still in flight on uTLB 0: merges
    b.translate(1, kVa, false);  // uTLB 1 was replayed: a new entry
  };
  sc_core::sc_start();
  EXPECT_EQ(gens, (std::vector<uint64_t>{0, 1, 0}));
  EXPECT_EQ(b.gmmu.s_replays_targeted, 1u);
  EXPECT_EQ(b.gmmu.s_faults_merged, 1u);
  EXPECT_EQ(b.gmmu.s_faults, 3u);
}

TEST(GmmuUnits, TargetedCancelHitsOnlyItsUtlb) {
  Bench b;
  b.gmmu.set_ring(kRing, 8);
  bool c0 = false, c1 = true, all0 = false, all1 = false;
  b.drv.body = [&] {
    b.translate(0, kVa, false);
    b.translate(1, kVa, false);
    const uint64_t seq = b.gmmu.fault_seq();
    b.gmmu.cancel(kVa + 0x10, 0, sc_core::SC_ZERO_TIME);
    c0 = b.gmmu.cancelled(0, kVa, seq);
    c1 = b.gmmu.cancelled(1, kVa, seq);
    b.gmmu.cancel(kVaNextPage, hmmsim::hwref::kAllClients, sc_core::SC_ZERO_TIME);
    all0 = b.gmmu.cancelled(0, kVaNextPage, seq);
    all1 = b.gmmu.cancelled(1, kVaNextPage, seq);
  };
  sc_core::sc_start();
  EXPECT_TRUE(c0);
  EXPECT_FALSE(c1);
  EXPECT_TRUE(all0);
  EXPECT_TRUE(all1);
  EXPECT_EQ(b.gmmu.s_fatal, 2u);
}

TEST(GmmuUnits, InvalidateIsAcknowledgedAfterItsLatencyAndWritesTheSemaphore) {
  Bench b;
  b.pt.map(kVa, kPageA, pt::Aperture::Vram, true);
  uint32_t ack_early = 99, ack_late = 99;
  uint64_t issued_at = 0;
  b.drv.body = [&] {
    b.translate(0, kVa, false);
    b.gmmu.set_inv_semaphore(kSema);
    issued_at = now_ps();
    b.gmmu.invalidate(kVa, 1, true, sc_time(10, SC_NS));
    ack_early = b.gmmu.inv_ack(sc_time(10 + b.gspec.invalidate_ns - 1, SC_NS));
    ack_late = b.gmmu.inv_ack(sc_time(10 + b.gspec.invalidate_ns, SC_NS));
  };
  sc_core::sc_start();
  EXPECT_EQ(ack_early, 0u);
  EXPECT_EQ(ack_late, 1u);
  EXPECT_EQ(b.l1(0).valid_entries(), 0u);
  ASSERT_EQ(b.host.writes.size(), 1u);
  EXPECT_EQ(b.host.writes[0].addr, kSema);
  uint32_t v = 0;
  std::memcpy(&v, b.host.writes[0].data.data(), 4);
  EXPECT_EQ(v, 1u);
  EXPECT_EQ(b.host.writes[0].time_ps, issued_at + ps_of_ns(10 + b.gspec.invalidate_ns));
}
