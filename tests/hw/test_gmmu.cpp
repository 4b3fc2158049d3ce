// GMMU on a tiny platform: VRAM holding a hand-written page table, the GMMU,
// and a stand-in host that records what the fault unit writes upstream
// (32-byte fault entries in the ring, 4-byte MSIs).
//
// Page table: tables 16 KiB apart from VRAM PA 0, so every level's entry for
// kVa sits in its own, never-opened bank (default VramSpec map): a walk of a
// fresh platform makes exactly 5 row-miss reads (8 bytes, PD0's 16).
// Unless a test says otherwise the hierarchy is one L1 level and no
// page-walk cache, so every miss walks from the top.
#include <gtest/gtest.h>

#include "tests/hw/gmmu_bench.h"

using namespace gmmu_test;

TEST(Gmmu, MappedPageWalksFiveReadsThenHitsInL1) {
  Bench b;
  b.pt.map(kVa, kPageA, pt::Aperture::Vram, true);
  Gmmu::Result r1{}, r2{}, r3{};
  sc_time d1, d2, d3;
  b.drv.body = [&] {
    r1 = b.translate(0, kVa + 0x123, false, &d1);
    r2 = b.translate(0, kVa + 0xFF8, true, &d2);
    r3 = b.translate(1, kVa, false, &d3);  // uTLB 1 has its own L1: walks again, rows now open
  };
  sc_core::sc_start();
  EXPECT_EQ(r1.outcome, Outcome::Walked);
  EXPECT_EQ(r1.t.pa, kPageA);
  EXPECT_EQ(r1.t.aperture, uint8_t(pt::Aperture::Vram));
  EXPECT_TRUE(r1.t.writable);
  EXPECT_LE(abs_diff(ps(d1), double(b.cold_walk_ps(5))), 3.0) << ps(d1) << " vs " << b.cold_walk_ps(5);
  EXPECT_EQ(r2.outcome, Outcome::Hit);
  EXPECT_EQ(r2.t.pa, kPageA);
  EXPECT_EQ(ps(d2), b.hit_ps());
  EXPECT_EQ(r3.outcome, Outcome::Walked);
  EXPECT_EQ(r3.t.pa, kPageA);
  EXPECT_LE(abs_diff(ps(d3), double(b.hit_ps() + b.open_walk_ps())), 3.0) << ps(d3);

  EXPECT_EQ(b.walker().s_walks, 2u);
  EXPECT_EQ(b.walker().s_reads, 10u);
  EXPECT_EQ(b.vram.core().s_reads, 10u);
  EXPECT_EQ(b.vram.core().s_row_misses, 5u);
  EXPECT_EQ(b.vram.core().s_row_hits, 5u);
  EXPECT_EQ(b.l1(0).c.hits, 1u);
  EXPECT_EQ(b.l1(0).c.misses, 1u);
  EXPECT_EQ(b.l1(0).valid_entries(), 1u);
  EXPECT_EQ(b.l1(1).valid_entries(), 1u);
  const double walks_ns = 1e-3 * double(b.cold_walk_ps(5) - b.hit_ps() + b.open_walk_ps());
  EXPECT_NEAR(b.walker().s_walk_ns, walks_ns, 2e-3);
  EXPECT_EQ(b.gmmu.s_faults, 0u);
  EXPECT_TRUE(b.host.writes.empty());
  EXPECT_TRUE(b.host.msis.empty());
}

