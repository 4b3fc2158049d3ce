// Access counters: exact notifications of AccessCounterCore for access
// sequences, and the AccessCounters module writing them into a ring in a
// stand-in host memory (entries decoded back, wrap, overflow, MSIs).
#include <gtest/gtest.h>

#include <vector>

#include "hw/access_counters.h"
#include "hwref/access_counter_entry.h"
#include "hwref/access_counter_regs.h"
#include "tests/hw/sc_test_support.h"

using hmmsim::hw::AccessCounterCore;
using hmmsim::hw::AccessCounters;
using hmmsim::hw::AccessCounterSpec;
using hmmsim::hw::AccessNotification;
using hmmsim::hwref::AccessCounterEntry;
using Ap = hmmsim::hwref::pt::Aperture;
using namespace hmmsim::sctest;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

constexpr uint64_t K64 = 64ull << 10, M2 = 2ull << 20;
constexpr uint64_t kBase = 0x7f0000000000ull + 5 * M2;  // a 2 MiB aligned region

AccessCounterSpec spec(uint64_t gran, uint32_t threshold) {
  AccessCounterSpec s;
  s.granularity_bytes = gran;
  s.threshold = threshold;
  return s;
}

// Records `n` single accesses at va; returns the notifications produced.
std::vector<AccessNotification> run(AccessCounterCore& c, uint64_t va, unsigned n, Ap ap = Ap::SysCoherent) {
  std::vector<AccessNotification> out;
  for (unsigned i = 0; i < n; ++i)
    if (auto x = c.record(va, ap)) out.push_back(*x);
  return out;
}

}  // namespace

TEST(AccessCounterSpec, Validate) {
  EXPECT_FALSE(AccessCounterSpec{}.validate());
  EXPECT_EQ(AccessCounterSpec{}.threshold, 256u);
  EXPECT_EQ(AccessCounterSpec{}.granularity_bytes, M2);
  EXPECT_FALSE(spec(K64, 1).validate());
  EXPECT_FALSE(spec(512 << 10, 65535).validate());
  EXPECT_EQ(spec(32 << 10, 4).validate()->key, "granularity");   // below 64 KiB
  EXPECT_EQ(spec(4 << 20, 4).validate()->key, "granularity");    // above 2 MiB: mask would not fit
  EXPECT_EQ(spec(3 * K64, 4).validate()->key, "granularity");    // not a power of two
  EXPECT_EQ(spec(M2, 0).validate()->key, "threshold");
  EXPECT_EQ(spec(M2, 65536).validate()->key, "threshold");
  AccessCounterSpec s;
  s.ring_entries = 1;
  EXPECT_EQ(s.validate()->key, "ring_entries");
  EXPECT_THROW(AccessCounterCore{spec(M2, 0)}, std::invalid_argument);
}

TEST(AccessCounterCore, NotifiesAtThresholdWithTouchedSubRegions) {
  AccessCounterCore c(spec(M2, 4));
  EXPECT_FALSE(c.record(kBase, Ap::SysCoherent));
  EXPECT_FALSE(c.record(kBase + 3 * K64 + 100, Ap::SysNonCoherent));
  EXPECT_FALSE(c.record(kBase + 31 * K64 + 5, Ap::SysCoherent));
  EXPECT_EQ(c.count(kBase + 7), 3u);
  EXPECT_EQ(c.sub_mask(kBase), (1u << 0) | (1u << 3) | (1u << 31));
  auto n = c.record(kBase + 64, Ap::SysCoherent);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->va, kBase);
  EXPECT_EQ(n->count, 4u);
  EXPECT_EQ(n->sub_mask, (1u << 0) | (1u << 3) | (1u << 31));
  // The region restarts: the next notification carries only what came after.
  EXPECT_EQ(c.count(kBase), 0u);
  EXPECT_EQ(c.tracked_regions(), 0u);
  auto next = run(c, kBase + 10 * K64, 4);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].sub_mask, 1u << 10);
  EXPECT_EQ(c.s_notifications, 2u);
  EXPECT_EQ(c.s_accesses, 8u);
}

TEST(AccessCounterCore, ExactNotificationCountsPerRegion) {
  AccessCounterCore c(spec(M2, 256));
  EXPECT_EQ(run(c, kBase, 255).size(), 0u);
  EXPECT_EQ(run(c, kBase + M2, 1000).size(), 3u);  // another region: its own counter (1000 / 256)
  EXPECT_EQ(c.count(kBase + M2), 1000u - 3 * 256);
  EXPECT_EQ(run(c, kBase + M2 - 1, 1).size(), 1u);  // last byte of the first region: the 256th
  EXPECT_EQ(c.tracked_regions(), 1u);
}

