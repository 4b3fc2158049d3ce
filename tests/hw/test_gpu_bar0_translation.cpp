// The translation and access-counter registers of BAR0, driven as the
// driver drives them: invalidate scope and acknowledgement, targeted replay
// and cancel, and the access counter unit's ring and interrupt.
#include <gtest/gtest.h>

#include <cstring>

#include "hw/gpu.h"
#include "hwref/access_counter_entry.h"
#include "hwref/gpu_regs.h"
#include "tests/hw/gpu_bench.h"
#include "tests/hw/sc_test_support.h"

using namespace hmmsim::sctest;
using hmmsim::hw::Gmmu;
using sc_core::SC_NS;
using sc_core::sc_time;
namespace pt = hmmsim::hwref::pt;

namespace {
GpuSpec two_sms() {
  GpuSpec s;
  s.sms = 2;
  return s;
}
}  // namespace

TEST(GpuBar0Translation, InvalidateIsAcknowledgedOnlyAfterItsLatency) {
  Bench b;
  uint32_t ack_now = 99, ack_later = 99, ack_second = 99;
  b.drv.body = [&] {
    b.w64(bar0::kTlbInvVaLo, 0x7f0000000000);
    b.w32(bar0::kTlbInvPages, 16);
    b.w32(bar0::kTlbInvScope, hmmsim::hwref::kTlbInvDirectories);
    b.w32(bar0::kTlbInvTrigger, 1);
    ack_now = b.r32(bar0::kTlbInvAck);  // one register access later: still running
    sc_core::wait(sc_time(b.spec.gmmu.invalidate_ns, SC_NS));
    ack_later = b.r32(bar0::kTlbInvAck);
    b.w32(bar0::kTlbInvPages, 0);
    b.w32(bar0::kTlbInvTrigger, 1);
    sc_core::wait(sc_time(b.spec.gmmu.invalidate_ns + 50, SC_NS));
    ack_second = b.r32(bar0::kTlbInvAck);
    b.w32(bar0::kTlbInvAck, 77);  // read-only
  };
  sc_core::sc_start();
  EXPECT_EQ(ack_now, 0u);
  EXPECT_EQ(ack_later, 1u);
  EXPECT_EQ(ack_second, 2u);
  EXPECT_EQ(b.gpu.gmmu().s_invalidates, 2u);
  EXPECT_EQ(b.gpu.gmmu().s_invalidates_full, 1u);
  EXPECT_EQ(b.gpu.gmmu().inv_ack(sc_core::SC_ZERO_TIME), 2u);
}

TEST(GpuBar0Translation, TargetedReplayAndCancelNameTheirUtlb) {
  Bench b(two_sms());
  std::vector<uint64_t> gens;
  bool c0 = false, c1 = true, any0 = false, any1 = false;
  b.drv.body = [&] {
    b.w32(bar0::kReplayClient, 1);
    b.w32(bar0::kReplay, hmmsim::hwref::kReplayTargeted);
    b.w32(bar0::kReplayClient, 7);  // no such uTLB: ignored
    b.w32(bar0::kReplay, hmmsim::hwref::kReplayTargeted);
    gens = {b.gpu.gmmu().replay_gen(0), b.gpu.gmmu().replay_gen(1)};
    b.w32(bar0::kReplay, hmmsim::hwref::kReplayAll);
    gens.push_back(b.gpu.gmmu().replay_gen(0));
    gens.push_back(b.gpu.gmmu().replay_gen(1));
    // A cancel names every uTLB unless the client register says otherwise.
    b.w64(bar0::kCancelVaLo, 0x7f0000001000);
    b.w32(bar0::kCancelTrigger, 1);
    any0 = b.gpu.gmmu().cancelled(0, 0x7f0000001000, 0);
    any1 = b.gpu.gmmu().cancelled(1, 0x7f0000001000, 0);
    b.w32(bar0::kCancelClient, 0);
    b.w64(bar0::kCancelVaLo, 0x7f0000002000);
    b.w32(bar0::kCancelTrigger, 1);
    c0 = b.gpu.gmmu().cancelled(0, 0x7f0000002000, 0);
    c1 = b.gpu.gmmu().cancelled(1, 0x7f0000002000, 0);
  };
  sc_core::sc_start();
  EXPECT_EQ(gens, (std::vector<uint64_t>{0, 1, 1, 2}));
  EXPECT_EQ(b.gpu.gmmu().s_replays, 2u);
  EXPECT_EQ(b.gpu.gmmu().s_replays_targeted, 1u);
  EXPECT_TRUE(any0);
  EXPECT_TRUE(any1);
  EXPECT_TRUE(c0);
  EXPECT_FALSE(c1);
}

TEST(GpuBar0Translation, AccessCounterNotificationsReachTheRingWithAnMsi) {
  Bench b;
  constexpr uint64_t kRing = 0x200000;
  const uint64_t va = 0x7f0000000000;
  uint32_t put = 99, status_bits = 0, put_before = 99;
  b.drv.body = [&] {
    b.w64(bar0::kMsiAddrLo, kMsi);
    b.w64(bar0::kAcBufBaseLo, kRing);
    b.w32(bar0::kAcBufEntries, 8);
    b.w32(bar0::kAcGranularity, 16);  // 64 KiB regions
    b.w32(bar0::kAcThreshold, 3);
    b.w32(bar0::kAcEnable, 1);
    b.w32(bar0::kIntrEnable, hmmsim::hwref::kIntrAccessCounter);
    auto& ac = b.gpu.access_counters();
    for (int i = 0; i < 2; ++i) ac.record(va + 0x1000 * i, pt::Aperture::SysCoherent, 1, sc_core::SC_ZERO_TIME);
    ac.record(va, pt::Aperture::Vram, 1, sc_core::SC_ZERO_TIME);  // VRAM: not counted
    put_before = b.r32(bar0::kAcBufPut);
    ac.record(va + 0x8000, pt::Aperture::SysCoherent, 1, sc_core::SC_ZERO_TIME);  // third: notifies
    b.wait_msis(1);
    put = b.r32(bar0::kAcBufPut);
    status_bits = b.r32(bar0::kIntrStatus);
  };
  sc_core::sc_start();
  EXPECT_EQ(put_before, 0u);
  EXPECT_EQ(put, 1u);
  EXPECT_TRUE(status_bits & hmmsim::hwref::kIntrAccessCounter);
  ASSERT_EQ(b.host.msis.size(), 1u);
  EXPECT_EQ(b.host.msis[0].vector, hmmsim::hwref::kMsiVectorAccessCounter);
  ASSERT_EQ(b.host.writes.size(), 1u);
  EXPECT_EQ(b.host.writes[0].addr, kRing);
  const auto e = hmmsim::hwref::decode_access_counter(b.host.writes[0].data.data());
  EXPECT_EQ(e.va, va);
  EXPECT_EQ(e.count, 3u);
  EXPECT_EQ(e.granularity_log2, 16u);
  EXPECT_EQ(e.valid, 1u);
}