TEST(Gmmu, UnmappedPageWritesOneFaultEntryAndOneMsi) {
  Bench b;
  b.pt.map(kVa, kPageA, pt::Aperture::Vram, true);
  b.gmmu.set_ring(kRing, 8);
  b.gmmu.set_msi(kMsi);
  Gmmu::Result r1{}, r2{}, r3{};
  sc_time d1, d2;
  uint64_t t2 = 0, reads_after_1 = 0, reads_after_2 = 0;
  size_t msis_after_enable = 99;
  b.drv.body = [&] {
    b.gmmu.enable_irq(true, sc_core::SC_ZERO_TIME);  // nothing pending: no MSI
    msis_after_enable = b.host.msis.size();
    r1 = b.translate(1, kVaNextPage + 0x10, true, &d1);
    reads_after_1 = b.walker().s_reads;
    t2 = now_ps();
    r2 = b.translate(0, kVaNoPd0, false, &d2);
    reads_after_2 = b.walker().s_reads;
    r3 = b.translate(0, kVaNoPd3 + 4, false);
  };
  sc_core::sc_start();
  EXPECT_EQ(msis_after_enable, 0u);
  EXPECT_EQ(r1.outcome, Outcome::Faulted);
  EXPECT_EQ(r2.outcome, Outcome::Faulted);
  EXPECT_EQ(r3.outcome, Outcome::Faulted);
  EXPECT_EQ(reads_after_1, 5u);
  EXPECT_EQ(reads_after_2, 5u + 4u);
  EXPECT_EQ(b.walker().s_reads, 5u + 4u + 1u);
  EXPECT_LE(abs_diff(ps(d1), double(b.cold_walk_ps(5))), 3.0) << ps(d1);
  EXPECT_EQ(b.gmmu.s_faults, 3u);
  EXPECT_EQ(b.gmmu.put(), 3u);

  ASSERT_EQ(b.host.writes.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(b.host.writes[i].addr, kRing + i * 32) << i;
    EXPECT_EQ(b.host.writes[i].data.size(), 32u) << i;
    EXPECT_EQ(b.host.writes[i].data[31], 1u) << "valid byte, entry " << i;
  }
  const FaultEntry e0 = b.entry(0), e1 = b.entry(1), e2 = b.entry(2);
  EXPECT_EQ(e0.va, kVaNextPage);
  EXPECT_EQ(e0.access, AccessType::Write);
  EXPECT_EQ(e0.type, FaultType::InvalidPte);
  EXPECT_EQ(e0.client, 1u);
  EXPECT_EQ(e0.sm, 1u);
  EXPECT_EQ(e0.replayable, 1u);
  EXPECT_EQ(e0.valid, 1u);
  EXPECT_EQ(e0.timestamp_ps, ps(d1));  // raised when the walk ended
  EXPECT_EQ(b.host.writes[0].time_ps, ps(d1));
  EXPECT_EQ(e1.va, kVaNoPd0);
  EXPECT_EQ(e1.access, AccessType::Read);
  EXPECT_EQ(e1.type, FaultType::InvalidPde);
  EXPECT_EQ(e1.client, 0u);
  EXPECT_EQ(e1.timestamp_ps, t2 + ps(d2));
  EXPECT_EQ(e2.va, kVaNoPd3);  // page aligned
  EXPECT_EQ(e2.type, FaultType::InvalidPde);

  // One MSI, vector 0, at the first fault; the later faults find it unacknowledged.
  ASSERT_EQ(b.host.msis.size(), 1u);
  EXPECT_EQ(b.host.msis[0].vector, hmmsim::hwref::kMsiVectorFault);
  EXPECT_EQ(b.host.msis[0].time_ps, ps(d1));
  EXPECT_EQ(b.gmmu.s_msis, 1u);
  EXPECT_EQ(b.gmmu.status(), 0u);
}