TEST(AccessCounterCore, CountsAddedAtOnceReportTheTotal) {
  AccessCounterCore c(spec(M2, 4));
  EXPECT_FALSE(c.record(kBase, Ap::SysCoherent, 3));
  auto n = c.record(kBase + K64, Ap::SysCoherent, 7);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->count, 10u);
  EXPECT_EQ(n->sub_mask, 3u);
}

TEST(AccessCounterCore, VramAndInvalidAperturesNeverCount) {
  AccessCounterCore c(spec(K64, 1));
  EXPECT_EQ(run(c, kBase, 1000, Ap::Vram).size(), 0u);
  EXPECT_EQ(run(c, kBase, 10, Ap::Invalid).size(), 0u);
  EXPECT_EQ(c.tracked_regions(), 0u);
  EXPECT_EQ(c.s_ignored, 1010u);
  EXPECT_EQ(c.s_accesses, 0u);
  EXPECT_EQ(run(c, kBase, 1, Ap::SysCoherent).size(), 1u);  // threshold 1: every sysmem access
}

TEST(AccessCounterCore, GranularityDecidesRegionsAndMaskWidth) {
  AccessCounterCore small(spec(K64, 2));
  // 64 KiB regions: neighbours count separately; the mask is always bit 0.
  EXPECT_FALSE(small.record(kBase, Ap::SysCoherent));
  EXPECT_FALSE(small.record(kBase + K64, Ap::SysCoherent));
  auto n = small.record(kBase + K64 - 1, Ap::SysCoherent);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->va, kBase);
  EXPECT_EQ(n->sub_mask, 1u);
  EXPECT_EQ(small.tracked_regions(), 1u);

  AccessCounterCore mid(spec(256 << 10, 3));  // 4 sub-regions per region
  const uint64_t r = kBase + (512 << 10);
  EXPECT_FALSE(mid.record(r + 3 * K64, Ap::SysCoherent));
  EXPECT_FALSE(mid.record(r + (256 << 10), Ap::SysCoherent));  // next region
  EXPECT_FALSE(mid.record(r + 1 * K64, Ap::SysCoherent));
  n = mid.record(r + 3 * K64 + 9, Ap::SysCoherent);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->va, r);
  EXPECT_EQ(n->sub_mask, 0b1010u);
}

TEST(AccessCounterCore, SparseOverAHugeAddressSpace) {
  AccessCounterCore c(spec(M2, 256));
  for (uint64_t i = 0; i < 1000; ++i) c.record(i << 37, Ap::SysCoherent);  // 128 GiB apart
  EXPECT_EQ(c.tracked_regions(), 1000u);
  EXPECT_EQ(c.count(5ull << 37), 1u);
  EXPECT_EQ(c.count((5ull << 37) + M2), 0u);
}

TEST(AccessCounterCore, ClearForgetsOverlappingRegionsOnly) {
  AccessCounterCore c(spec(M2, 256));
  for (uint64_t r = 0; r < 4; ++r) run(c, kBase + r * M2, 10);
  c.clear(kBase + M2 + 5, M2);  // overlaps regions 1 and 2
  EXPECT_EQ(c.count(kBase), 10u);
  EXPECT_EQ(c.count(kBase + M2), 0u);
  EXPECT_EQ(c.count(kBase + 2 * M2), 0u);
  EXPECT_EQ(c.count(kBase + 3 * M2), 10u);
  c.clear(kBase + 3 * M2, ~0ull);  // runs past 2^64: clamped, regions below stay
  EXPECT_EQ(c.count(kBase + 3 * M2), 0u);
  EXPECT_EQ(c.count(kBase), 10u);
  c.clear(0, ~0ull);  // wider than the map: walks the map
  EXPECT_EQ(c.tracked_regions(), 0u);
  run(c, kBase, 3);
  c.clear_all();
  EXPECT_EQ(c.count(kBase), 0u);
}

TEST(AccessCounterCore, Reconfiguration) {
  AccessCounterCore c(spec(M2, 10));
  run(c, kBase, 6);
  EXPECT_FALSE(c.set_threshold(0));
  EXPECT_TRUE(c.set_threshold(5));
  auto n = c.record(kBase, Ap::SysCoherent);  // already past the new threshold
  ASSERT_TRUE(n);
  EXPECT_EQ(n->count, 7u);
  run(c, kBase, 3);
  EXPECT_FALSE(c.set_granularity(3 * K64));
  EXPECT_EQ(c.count(kBase), 3u);  // refused: unchanged
  EXPECT_TRUE(c.set_granularity(K64));
  EXPECT_EQ(c.tracked_regions(), 0u);
  EXPECT_EQ(c.granularity(), K64);
}

// --- TLM module -----------------------------------------------------------

