// The test double itself: the driver tests are only as good as the fake's
// copy engine, fault ring and page-table walker.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <vector>

#include "fake_device_bus.h"
#include "hwref/page_table_format.h"

using namespace hmmsim::host;
using hmmsim::test::FakeDeviceBus;
namespace hw = hmmsim::hwref;
namespace bar0 = hmmsim::hwref::bar0;
namespace pt = hmmsim::hwref::pt;

namespace {

void w64(FakeDeviceBus& b, uint64_t lo, uint64_t v) {
  b.mmio_write32(lo, static_cast<uint32_t>(v));
  b.mmio_write32(lo + 4, static_cast<uint32_t>(v >> 32));
}

void copy(FakeDeviceBus& b, hw::CeDir dir, uint64_t src, uint64_t dst, uint32_t len, uint32_t seq) {
  w64(b, bar0::kCeSrcLo, src);
  w64(b, bar0::kCeDstLo, dst);
  b.mmio_write32(bar0::kCeLen, len);
  b.mmio_write32(bar0::kCeDir, static_cast<uint32_t>(dir));
  b.mmio_write32(bar0::kCeDoorbell, seq);
}

}  // namespace

TEST(FakeDeviceBus, RegistersAndTime) {
  PhysMem phys(8);
  FakeDeviceBus b(phys, 64 * kPageSize);
  EXPECT_EQ(b.mmio_read32(bar0::kId), hw::kIdValue);
  b.mmio_write32(bar0::kId, 0);  // read-only
  EXPECT_EQ(b.mmio_read32(bar0::kId), hw::kIdValue);
  w64(b, bar0::kPdbLo, 0x123456789000ull);
  EXPECT_EQ(b.reg64(bar0::kPdbLo), 0x123456789000ull);
  b.mmio_write32(bar0::kReplay, 1);
  b.mmio_write32(bar0::kReplay, 1);
  EXPECT_EQ(b.replays, 2u);
  w64(b, bar0::kCancelVaLo, 0xABC000);
  b.mmio_write32(bar0::kCancelTrigger, 1);
  ASSERT_EQ(b.cancel_log.size(), 1u);
  EXPECT_EQ(b.cancel_log[0], 0xABC000u);
  w64(b, bar0::kTlbInvVaLo, 0x5000);
  b.mmio_write32(bar0::kTlbInvPages, 3);
  b.mmio_write32(bar0::kTlbInvTrigger, 1);
  ASSERT_EQ(b.tlb_log.size(), 1u);
  EXPECT_EQ(b.tlb_log[0].va, 0x5000u);
  EXPECT_EQ(b.tlb_log[0].pages, 3u);
  b.cpu_work(1.5);
  b.cpu_work(1000);
  EXPECT_EQ(b.now_ps(), 1001500u);
  EXPECT_EQ(b.vram_bytes(), 64 * kPageSize);
  EXPECT_EQ(*b.vram_data(100), FakeDeviceBus::kVramPoison);
}

TEST(FakeDeviceBus, CopyEngineDirectionsAndCompletionInterrupts) {
  PhysMem phys(8);
  FakeDeviceBus b(phys, 16 * kPageSize);
  const Pfn a = phys.alloc(), c = phys.alloc(), d = phys.alloc();
  ASSERT_EQ(c, a + 1);
  std::vector<uint8_t> pat(2 * kPageSize);
  for (size_t i = 0; i < pat.size(); ++i) pat[i] = static_cast<uint8_t>(i * 3 + 1);
  phys.write(a, 0, pat.data(), kPageSize);
  phys.write(c, 0, pat.data() + kPageSize, kPageSize);

  // Host -> device across two host frames, landing at an unaligned VRAM offset.
  copy(b, hw::CeDir::HostToDevice, PhysMem::pa(a), 0x1800, 2 * kPageSize, 1);
  EXPECT_EQ(b.pending_irqs(hw::kMsiVectorCopy), 1u);
  EXPECT_EQ(b.reg(bar0::kCeDoneSeq), 1u);
  EXPECT_EQ(std::vector<uint8_t>(b.vram_data(0x1800), b.vram_data(0x1800) + pat.size()), pat);
  EXPECT_EQ(*b.vram_data(0x17FF), FakeDeviceBus::kVramPoison);
  // Device -> device, then device -> host.
  copy(b, hw::CeDir::DeviceToDevice, 0x1800, 0x8000, kPageSize, 2);
  copy(b, hw::CeDir::DeviceToHost, 0x8000, PhysMem::pa(d), kPageSize, 3);
  std::vector<uint8_t> got(kPageSize);
  phys.read(d, 0, got.data(), kPageSize);
  EXPECT_EQ(got, std::vector<uint8_t>(pat.begin(), pat.begin() + kPageSize));
  // Fill zero ignores the source.
  copy(b, hw::CeDir::FillZero, 0xDEAD0000, 0x1800, 16, 4);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(*b.vram_data(0x1800 + i), 0) << i;
  EXPECT_EQ(*b.vram_data(0x1810), pat[16]);
  EXPECT_EQ(b.ce_log.size(), 4u);
  EXPECT_EQ(b.reg(bar0::kCeDoneSeq), 4u);
  // Each completion is one MSI; wait_irq consumes them, one at a time.
  EXPECT_EQ(b.pending_irqs(hw::kMsiVectorCopy), 4u);
  for (int i = 0; i < 4; ++i) b.wait_irq(hw::kMsiVectorCopy);
  EXPECT_EQ(b.pending_irqs(hw::kMsiVectorCopy), 0u);
  EXPECT_NONFATAL_FAILURE(b.wait_irq(hw::kMsiVectorCopy), "no pending interrupt");
  // Copies out of VRAM bounds, or into a free host frame, are reported.
  EXPECT_NONFATAL_FAILURE(copy(b, hw::CeDir::FillZero, 0, 15 * kPageSize, 2 * kPageSize, 5),
                          "bad copy-engine command");
  EXPECT_NONFATAL_FAILURE(
      copy(b, hw::CeDir::DeviceToHost, 0, PhysMem::pa(d + 1), kPageSize, 6), "free/invalid");
}