TEST(Gmmu, SecondFaultOnSamePageFromSameUtlbMerges) {
  Bench b;
  b.pt.map(kVa, kPageA, pt::Aperture::Vram, true);
  b.gmmu.set_ring(kRing, 8);
  Gmmu::Result r1{}, r2{}, r3{};
  size_t writes_after_merge = 99;
  uint32_t put_after_merge = 99;
  b.drv.body = [&] {
    r1 = b.translate(0, kVaNextPage, false);
    r2 = b.translate(0, kVaNextPage + 0x800, true);  // same page, same uTLB
    writes_after_merge = b.host.writes.size();
    put_after_merge = b.gmmu.put();
    r3 = b.translate(1, kVaNextPage, false);  // same page, other uTLB: its own entry
  };
  sc_core::sc_start();
  EXPECT_EQ(r1.outcome, Outcome::Faulted);
  EXPECT_EQ(r2.outcome, Outcome::Faulted);
  EXPECT_EQ(r3.outcome, Outcome::Faulted);
  EXPECT_EQ(writes_after_merge, 1u);
  EXPECT_EQ(put_after_merge, 1u);
  EXPECT_EQ(b.gmmu.s_faults_merged, 1u);
  EXPECT_EQ(b.gmmu.s_faults, 2u);
  ASSERT_EQ(b.host.writes.size(), 2u);
  EXPECT_EQ(b.host.writes[1].addr, kRing + 32);
  EXPECT_EQ(b.entry(1).client, 1u);
  EXPECT_EQ(b.entry(1).va, kVaNextPage);
  EXPECT_EQ(b.gmmu.put(), 2u);
  EXPECT_TRUE(b.host.msis.empty());  // interrupts never enabled
  EXPECT_EQ(b.gmmu.s_msis, 0u);
}

TEST(Gmmu, ReplayClearsPendingFaultsAndBumpsGeneration) {
  Bench b;
  b.pt.map(kVa, kPageA, pt::Aperture::Vram, true);
  b.gmmu.set_ring(kRing, 8);
  uint64_t gen_before = 99, gen_after = 0, replay_at = 0, woke_at = 0;
  Gmmu::Result again{};
  Thread waiter("waiter", [&] {
    sc_core::wait(b.gmmu.replay_event());
    woke_at = now_ps();
  });
  b.drv.body = [&] {
    b.translate(0, kVaNextPage, false);
    gen_before = b.gmmu.replay_gen(0);
    sc_core::wait(sc_time(1000, SC_NS));
    replay_at = now_ps();
    b.gmmu.replay(Gmmu::kAllUtlbs, sc_time(10, SC_NS));
    gen_after = b.gmmu.replay_gen(0);
    again = b.translate(0, kVaNextPage, false);  // no longer in flight: a new entry
  };
  sc_core::sc_start();
  EXPECT_EQ(gen_before, 0u);
  EXPECT_EQ(gen_after, 1u);
  EXPECT_EQ(b.gmmu.s_replays, 1u);
  const uint64_t expect_replay = replay_at + ps_of_ns(10 + b.gspec.replay_latency_ns);
  EXPECT_EQ(ps(b.gmmu.replay_time(0)), expect_replay);
  EXPECT_EQ(woke_at, expect_replay);
  EXPECT_EQ(again.outcome, Outcome::Faulted);
  EXPECT_EQ(b.gmmu.s_faults_merged, 0u);
  EXPECT_EQ(b.gmmu.s_faults, 2u);
  ASSERT_EQ(b.host.writes.size(), 2u);
  EXPECT_EQ(b.host.writes[1].addr, kRing + 32);
  EXPECT_EQ(b.entry(1).va, kVaNextPage);
  EXPECT_EQ(b.gmmu.put(), 2u);
}

TEST(Gmmu, WriteToReadOnlyPteFaultsWithWriteType) {
  Bench b;
  b.pt.map(kVa, kPageA, pt::Aperture::Vram, false);
  b.gmmu.set_ring(kRing, 8);
  Gmmu::Result rd{}, wr{}, wr1{};
  uint64_t reads_before_write = 0, reads_after_write = 0, l1_after_write = 99;
  b.drv.body = [&] {
    rd = b.translate(0, kVa, false);
    reads_before_write = b.walker().s_reads;
    wr = b.translate(0, kVa + 8, true);  // cached read-only entry: refetched, then faults
    reads_after_write = b.walker().s_reads;
    l1_after_write = b.l1(0).valid_entries();
    wr1 = b.translate(1, kVa, true);  // cold uTLB: walk, then fault
  };
  sc_core::sc_start();
  EXPECT_EQ(rd.outcome, Outcome::Walked);
  EXPECT_EQ(rd.t.pa, kPageA);
  EXPECT_FALSE(rd.t.writable);
  EXPECT_EQ(wr.outcome, Outcome::Faulted);
  EXPECT_EQ(wr1.outcome, Outcome::Faulted);
  EXPECT_EQ(reads_before_write, 5u);
  EXPECT_EQ(reads_after_write, 10u);
  // The stale entry was dropped and the walk refilled it (still read-only:
  // a correct translation for later reads); the write faulted.
  EXPECT_EQ(l1_after_write, 1u);
  ASSERT_EQ(b.host.writes.size(), 2u);
  const FaultEntry e0 = b.entry(0), e1 = b.entry(1);
  EXPECT_EQ(e0.va, kVa);
  EXPECT_EQ(e0.type, FaultType::Write);
  EXPECT_EQ(e0.access, AccessType::Write);
  EXPECT_EQ(e0.client, 0u);
  EXPECT_EQ(e1.type, FaultType::Write);
  EXPECT_EQ(e1.access, AccessType::Write);
  EXPECT_EQ(e1.client, 1u);
}