namespace {

constexpr uint64_t kRing = 0x10000;
constexpr uint64_t kMsi = 0xFEE00000;

struct Bench {
  explicit Bench(uint32_t threshold = 2)
      : ac("ac", spec(M2, threshold)), host("host", 1 << 20, kMsi), drv("drv") {
    ac.host_socket.bind(host.socket);
    ac.set_msi(kMsi);
  }
  AccessCounterEntry entry_at(uint32_t slot) const {
    return hmmsim::hwref::decode_access_counter(&host.mem[kRing + slot * hmmsim::hwref::kAccessCounterEntryBytes]);
  }
  // `n` notifications, one region each (threshold accesses at region i's sub-region i).
  void notify(unsigned first, unsigned n, uint32_t threshold, const sc_time& d) {
    for (unsigned i = first; i < first + n; ++i)
      for (uint32_t k = 0; k < threshold; ++k) ac.record(kBase + i * M2 + (i % 32) * K64, Ap::SysCoherent, 1, d);
  }
  AccessCounters ac;
  HostTarget host;
  Thread drv;
};

}  // namespace

TEST(AccessCounters, EntriesInTheRingDecodeToTheNotifications) {
  Bench b;
  b.drv.body = [&] {
    b.ac.set_ring(kRing, 8);
    b.ac.enable(true);
    sc_core::wait(sc_time(100, SC_NS));
    b.ac.record(kBase + 2 * K64, Ap::SysCoherent, 1, sc_time(5, SC_NS));
    b.ac.record(kBase + 7 * K64, Ap::SysCoherent, 1, sc_time(7, SC_NS));
    b.ac.record(kBase + M2, Ap::Vram, 5, sc_core::SC_ZERO_TIME);  // VRAM: ignored
  };
  sc_core::sc_start();
  ASSERT_EQ(b.host.writes.size(), 1u);
  EXPECT_EQ(b.host.writes[0].addr, kRing);
  EXPECT_EQ(b.host.writes[0].data.size(), 32u);
  EXPECT_EQ(b.host.writes[0].time_ps, ps_of_ns(107));  // posted at the access's time
  const AccessCounterEntry e = b.entry_at(0);
  EXPECT_EQ(e.va, kBase);
  EXPECT_EQ(e.count, 2u);
  EXPECT_EQ(e.sub_mask, (1u << 2) | (1u << 7));
  EXPECT_EQ(e.granularity_log2, 21);
  EXPECT_EQ(e.timestamp_ps, ps_of_ns(107));
  EXPECT_EQ(e.valid, 1);
  EXPECT_EQ(b.ac.put(), 1u);
  EXPECT_TRUE(b.host.msis.empty());  // interrupts not enabled
}

TEST(AccessCounters, RingWrapsAndOverflowDropsAndCounts) {
  Bench b;
  b.drv.body = [&] {
    b.ac.set_ring(kRing, 4);  // 3 usable slots
    b.ac.enable(true);
    b.ac.enable_irq(true, sc_core::SC_ZERO_TIME);
    b.notify(0, 5, 2, sc_core::SC_ZERO_TIME);  // 3 written, 2 dropped
    EXPECT_EQ(b.ac.put(), 3u);
    EXPECT_EQ(b.ac.status(), 1u);
    // The driver consumes all three and acknowledges; the next ones wrap.
    b.ac.set_get(3);
    b.ac.clear_status();
    b.ac.ack_irq(sc_core::SC_ZERO_TIME);
    b.notify(5, 2, 2, sc_core::SC_ZERO_TIME);
  };
  sc_core::sc_start();
  EXPECT_EQ(b.ac.s_written, 5u);
  EXPECT_EQ(b.ac.s_dropped, 2u);
  EXPECT_EQ(b.ac.status(), 0u);
  EXPECT_EQ(b.ac.put(), 1u);  // 3 -> 0 -> 1
  ASSERT_EQ(b.host.writes.size(), 5u);
  const uint64_t slots[5] = {0, 1, 2, 3, 0};
  for (unsigned i = 0; i < 5; ++i) EXPECT_EQ(b.host.writes[i].addr, kRing + slots[i] * 32) << i;
  // Slot 3 holds notification 5 (regions 3 and 4 were dropped), slot 0 notification 6.
  EXPECT_EQ(b.entry_at(3).va, kBase + 5 * M2);
  EXPECT_EQ(b.entry_at(3).sub_mask, 1u << 5);
  EXPECT_EQ(b.entry_at(0).va, kBase + 6 * M2);
  EXPECT_EQ(b.entry_at(1).va, kBase + 1 * M2);
  // One MSI per acknowledgement, with the access counter vector.
  ASSERT_EQ(b.host.msis.size(), 2u);
  EXPECT_EQ(b.host.msis[0].vector, hmmsim::hwref::kMsiVectorAccessCounter);
  EXPECT_EQ(b.host.msis[1].vector, 2u);
}

