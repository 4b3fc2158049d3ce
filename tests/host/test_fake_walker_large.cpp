// The test double's walker on hand-written tables: the GMMU's precedence
// (2 MiB PTE in PD0 word 0, else a valid 64 KiB PTE, else the 4 KiB PTE),
// its read counts, and the fake's invalidate acknowledgement.
#include <gtest/gtest.h>

#include <vector>

#include "fake_device_bus.h"
#include "hwref/page_table_format.h"

using namespace hmmsim::host;
using hmmsim::test::FakeDeviceBus;
namespace hw = hmmsim::hwref;
namespace bar0 = hmmsim::hwref::bar0;
namespace pt = hmmsim::hwref::pt;
using Ap = pt::Aperture;

namespace {

constexpr uint64_t F = kPageSize;
// PD3 1, PD2 5, PD1 7, PD0 9; 64 KiB group 3, 4 KiB page 0x37 of the range.
constexpr uint64_t kVa = (1ull << 47) | (5ull << 38) | (7ull << 29) | (9ull << 21) | (0x37ull << 12) | 0x123;

struct Tables {
  PhysMem phys{4};
  FakeDeviceBus b{phys, 32 * F};
  // Root 1, PD2 2, PD1 3, PD0 4, PT 5, PT64 6 (frames).
  Tables() {
    std::vector<uint8_t> zero(F, 0);
    for (uint64_t f = 1; f <= 6; ++f) b.vram_write(f * F, zero.data(), F);
    b.mmio_write32(bar0::kPdbLo, 1 * F);
    put(1 * F + pt::entry_offset(0, kVa), pt::make_pde(2 * F));
    put(2 * F + pt::entry_offset(1, kVa), pt::make_pde(3 * F));
    put(3 * F + pt::entry_offset(2, kVa), pt::make_pde(4 * F));
  }
  void put(uint64_t pa, uint64_t v) { b.vram_write(pa, &v, 8); }
  void word0(uint64_t v) { put(4 * F + pt::pd0_offset(kVa), v); }
  void word1(uint64_t v) { put(4 * F + pt::pd0_offset(kVa) + 8, v); }
  void pte4k(uint64_t v) { put(5 * F + pt::entry_offset(4, kVa), v); }
  void pte64k(uint64_t v) { put(6 * F + pt::big_pte_offset(kVa), v); }
};

}  // namespace

TEST(FakeWalkerLarge, PrecedenceAndReads) {
  Tables t;
  auto w = t.b.walk_info(kVa);
  EXPECT_FALSE(w.valid());
  EXPECT_EQ(w.reads, 4u) << "PD0 empty: InvalidPde after 4 reads";

  t.word1(pt::make_pde(5 * F));
  t.pte4k(pt::make_pte(0x9000, Ap::Vram, true));
  w = t.b.walk_info(kVa);
  EXPECT_EQ(w.shift, 12u);
  EXPECT_EQ(w.pa, 0x9000u);
  EXPECT_EQ(w.reads, 5u);
  EXPECT_EQ(t.b.walk(kVa), pt::make_pte(0x9000, Ap::Vram, true));

  // A 64 KiB table with an invalid entry: fall through to 4 KiB, 6 reads.
  t.word0(pt::make_pde(6 * F));
  w = t.b.walk_info(kVa);
  EXPECT_EQ(w.shift, 12u);
  EXPECT_EQ(w.reads, 6u);

  // A valid 64 KiB PTE hides the 4 KiB one; the page's PA is its offset in it.
  t.pte64k(pt::make_pte(0x40000, Ap::SysCoherent, false, false));
  w = t.b.walk_info(kVa);
  EXPECT_EQ(w.shift, 16u);
  EXPECT_EQ(w.leaf, pt::make_pte(0x40000, Ap::SysCoherent, false, false));
  EXPECT_EQ(w.pa, 0x40000u + 0x7000);  // VA[15:12] = 7
  EXPECT_EQ(w.reads, 5u);
  EXPECT_EQ(t.b.walk(kVa), pt::make_pte(0x47000, Ap::SysCoherent, false, false));

  // A 2 MiB PTE in word 0 wins over everything, in 4 reads.
  t.word0(pt::make_pte(0x600000, Ap::Vram, true));
  w = t.b.walk_info(kVa);
  EXPECT_EQ(w.shift, 21u);
  EXPECT_EQ(w.pa, 0x600000u + 0x37000);
  EXPECT_EQ(w.reads, 4u);
  EXPECT_EQ(t.b.walk(kVa), pt::make_pte(0x637000, Ap::Vram, true));
}

TEST(FakeWalkerLarge, LargePteAddressIsMaskedToItsSize) {
  Tables t;
  t.word1(pt::make_pde(5 * F));
  t.word0(pt::make_pde(6 * F));
  t.pte64k(pt::make_pte(0x4B000, Ap::Vram, true));  // low bits below 64 KiB ignored
  EXPECT_EQ(t.b.walk_info(kVa).pa, 0x47000u);
  t.word0(pt::make_pte(0x6FF000, Ap::Vram, true));
  EXPECT_EQ(t.b.walk_info(kVa).pa, 0x637000u);
}

TEST(FakeWalkerLarge, SixtyFourKiBTableWithoutAFourKiBTable) {
  Tables t;
  t.word0(pt::make_pde(6 * F));
  auto w = t.b.walk_info(kVa);
  EXPECT_FALSE(w.valid());
  EXPECT_EQ(w.reads, 5u);
  t.pte64k(pt::make_pte(0x80000, Ap::Vram, true));
  w = t.b.walk_info(kVa);
  EXPECT_EQ(w.shift, 16u);
  EXPECT_EQ(w.pa, 0x87000u);
  // Another group of the same range: invalid 64 KiB entry, no 4 KiB table.
  EXPECT_EQ(t.b.walk(kVa + 0x10000), 0u);
}

TEST(FakeWalkerLarge, InvalidateAcknowledgement) {
  Tables t;
  EXPECT_EQ(t.b.mmio_read32(bar0::kTlbInvAck), 0u);
  t.b.mmio_write32(bar0::kTlbInvScope, hw::kTlbInvDirectories);
  t.b.mmio_write32(bar0::kTlbInvTrigger, 1);
  ASSERT_EQ(t.b.tlb_log.size(), 1u);
  EXPECT_TRUE(t.b.tlb_log[0].directories);
  EXPECT_EQ(t.b.mmio_read32(bar0::kTlbInvAck), 1u);
  t.b.tlb_ack_lag_reads = 2;
  t.b.mmio_write32(bar0::kTlbInvScope, 0);
  t.b.mmio_write32(bar0::kTlbInvTrigger, 1);
  t.b.mmio_write32(bar0::kTlbInvTrigger, 1);
  EXPECT_FALSE(t.b.tlb_log[2].directories);
  EXPECT_EQ(t.b.mmio_read32(bar0::kTlbInvAck), 1u);
  EXPECT_EQ(t.b.mmio_read32(bar0::kTlbInvAck), 1u);
  EXPECT_EQ(t.b.mmio_read32(bar0::kTlbInvAck), 3u);
  EXPECT_EQ(t.b.mmio_read32(bar0::kTlbInvAck), 3u);
  size_t acks = 0;
  for (const auto& r : t.b.mmio_read_log) acks += r.offset == bar0::kTlbInvAck;
  EXPECT_EQ(acks, 6u);
}