TEST(Gmmu, InvalidateDropsTlbEntries) {
  Bench b;
  b.pt.map(kVa, kPageA, pt::Aperture::Vram, true);
  b.pt.map(kVaNextPage, kPageB, pt::Aperture::Vram, true);
  Gmmu::Result stale{}, fresh{}, other{}, after_flush{};
  uint64_t l1_0_before = 0, l1_1_before = 0, l1_0_after = 99, l1_1_after = 99, l1_0_flushed = 99;
  b.drv.body = [&] {
    b.translate(0, kVa, false);
    b.translate(0, kVaNextPage, false);
    b.translate(1, kVa, false);
    l1_0_before = b.l1(0).valid_entries();
    l1_1_before = b.l1(1).valid_entries();
    b.pt.map(kVa, kPageC, pt::Aperture::Vram, true);  // the driver changes the PTE ...
    stale = b.translate(0, kVa, false);                // ... the L1 still holds the old one
    b.gmmu.invalidate(kVa, 1, false, sc_core::SC_ZERO_TIME);                         // ... until invalidated
    l1_0_after = b.l1(0).valid_entries();
    l1_1_after = b.l1(1).valid_entries();
    fresh = b.translate(0, kVa, false);
    other = b.translate(0, kVaNextPage, false);
    b.gmmu.invalidate(0, 0, false, sc_core::SC_ZERO_TIME);  // everything
    l1_0_flushed = b.l1(0).valid_entries() + b.l1(1).valid_entries();
    after_flush = b.translate(0, kVaNextPage, false);
  };
  sc_core::sc_start();
  EXPECT_EQ(l1_0_before, 2u);
  EXPECT_EQ(l1_1_before, 1u);
  EXPECT_EQ(stale.outcome, Outcome::Hit);
  EXPECT_EQ(stale.t.pa, kPageA);
  EXPECT_EQ(l1_0_after, 1u);  // kVaNextPage kept
  EXPECT_EQ(l1_1_after, 0u);  // every uTLB
  EXPECT_EQ(fresh.outcome, Outcome::Walked);
  EXPECT_EQ(fresh.t.pa, kPageC);
  EXPECT_EQ(other.outcome, Outcome::Hit);
  EXPECT_EQ(other.t.pa, kPageB);
  EXPECT_EQ(l1_0_flushed, 0u);
  EXPECT_EQ(after_flush.outcome, Outcome::Walked);
  EXPECT_EQ(after_flush.t.pa, kPageB);
  EXPECT_EQ(b.gmmu.s_invalidates, 2u);
  EXPECT_EQ(b.walker().s_walks, 5u);
  EXPECT_EQ(b.walker().s_reads, 25u);
}