TEST(AccessCounters, AckRefiresWhileEntriesRemain) {
  Bench b;
  b.drv.body = [&] {
    b.ac.set_ring(kRing, 8);
    b.ac.enable(true);
    b.notify(0, 1, 2, sc_core::SC_ZERO_TIME);
    b.ac.enable_irq(true, sc_time(10, SC_NS));  // entry pending: fires at once
    b.ac.ack_irq(sc_time(20, SC_NS));           // still pending: fires again
    b.ac.set_get(1);
    b.ac.ack_irq(sc_time(30, SC_NS));  // drained: silent
  };
  sc_core::sc_start();
  ASSERT_EQ(b.host.msis.size(), 2u);
  EXPECT_EQ(b.host.msis[0].time_ps, ps_of_ns(10));
  EXPECT_EQ(b.host.msis[1].time_ps, ps_of_ns(20));
  EXPECT_FALSE(b.ac.irq_latched());  // the last acknowledgement found nothing pending
}

TEST(AccessCounters, DisabledCountsNothingAndRegistersReconfigure) {
  Bench b(4);
  b.drv.body = [&] {
    b.ac.set_ring(kRing, 8);
    b.notify(0, 1, 4, sc_core::SC_ZERO_TIME);  // disabled: not even counted
    EXPECT_EQ(b.ac.core().tracked_regions(), 0u);
    b.ac.enable(true);
    EXPECT_FALSE(b.ac.set_granularity_log2(22));
    EXPECT_FALSE(b.ac.set_granularity_log2(15));
    EXPECT_TRUE(b.ac.set_granularity_log2(16));  // 64 KiB regions
    EXPECT_TRUE(b.ac.set_threshold(1));
    b.ac.record(kBase + 3 * K64 + 1, Ap::SysCoherent, 1, sc_core::SC_ZERO_TIME);
    b.ac.set_threshold(3);
    b.ac.record(kBase, Ap::SysCoherent, 1, sc_core::SC_ZERO_TIME);
    b.ac.clear(kBase, K64);
    b.ac.record(kBase, Ap::SysCoherent, 2, sc_core::SC_ZERO_TIME);  // 2 after the clear: below 3
  };
  sc_core::sc_start();
  ASSERT_EQ(b.host.writes.size(), 1u);
  const AccessCounterEntry e = b.entry_at(0);
  EXPECT_EQ(e.va, kBase + 3 * K64);
  EXPECT_EQ(e.count, 1u);
  EXPECT_EQ(e.sub_mask, 1u);
  EXPECT_EQ(e.granularity_log2, 16);
  EXPECT_EQ(b.ac.core().count(kBase), 2u);
}

TEST(AccessCounterEntry, EncodeDecodeRoundTripAndLayout) {
  AccessCounterEntry e;
  e.va = 0x1122334455667788ull;
  e.timestamp_ps = 0x0102030405060708ull;
  e.count = 0xA1B2C3D4;
  e.sub_mask = 0x80000001;
  e.granularity_log2 = 18;
  e.valid = 1;
  uint8_t raw[hmmsim::hwref::kAccessCounterEntryBytes];
  hmmsim::hwref::encode(e, raw);
  EXPECT_EQ(raw[0], 0x88);   // little endian
  EXPECT_EQ(raw[16], 0xD4);
  EXPECT_EQ(raw[23], 0x80);
  EXPECT_EQ(raw[24], 18);
  EXPECT_EQ(raw[31], 1);
  const AccessCounterEntry d = hmmsim::hwref::decode_access_counter(raw);
  EXPECT_EQ(d.va, e.va);
  EXPECT_EQ(d.timestamp_ps, e.timestamp_ps);
  EXPECT_EQ(d.count, e.count);
  EXPECT_EQ(d.sub_mask, e.sub_mask);
  EXPECT_EQ(d.granularity_log2, e.granularity_log2);
  EXPECT_EQ(d.valid, 1);
}

TEST(AccessCounterRegs, FitTheFreeWindow) {
  namespace bar0 = hmmsim::hwref::bar0;
  for (uint64_t r : {bar0::kAcBufBaseLo, bar0::kAcBufBaseHi, bar0::kAcBufEntries, bar0::kAcBufGet, bar0::kAcBufPut,
                     bar0::kAcStatus, bar0::kAcGranularity, bar0::kAcThreshold, bar0::kAcEnable, bar0::kAcClearVaLo,
                     bar0::kAcClearVaHi, bar0::kAcClearLenLo, bar0::kAcClearLenHi, bar0::kAcClear, bar0::kAcDropped}) {
    EXPECT_GE(r, 0x200u);
    EXPECT_LE(r, 0x23Cu);
    EXPECT_EQ(r % 4, 0u);
  }
}