TEST(FakeDeviceBus, FaultRingEntriesDecode) {
  PhysMem phys(8);
  FakeDeviceBus b(phys, 16 * kPageSize);
  const Pfn ring = phys.alloc();
  w64(b, bar0::kFaultBufBaseLo, PhysMem::pa(ring));
  b.mmio_write32(bar0::kFaultBufEntries, 4);
  b.mmio_write32(bar0::kIntrEnable, hw::kIntrFault);
  b.cpu_work(2);  // 2000 ps
  ASSERT_TRUE(b.push_fault(0x7000123, hw::AccessType::Write, 5));
  ASSERT_TRUE(b.push_fault(0x9000, hw::AccessType::Read, 1));
  ASSERT_TRUE(b.push_fault(0xA000, hw::AccessType::Read, 1));
  EXPECT_FALSE(b.push_fault(0xB000, hw::AccessType::Read, 1));  // full: 4 slots hold 3
  EXPECT_EQ(b.reg(bar0::kFaultBufStatus) & 1, 1u);
  EXPECT_EQ(b.reg(bar0::kFaultBufPut), 3u);
  EXPECT_EQ(b.pending_irqs(hw::kMsiVectorFault), 1u);  // not re-armed yet
  uint8_t raw[hw::kFaultEntryBytes];
  phys.read(ring, 0, raw, sizeof raw);
  const hw::FaultEntry e = hw::decode(raw);
  EXPECT_EQ(e.va, 0x7000000u);
  EXPECT_EQ(e.access, hw::AccessType::Write);
  EXPECT_EQ(e.sm, 5u);
  EXPECT_EQ(e.client, 5u);
  EXPECT_EQ(e.valid, 1u);
  EXPECT_EQ(e.replayable, 1u);
  EXPECT_EQ(e.timestamp_ps, 2000u);
  // Consuming entries frees slots; PUT wraps.
  b.mmio_write32(bar0::kFaultBufGet, 2);
  ASSERT_TRUE(b.push_fault(0xB000, hw::AccessType::Read, 1));
  EXPECT_EQ(b.reg(bar0::kFaultBufPut), 0u);
  phys.read(ring, 3 * hw::kFaultEntryBytes, raw, sizeof raw);
  EXPECT_EQ(hw::decode(raw).va, 0xB000u);
  // Re-arming fires at once while entries remain.
  ASSERT_TRUE(b.take_irq(hw::kMsiVectorFault));
  b.mmio_write32(bar0::kIntrStatus, hw::kIntrFault);
  EXPECT_EQ(b.pending_irqs(hw::kMsiVectorFault), 1u);
}

TEST(FakeDeviceBus, WalkFollowsTheRadixFormat) {
  PhysMem phys(4);
  FakeDeviceBus b(phys, 16 * kPageSize);
  const uint64_t va = (1ull << 47) | (5ull << 38) | (7ull << 29) | (9ull << 21) | (11ull << 12);
  // Tables at frames 1..5; clear them, link, and put a PTE at the leaf.
  std::vector<uint8_t> zero(kPageSize, 0);
  for (uint64_t f = 1; f <= 5; ++f) b.vram_write(f * kPageSize, zero.data(), kPageSize);
  w64(b, bar0::kPdbLo, 1 * kPageSize);
  EXPECT_EQ(b.walk(va), 0u);  // root empty
  auto put = [&](uint64_t pa, uint64_t v) { b.vram_write(pa, &v, 8); };
  put(1 * kPageSize + pt::entry_offset(0, va), pt::make_pde(2 * kPageSize));
  put(2 * kPageSize + pt::entry_offset(1, va), pt::make_pde(3 * kPageSize));
  put(3 * kPageSize + pt::entry_offset(2, va), pt::make_pde(4 * kPageSize));
  // PD0 is dual: a PDE in the big-page half (offset +0) must not be followed.
  put(4 * kPageSize + pt::index(3, va) * 16, pt::make_pde(5 * kPageSize));
  EXPECT_EQ(b.walk(va), 0u);
  put(4 * kPageSize + pt::entry_offset(3, va), pt::make_pde(5 * kPageSize));
  const uint64_t pte = pt::make_pte(0xABCDE000, pt::Aperture::SysCoherent, false);
  put(5 * kPageSize + pt::entry_offset(4, va), pte);
  EXPECT_EQ(b.walk(va), pte);
  EXPECT_EQ(b.walk(va + kPageSize), 0u);
  EXPECT_EQ(b.walk(va ^ (1ull << 21)), 0u);  // a different PD0 entry
}