TEST(Gmmu, FullRingDropsFaultAndSetsOverflow) {
  Bench b;
  b.pt.map(kVa, kPageA, pt::Aperture::Vram, true);
  b.gmmu.set_ring(kRing, 2);  // one free slot: PUT may not catch up with GET
  b.gmmu.set_msi(kMsi);
  size_t writes_after_drop = 99, msis_after_drop = 99, msis_after_ack = 99;
  uint32_t status_after_drop = 0, status_after_clear = 1, put_after_drop = 99;
  b.drv.body = [&] {
    b.gmmu.enable_irq(true, sc_core::SC_ZERO_TIME);
    b.translate(0, kVaNextPage, false);  // slot 0, MSI
    b.translate(0, kVaNoPd0, false);     // ring full: dropped
    writes_after_drop = b.host.writes.size();
    msis_after_drop = b.host.msis.size();
    status_after_drop = b.gmmu.status();
    put_after_drop = b.gmmu.put();
    // The driver consumes the entry, clears the overflow, re-arms, replays.
    b.gmmu.set_get(1);
    b.gmmu.clear_status();
    status_after_clear = b.gmmu.status();
    b.gmmu.ack_irq(sc_core::SC_ZERO_TIME);  // nothing left: no MSI
    msis_after_ack = b.host.msis.size();
    b.gmmu.replay(Gmmu::kAllUtlbs, sc_core::SC_ZERO_TIME);
    b.translate(0, kVaNoPd0, false);  // refault: slot 1, PUT wraps to 0
  };
  sc_core::sc_start();
  EXPECT_EQ(writes_after_drop, 1u);
  EXPECT_EQ(msis_after_drop, 1u);  // the first fault's MSI is still unacknowledged
  EXPECT_EQ(status_after_drop, 1u);
  EXPECT_EQ(put_after_drop, 1u);
  EXPECT_EQ(status_after_clear, 0u);
  EXPECT_EQ(msis_after_ack, 1u);
  EXPECT_EQ(b.gmmu.s_faults_dropped, 1u);
  EXPECT_EQ(b.gmmu.s_faults, 2u);
  ASSERT_EQ(b.host.writes.size(), 2u);
  EXPECT_EQ(b.host.writes[0].addr, kRing);
  EXPECT_EQ(b.host.writes[1].addr, kRing + 32);
  EXPECT_EQ(b.entry(1).va, kVaNoPd0);
  EXPECT_EQ(b.gmmu.put(), 0u);
  EXPECT_EQ(b.host.msis.size(), 2u);
  EXPECT_EQ(b.gmmu.status(), 0u);
}

TEST(Gmmu, OverflowAloneRaisesMsiWhenArmed) {
  Bench b;
  b.gmmu.set_ring(kRing, 2);
  b.gmmu.set_msi(kMsi);
  size_t msis_after_first = 99;
  b.drv.body = [&] {
    b.translate(0, kVaNoPd3, false);  // slot 0; interrupts still off
    b.gmmu.set_get(1);                // consumed, but not acknowledged:
    b.translate(0, kVa, false);       // slot 1 (PUT wraps to 0)
    b.translate(0, kVaNoPd0, false);  // PUT + 1 == GET: dropped, overflow
    msis_after_first = b.host.msis.size();
    b.gmmu.set_get(0);  // driver caught up: ring empty, overflow still set
    b.gmmu.enable_irq(true, sc_time(3, SC_NS));
  };
  sc_core::sc_start();
  EXPECT_EQ(msis_after_first, 0u);
  EXPECT_EQ(b.gmmu.s_faults, 2u);
  EXPECT_EQ(b.gmmu.s_faults_dropped, 1u);
  EXPECT_EQ(b.gmmu.status(), 1u);
  ASSERT_EQ(b.host.msis.size(), 1u);  // overflow is reason enough to interrupt
  EXPECT_EQ(b.host.msis[0].vector, hmmsim::hwref::kMsiVectorFault);
}

TEST(Gmmu, AckIrqResendsMsiWhileEntriesRemain) {
  Bench b;
  b.gmmu.set_ring(kRing, 8);
  b.gmmu.set_msi(kMsi);
  std::vector<uint64_t> expect_times;
  std::vector<size_t> msi_counts;
  sc_time dc;
  b.drv.body = [&] {
    b.translate(0, kVa, false);  // A: interrupts off, no MSI
    msi_counts.push_back(b.host.msis.size());
    b.gmmu.enable_irq(true, sc_time(5, SC_NS));  // entry pending: MSI now
    expect_times.push_back(now_ps() + 5000);
    msi_counts.push_back(b.host.msis.size());
    b.translate(0, kVaNextPage, false);  // B: not re-armed, no MSI
    msi_counts.push_back(b.host.msis.size());
    b.gmmu.ack_irq(sc_time(7, SC_NS));  // A, B unconsumed: MSI again
    expect_times.push_back(now_ps() + 7000);
    msi_counts.push_back(b.host.msis.size());
    b.gmmu.set_get(2);
    b.gmmu.ack_irq(sc_core::SC_ZERO_TIME);  // ring empty: armed, quiet
    msi_counts.push_back(b.host.msis.size());
    const uint64_t t = now_ps();
    b.translate(1, kVa, false, &dc);  // C: armed, MSI at the fault
    expect_times.push_back(t + ps(dc));
    msi_counts.push_back(b.host.msis.size());
    b.gmmu.enable_irq(false, sc_core::SC_ZERO_TIME);
    b.translate(1, kVaNoPd0, false);  // D: interrupts off
    b.gmmu.ack_irq(sc_core::SC_ZERO_TIME);
    msi_counts.push_back(b.host.msis.size());
  };
  sc_core::sc_start();
  EXPECT_EQ(msi_counts, (std::vector<size_t>{0, 1, 1, 2, 2, 3, 3}));
  ASSERT_EQ(b.host.msis.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(b.host.msis[i].vector, hmmsim::hwref::kMsiVectorFault) << i;
    EXPECT_EQ(b.host.msis[i].time_ps, expect_times[i]) << i;
  }
  EXPECT_EQ(b.gmmu.s_msis, 3u);
  EXPECT_EQ(b.gmmu.s_faults, 4u);
}

TEST(Gmmu, PerUtlbFaultLimitDropsWithoutOverflow) {
  GmmuSpec g = plain_gmmu();
  g.max_faults_per_utlb = 2;
  Bench b(g);
  b.gmmu.set_ring(kRing, 8);
  b.drv.body = [&] {
    b.translate(0, kVa, false);
    b.translate(0, kVaNextPage, false);
    b.translate(0, kVaNoPd0, false);  // third page in flight on uTLB 0: dropped
    b.translate(1, kVaNoPd0, false);  // uTLB 1 has its own budget
  };
  sc_core::sc_start();
  EXPECT_EQ(b.gmmu.s_faults, 3u);
  EXPECT_EQ(b.gmmu.s_faults_dropped, 1u);
  EXPECT_EQ(b.gmmu.status(), 0u);
  EXPECT_EQ(b.gmmu.put(), 3u);
  ASSERT_EQ(b.host.writes.size(), 3u);
  EXPECT_EQ(b.entry(2).client, 1u);
  EXPECT_EQ(b.entry(2).va, kVaNoPd0);
}

TEST(Gmmu, SingleWalkerSerialisesConcurrentWalks) {
  GmmuSpec g = plain_gmmu();
  g.walker.walkers = 1;
  Bench b(g);
  b.pt.map(kVa, kPageA, pt::Aperture::Vram, true);
  sc_time d0, d1;
  b.drv.body = [&] {
    // Two uTLBs miss at the same instant; the second walk waits for the walker.
    d0 = d1 = sc_core::SC_ZERO_TIME;
    b.gmmu.translate(0, kVa, Access::Read, d0);
    b.gmmu.translate(1, kVa, Access::Read, d1);
  };
  sc_core::sc_start();
  EXPECT_LE(abs_diff(ps(d0), double(b.cold_walk_ps(5))), 3.0);
  // Walker free at d0; the rows are open by then.
  EXPECT_LE(abs_diff(ps(d1), double(ps(d0) + b.open_walk_ps())), 3.0) << ps(d1) << " vs " << ps(d0) + b.open_walk_ps();
}
