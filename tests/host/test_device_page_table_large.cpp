// DevicePageTable's large pages: a 64 KiB PTE in the range's 64 KiB table
// (linked from PD0 word 0) over 16 contiguous, aligned, identical 4 KiB
// mappings, a 2 MiB PTE in PD0 word 0 over 32 contiguous 64 KiB ones, and
// their demotion. Checked on the bytes in VRAM and with the fake's walker,
// which follows the GMMU's precedence (2 MiB, else 64 KiB, else 4 KiB).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "fake_device_bus.h"
#include "host/gpu_driver/device_page_table.h"
#include "host/gpu_driver/vram_allocator.h"
#include "hwref/page_table_format.h"

using namespace hmmsim::host;
using hmmsim::test::FakeDeviceBus;
namespace bar0 = hmmsim::hwref::bar0;
namespace pt = hmmsim::hwref::pt;
using Ap = pt::Aperture;

namespace {

constexpr uint64_t F = kPageSize;
constexpr uint64_t k64K = 64ull << 10;
constexpr uint64_t k2M = 2ull << 20;
// A 2 MiB range with distinct indices: PD3 1, PD2 5, PD1 7, PD0 9.
constexpr uint64_t kR = (1ull << 47) | (5ull << 38) | (7ull << 29) | (9ull << 21);
// Tables in allocation order: root, PD2, PD1, PD0, PT, then the 64 KiB table.
constexpr uint64_t kRoot = 0x0, kPd2 = 0x1000, kPd1 = 0x2000, kPd0 = 0x3000, kPt = 0x4000, kPt64 = 0x5000;
constexpr uint64_t kWord0 = kPd0 + 9 * 16;  // PD0 dual entry of kR, word 0
constexpr uint64_t kData = 0x800000;        // 2 MiB aligned data frames (not allocated: free-form PAs)
constexpr uint64_t kVram = 16ull << 20;

uint64_t va(uint64_t page) { return kR + page * F; }

struct PtRig {
  explicit PtRig(uint64_t vram_bytes = kVram) : bus(phys, kVram), vram(vram_bytes), t(bus, vram) {
    EXPECT_TRUE(t.init());
    bus.mmio_write32(bar0::kPdbLo, static_cast<uint32_t>(t.root_pa()));
    bus.mmio_write32(bar0::kPdbHi, 0);
  }
  uint64_t u64(uint64_t pa) const { return bus.vram_u64(pa); }
  uint64_t word0() const { return u64(kWord0); }
  uint64_t pt64(unsigned g) const { return u64(kPt64 + g * 8); }
  // Maps pages [first, first + n) to pa, pa + 4 KiB, ...
  void map_run(uint64_t first, uint64_t n, uint64_t pa, Ap ap = Ap::Vram, bool w = true, bool atomic = true) {
    for (uint64_t k = 0; k < n; ++k) ASSERT_TRUE(t.map(va(first + k), pa + k * F, ap, w, atomic)) << k;
  }

  PhysMem phys{4};
  FakeDeviceBus bus;
  VramAllocator vram;
  DevicePageTable t;
};

}  // namespace

TEST(DevicePageTableLarge, FormatOffsets) {
  EXPECT_EQ(pt::pd0_offset(kR), 9u * 16);
  EXPECT_EQ(pt::entry_offset(pt::kPd0, kR), 9u * 16 + 8);  // 4 KiB half
  EXPECT_EQ(pt::big_pte_offset(kR + 5 * k64K + 7 * F), 5u * 8);
  EXPECT_EQ(pt::big_pte_offset(kR + k2M - 1), 31u * 8);
  EXPECT_EQ(pt::kBigTableBytes, 256u);
  EXPECT_EQ(pt::make_pde(kPt64), 0x5002u);
  EXPECT_EQ(pt::make_pte(kData, Ap::Vram, true), 0x800003u);
  EXPECT_EQ(pt::make_pte(0x40000000, Ap::SysCoherent, false, false), 0x400000C5u);
  EXPECT_TRUE(pt::pd0_is_pte(0x800003));
  EXPECT_FALSE(pt::pd0_is_pte(0x5002));
}

TEST(DevicePageTableLarge, SixteenContiguousPagesGetA64KiBPte) {
  PtRig r;
  EXPECT_FALSE(r.t.take_directories_changed());
  r.map_run(80, 15, kData);  // group 5 (pages 80..95), all but the last
  EXPECT_FALSE(r.t.take_directories_changed()) << "new tables linked under empty entries are no change";
  EXPECT_EQ(r.word0(), 0u);
  EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 0u);
  EXPECT_EQ(r.t.s_tables, 5u);
  r.map_run(95, 1, kData + 15 * F);

  // PD0: word 0 links the new 64 KiB table, word 1 still the 4 KiB one.
  EXPECT_EQ(r.word0(), 0x5002u);
  EXPECT_EQ(r.u64(kWord0 + 8), 0x4002u);
  EXPECT_EQ(r.u64(kRoot + pt::entry_offset(0, kR)), pt::make_pde(kPd2));
  EXPECT_EQ(r.u64(kPd2 + pt::entry_offset(1, kR)), pt::make_pde(kPd1));
  EXPECT_EQ(r.u64(kPd1 + pt::entry_offset(2, kR)), pt::make_pde(kPd0));
  // PT64: entry 5 is the first page's PTE, the other 31 are cleared.
  for (unsigned g = 0; g < 32; ++g) EXPECT_EQ(r.pt64(g), g == 5 ? 0x800003u : 0u) << g;
  // The 4 KiB PTEs stay underneath.
  for (uint64_t k = 0; k < 16; ++k) EXPECT_EQ(r.u64(kPt + (80 + k) * 8), 0x800003u + k * F) << k;
  EXPECT_TRUE(r.t.take_directories_changed());
  EXPECT_FALSE(r.t.take_directories_changed()) << "reported once";
  EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 16u);
  EXPECT_EQ(r.t.big_mapped_in(kR + 5 * k64K, kR + 6 * k64K), 16u);
  EXPECT_EQ(r.t.huge_mapped_in(kR, kR + k2M), 0u);
  EXPECT_EQ(r.t.mapped_in(kR, kR + k2M), 16u);
  EXPECT_EQ(r.t.s_tables, 6u);
  EXPECT_EQ(r.t.s_big_pte_writes, 1u);
  EXPECT_EQ(r.t.s_huge_pte_writes, 0u);
  EXPECT_EQ(r.t.s_pte_writes, 16u);
  EXPECT_EQ(r.vram.free_frames(), kVram / F - 6);

  // The walker: a 64 KiB page in 5 reads.
  for (uint64_t k = 0; k < 16; ++k) {
    const auto w = r.bus.walk_info(va(80 + k));
    EXPECT_EQ(w.shift, 16u) << k;
    EXPECT_EQ(w.leaf, 0x800003u) << k;
    EXPECT_EQ(w.pa, kData + k * F) << k;
    EXPECT_EQ(w.reads, 5u) << k;
    EXPECT_EQ(r.bus.walk(va(80 + k)), 0x800003u + k * F) << k;
  }
  // A page outside the group: 64 KiB entry invalid, then the 4 KiB table.
  const auto miss = r.bus.walk_info(va(96));
  EXPECT_FALSE(miss.valid());
  EXPECT_EQ(miss.reads, 6u);
}

TEST(DevicePageTableLarge, MappingOrderDoesNotMatter) {
  std::vector<uint64_t> order(16);
  for (uint64_t k = 0; k < 16; ++k) order[k] = k;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  PtRig r;
  for (uint64_t k : order) ASSERT_TRUE(r.t.map(va(32 + k), kData + 0x30000 + k * F, Ap::Vram, true));
  EXPECT_EQ(r.word0(), 0x5002u);
  EXPECT_EQ(r.pt64(2), kData + 0x30000 + 3);
  EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 16u);
  EXPECT_EQ(r.t.s_big_pte_writes, 1u);
}

TEST(DevicePageTableLarge, FurtherGroupsOnlyWriteThe64KiBTable) {
  PtRig r;
  r.map_run(80, 16, kData);
  ASSERT_TRUE(r.t.take_directories_changed());
  r.map_run(96, 16, kData + 0x10000);
  EXPECT_EQ(r.pt64(6), 0x810003u);
  EXPECT_FALSE(r.t.take_directories_changed()) << "PD0 did not change";
  EXPECT_EQ(r.t.s_tables, 6u);
  EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 32u);
  // A lone 4 KiB page in a range with a 64 KiB table: 6 reads.
  r.map_run(3, 1, 0x123000);
  const auto w = r.bus.walk_info(va(3));
  EXPECT_EQ(w.shift, 12u);
  EXPECT_EQ(w.pa, 0x123000u);
  EXPECT_EQ(w.reads, 6u);
}

TEST(DevicePageTableLarge, NoPromotionUnlessAlignedContiguousAndIdentical) {
  struct Case {
    const char* name;
    void (*map)(PtRig&);
  };
  const Case cases[] = {
      {"15 pages", [](PtRig& r) { r.map_run(0, 15, kData); }},
      {"PA not 64 KiB aligned", [](PtRig& r) { r.map_run(0, 16, kData + F); }},
      {"PA 32 KiB aligned", [](PtRig& r) { r.map_run(0, 16, kData + 0x8000); }},
      {"gap in PA",
       [](PtRig& r) {
         r.map_run(0, 9, kData);
         r.map_run(9, 7, kData + 10 * F);
       }},
      {"descending PA",
       [](PtRig& r) {
         for (uint64_t k = 0; k < 16; ++k) ASSERT_TRUE(r.t.map(va(k), kData + (15 - k) * F, Ap::Vram, true));
       }},
      {"read-only page inside",
       [](PtRig& r) {
         r.map_run(0, 7, kData);
         r.map_run(7, 1, kData + 7 * F, Ap::Vram, false);
         r.map_run(8, 8, kData + 8 * F);
       }},
      {"atomic-disabled page inside",
       [](PtRig& r) {
         r.map_run(0, 15, kData);
         r.map_run(15, 1, kData + 15 * F, Ap::Vram, true, false);
       }},
      {"aperture differs",
       [](PtRig& r) {
         r.map_run(0, 3, kData);
         r.map_run(3, 1, kData + 3 * F, Ap::SysCoherent);
         r.map_run(4, 12, kData + 4 * F);
       }},
      {"group straddles two 64 KiB ranges", [](PtRig& r) { r.map_run(8, 16, kData); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PtRig r;
    c.map(r);
    EXPECT_EQ(r.word0(), 0u);
    EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 0u);
    EXPECT_EQ(r.t.huge_mapped_in(kR, kR + k2M), 0u);
    EXPECT_FALSE(r.t.take_directories_changed());
    EXPECT_EQ(r.t.s_tables, 5u);
    EXPECT_EQ(r.t.s_big_pte_writes, 0u);
    const auto w = r.bus.walk_info(va(9));
    EXPECT_EQ(w.shift, 12u);
    EXPECT_EQ(w.reads, 5u);
    EXPECT_EQ(w.pa, pt::address(r.t.pte(va(9))));
  }
}

TEST(DevicePageTableLarge, IdenticalUnusualAttributesStillPromote) {
  PtRig r;
  // Read-only, atomic-disabled system memory, contiguous and aligned.
  r.map_run(16, 16, 0x40000000, Ap::SysCoherent, false, false);
  EXPECT_EQ(r.pt64(1), 0x400000C5u);
  const auto w = r.bus.walk_info(va(20));
  EXPECT_EQ(w.shift, 16u);
  EXPECT_EQ(w.pa, 0x40004000u);
  EXPECT_EQ(r.bus.walk(va(20)), pt::make_pte(0x40004000, Ap::SysCoherent, false, false));
}

TEST(DevicePageTableLarge, UnmapDemotesThe64KiBPteAndRemapPromotesAgain) {
  PtRig r;
  r.map_run(80, 16, kData);
  ASSERT_TRUE(r.t.take_directories_changed());
  EXPECT_TRUE(r.t.unmap(va(83)));
  EXPECT_EQ(r.pt64(5), 0u);
  EXPECT_EQ(r.word0(), 0x5002u) << "the 64 KiB table stays linked";
  EXPECT_EQ(r.u64(kPt + 83 * 8), 0u);
  EXPECT_FALSE(r.t.take_directories_changed()) << "only a PT64 entry changed";
  EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 0u);
  EXPECT_EQ(r.bus.walk(va(83)), 0u);
  const auto w = r.bus.walk_info(va(84));
  EXPECT_EQ(w.shift, 12u);
  EXPECT_EQ(w.pa, kData + 4 * F);
  EXPECT_EQ(w.reads, 6u);
  EXPECT_FALSE(r.t.unmap(va(83)));
  EXPECT_EQ(r.t.s_big_pte_writes, 2u);

  r.map_run(83, 1, kData + 3 * F);
  EXPECT_EQ(r.pt64(5), 0x800003u);
  EXPECT_FALSE(r.t.take_directories_changed());
  EXPECT_EQ(r.t.s_tables, 6u) << "the table is reused";
  EXPECT_EQ(r.t.s_big_pte_writes, 3u);
  EXPECT_EQ(r.bus.walk_info(va(83)).shift, 16u);
}

TEST(DevicePageTableLarge, RemapThatBreaksTheGroupDemotes) {
  PtRig r;
  r.map_run(80, 16, kData);
  r.map_run(85, 1, kData + 5 * F, Ap::Vram, false);  // now read-only
  EXPECT_EQ(r.pt64(5), 0u);
  EXPECT_EQ(r.bus.walk(va(85)), pt::make_pte(kData + 5 * F, Ap::Vram, false));
  EXPECT_EQ(r.t.mapped_in(kR, kR + k2M), 16u);
  r.map_run(85, 1, kData + 5 * F);  // writable again
  EXPECT_EQ(r.pt64(5), 0x800003u);
  r.map_run(85, 1, 0x200000);  // elsewhere
  EXPECT_EQ(r.pt64(5), 0u);
  EXPECT_EQ(r.bus.walk(va(85)), pt::make_pte(0x200000, Ap::Vram, true));
  EXPECT_EQ(r.bus.walk_info(va(86)).shift, 12u);
  // The whole group moved as one: big again, at the new PA.
  r.map_run(80, 16, 0x200000 - 5 * F);
  EXPECT_EQ(r.pt64(5), 0u) << "0x1FB000 is not 64 KiB aligned";
  r.map_run(80, 16, 0x300000);
  EXPECT_EQ(r.pt64(5), 0x300003u);
}

TEST(DevicePageTableLarge, FullRangeGetsA2MiBPteInPd0) {
  PtRig r;
  r.map_run(0, 16, kData);
  EXPECT_TRUE(r.t.take_directories_changed());  // the 64 KiB table got linked
  r.map_run(16, 495, kData + 16 * F);             // all but the last page
  EXPECT_FALSE(r.t.take_directories_changed());
  EXPECT_EQ(r.word0(), 0x5002u);
  EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 496u);
  EXPECT_EQ(r.t.huge_mapped_in(kR, kR + k2M), 0u);
  r.map_run(511, 1, kData + 511 * F);

  EXPECT_EQ(r.word0(), 0x800003u);  // the 2 MiB PTE replaces the table link
  EXPECT_EQ(r.u64(kWord0 + 8), 0x4002u);
  for (unsigned g = 0; g < 32; ++g) EXPECT_EQ(r.pt64(g), 0x800003u + g * k64K) << g;
  EXPECT_TRUE(r.t.take_directories_changed());
  EXPECT_EQ(r.t.huge_mapped_in(kR, kR + k2M), 512u);
  EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 512u);
  EXPECT_EQ(r.t.s_huge_pte_writes, 1u);
  EXPECT_EQ(r.t.s_big_pte_writes, 32u);
  EXPECT_EQ(r.t.s_tables, 6u);
  for (uint64_t page : {0, 17, 0x1AB, 511}) {
    const auto w = r.bus.walk_info(va(page));
    EXPECT_EQ(w.shift, 21u) << page;
    EXPECT_EQ(w.leaf, 0x800003u) << page;
    EXPECT_EQ(w.pa, kData + page * F) << page;
    EXPECT_EQ(w.reads, 4u) << page;
  }
  // The next 2 MiB range is untouched.
  EXPECT_EQ(r.u64(kWord0 + 16), 0u);
  EXPECT_EQ(r.bus.walk(kR + k2M), 0u);
}

TEST(DevicePageTableLarge, UnmapDemotes2MiBAndRestoresThe64KiBTableLink) {
  PtRig r;
  r.map_run(0, 512, kData);
  ASSERT_TRUE(r.t.take_directories_changed());
  EXPECT_TRUE(r.t.unmap(va(100)));  // group 6
  EXPECT_EQ(r.word0(), 0x5002u);
  EXPECT_TRUE(r.t.take_directories_changed());
  for (unsigned g = 0; g < 32; ++g) EXPECT_EQ(r.pt64(g), g == 6 ? 0u : 0x800003u + g * k64K) << g;
  EXPECT_EQ(r.u64(kPt + 100 * 8), 0u);
  EXPECT_EQ(r.t.huge_mapped_in(kR, kR + k2M), 0u);
  EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 496u);
  EXPECT_EQ(r.bus.walk(va(100)), 0u);
  auto w = r.bus.walk_info(va(101));
  EXPECT_EQ(w.shift, 12u);
  EXPECT_EQ(w.reads, 6u);
  EXPECT_EQ(w.pa, kData + 101 * F);
  w = r.bus.walk_info(va(0));
  EXPECT_EQ(w.shift, 16u);
  EXPECT_EQ(w.reads, 5u);

  r.map_run(100, 1, kData + 100 * F);
  EXPECT_EQ(r.word0(), 0x800003u);
  EXPECT_TRUE(r.t.take_directories_changed());
  EXPECT_EQ(r.t.s_huge_pte_writes, 2u);
  EXPECT_EQ(r.t.s_tables, 6u);
}

TEST(DevicePageTableLarge, RemapThatBreaksAttributesDemotes2MiB) {
  PtRig r;
  r.map_run(0, 512, kData);
  ASSERT_TRUE(r.t.take_directories_changed());
  r.map_run(0, 1, kData, Ap::Vram, false);
  EXPECT_EQ(r.word0(), 0x5002u);
  EXPECT_TRUE(r.t.take_directories_changed());
  EXPECT_EQ(r.pt64(0), 0u);
  EXPECT_EQ(r.bus.walk(va(0)), pt::make_pte(kData, Ap::Vram, false));
  EXPECT_EQ(r.bus.walk_info(va(16)).shift, 16u);
  EXPECT_EQ(r.t.huge_mapped_in(kR, kR + k2M), 0u);
}

TEST(DevicePageTableLarge, No2MiBPteUnlessThe32GroupsAreContiguousFromA2MiBBoundary) {
  {
    SCOPED_TRACE("64 KiB but not 2 MiB aligned");
    PtRig r;
    r.map_run(0, 512, kData + k64K);
    EXPECT_EQ(r.word0(), 0x5002u);
    EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 512u);
    EXPECT_EQ(r.t.huge_mapped_in(kR, kR + k2M), 0u);
    EXPECT_EQ(r.bus.walk_info(va(300)).shift, 16u);
    EXPECT_EQ(r.bus.walk_info(va(300)).pa, kData + k64K + 300 * F);
  }
  {
    SCOPED_TRACE("groups 3 and 4 swapped");
    PtRig r;
    r.map_run(0, 48, kData);
    r.map_run(48, 16, kData + 4 * k64K);
    r.map_run(64, 16, kData + 3 * k64K);
    r.map_run(80, 432, kData + 5 * k64K);
    EXPECT_EQ(r.word0(), 0x5002u);
    EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 512u);
    EXPECT_EQ(r.t.huge_mapped_in(kR, kR + k2M), 0u);
    EXPECT_EQ(r.pt64(3), kData + 4 * k64K + 3);
  }
  {
    SCOPED_TRACE("one read-only page");
    PtRig r;
    r.map_run(0, 512, kData);
    ASSERT_EQ(r.word0(), 0x800003u);
    PtRig q;
    q.map_run(0, 300, kData);
    q.map_run(300, 1, kData + 300 * F, Ap::Vram, false);
    q.map_run(301, 211, kData + 301 * F);
    EXPECT_EQ(q.word0(), 0x5002u);
    EXPECT_EQ(q.t.big_mapped_in(kR, kR + k2M), 496u);
    EXPECT_EQ(q.t.huge_mapped_in(kR, kR + k2M), 0u);
  }
  {
    SCOPED_TRACE("every group big but one read-only group");
    PtRig r;
    r.map_run(0, 496, kData);
    r.map_run(496, 16, kData + 496 * F, Ap::Vram, false);
    EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 512u);
    EXPECT_EQ(r.t.huge_mapped_in(kR, kR + k2M), 0u);
    EXPECT_EQ(r.pt64(31), pt::make_pte(kData + 31 * k64K, Ap::Vram, false));
  }
}

TEST(DevicePageTableLarge, UnmapRangeOfAHugeRange) {
  PtRig r;
  r.map_run(0, 512, kData);
  r.t.take_directories_changed();
  const auto vas = r.t.unmap_range(kR, kR + k2M);
  EXPECT_EQ(vas.size(), 512u);
  EXPECT_EQ(r.word0(), 0x5002u);
  EXPECT_TRUE(r.t.take_directories_changed());
  for (unsigned g = 0; g < 32; ++g) EXPECT_EQ(r.pt64(g), 0u) << g;
  for (uint64_t i = 0; i < 512; ++i) ASSERT_EQ(r.u64(kPt + i * 8), 0u) << i;
  EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 0u);
  EXPECT_EQ(r.t.huge_mapped_in(kR, kR + k2M), 0u);
  EXPECT_EQ(r.t.mapped_in(kR, kR + k2M), 0u);
  EXPECT_EQ(r.bus.walk_info(va(5)).reads, 6u);
  EXPECT_FALSE(r.bus.walk_info(va(5)).valid());
  r.map_run(0, 512, kData + k2M);
  EXPECT_EQ(r.word0(), kData + k2M + 3);
  EXPECT_EQ(r.t.s_tables, 6u);
}

TEST(DevicePageTableLarge, BigAndHugeMappedInCountPerRange) {
  PtRig r;
  r.map_run(0, 512, kData);                 // range A: 2 MiB
  r.map_run(512, 16, 0x400000);             // range B, group 0
  r.map_run(512 + 32, 16, 0x420000);        // range B, group 2
  r.map_run(512 + 64, 8, 0x440000);         // range B, half of group 4
  EXPECT_EQ(r.u64(kWord0 + 16), pt::make_pde(0x7000));  // B's PT at 0x6000, its PT64 at 0x7000
  EXPECT_EQ(r.u64(kWord0 + 24), pt::make_pde(0x6000));
  EXPECT_EQ(r.u64(0x7000 + 0), 0x400003u);
  EXPECT_EQ(r.u64(0x7000 + 16), 0x420003u);
  EXPECT_EQ(r.t.huge_mapped_in(kR, kR + 2 * k2M), 512u);
  EXPECT_EQ(r.t.huge_mapped_in(kR + k2M, kR + 2 * k2M), 0u);
  EXPECT_EQ(r.t.big_mapped_in(kR, kR + 2 * k2M), 544u);
  EXPECT_EQ(r.t.big_mapped_in(kR + k2M, kR + 2 * k2M), 32u);
  EXPECT_EQ(r.t.big_mapped_in(kR + k2M, kR + k2M + k64K), 16u);
  EXPECT_EQ(r.t.big_mapped_in(kR + k2M + k64K, kR + k2M + 2 * k64K), 0u);
  EXPECT_EQ(r.t.big_mapped_in(kR + 3 * k2M, kR + 4 * k2M), 0u);
  EXPECT_EQ(r.t.huge_mapped_in(0, 1ull << 48), 512u);
  EXPECT_EQ(r.t.mapped_in(kR + k2M, kR + 2 * k2M), 40u);
}

TEST(DevicePageTableLarge, DirectoriesChangedIsReportedOncePerChange) {
  PtRig r;
  EXPECT_TRUE(r.t.ensure_tables(kR, kR + 4 * k2M));
  EXPECT_FALSE(r.t.take_directories_changed());
  r.map_run(0, 16, kData);    // links the 64 KiB table
  r.map_run(16, 496, kData + 16 * F);  // and a 2 MiB PTE: two changes, one report
  EXPECT_TRUE(r.t.take_directories_changed());
  EXPECT_FALSE(r.t.take_directories_changed());
  r.t.unmap(va(7));  // 2 MiB PTE -> table link
  r.t.unmap(va(8));  // PT64 entry only
  EXPECT_TRUE(r.t.take_directories_changed());
  r.t.unmap(va(40));  // PT64 entry only
  EXPECT_FALSE(r.t.take_directories_changed());
  r.map_run(40, 1, kData + 40 * F);
  EXPECT_FALSE(r.t.take_directories_changed());
}

TEST(DevicePageTableLarge, No64KiBTableWhenVramIsFullKeeps4KiBPtes) {
  PtRig r(8 * F);  // root + PD2 + PD1 + PD0 + PT leave 3 frames
  ASSERT_TRUE(r.t.ensure_tables(kR, kR + 1));
  std::vector<uint64_t> taken;
  for (uint64_t pa; (pa = r.vram.alloc()) != VramAllocator::kNone;) taken.push_back(pa);
  ASSERT_EQ(taken.size(), 3u);
  r.map_run(0, 16, kData);
  EXPECT_EQ(r.word0(), 0u);
  EXPECT_EQ(r.t.big_mapped_in(kR, kR + k2M), 0u);
  EXPECT_FALSE(r.t.take_directories_changed());
  EXPECT_EQ(r.bus.walk_info(va(3)).shift, 12u);
  EXPECT_EQ(r.bus.walk(va(3)), 0x803003u);
  // A frame comes free: the next update of the group promotes it.
  r.vram.free(taken[1]);
  r.map_run(3, 1, kData + 3 * F);
  EXPECT_EQ(r.word0(), pt::make_pde(taken[1]));
  EXPECT_EQ(r.u64(taken[1]), 0x800003u);
  EXPECT_TRUE(r.t.take_directories_changed());
}

// Random maps and unmaps over one 2 MiB range, from a pool of PAs that makes
// promotions likely: the walker must always agree with the shadow, and the
// large-page counts with a recomputation from the shadow.
TEST(DevicePageTableLarge, RandomizedWalkerAgreesWithShadow) {
  PtRig r;
  std::mt19937_64 rng(42);
  for (int step = 0; step < 6000; ++step) {
    const uint64_t g = rng() % 32;
    const unsigned op = rng() % 10;
    if (op < 2) {
      r.t.unmap(va(g * 16 + rng() % 16));
    } else if (op < 4) {
      r.map_run(g * 16, 16, kData + g * k64K);  // whole group at the 2 MiB-consistent place
    } else if (op < 5) {
      r.map_run(g * 16, 16, 0x400000 + (rng() % 64) * k64K);  // a group somewhere else
    } else {
      const uint64_t k = rng() % 16;
      const bool w = rng() % 8 != 0;
      r.map_run(g * 16 + k, 1, kData + g * k64K + k * F, Ap::Vram, w);
    }
    if (step % 50 != 0) continue;
    const bool has_t64 = r.t.s_tables == 6;  // the 64 KiB table exists (else 0x5000 is poison)
    auto pt64 = [&](uint64_t g64) { return has_t64 ? r.pt64(unsigned(g64)) : 0; };
    uint64_t big = 0;
    bool all_big = true, contiguous = true;
    uint64_t first = 0;
    for (uint64_t gg = 0; gg < 32; ++gg) {
      uint64_t e0 = r.t.pte(va(gg * 16));
      bool ok = pt::pte_valid(e0) && (pt::address(e0) % k64K) == 0;
      for (uint64_t k = 1; ok && k < 16; ++k) ok = r.t.pte(va(gg * 16 + k)) == e0 + k * F;
      big += ok ? 16 : 0;
      all_big &= ok;
      if (gg == 0) first = e0;
      contiguous &= ok && e0 == first + gg * k64K;
      ASSERT_EQ(pt64(gg), ok ? e0 : 0u) << "step " << step << " group " << gg;
    }
    const bool huge = all_big && contiguous && pt::address(first) % k2M == 0;
    ASSERT_EQ(r.t.big_mapped_in(kR, kR + k2M), big) << step;
    ASSERT_EQ(r.t.huge_mapped_in(kR, kR + k2M), huge ? 512u : 0u) << step;
    ASSERT_EQ(r.word0(), huge ? first : (has_t64 ? 0x5002u : 0u)) << step;
    for (uint64_t p = 0; p < 512; ++p) {
      const uint64_t e = r.t.pte(va(p));
      const auto w = r.bus.walk_info(va(p));
      ASSERT_EQ(r.bus.walk(va(p)), e) << "step " << step << " page " << p;
      if (e) {
        ASSERT_EQ(w.shift, huge ? 21u : (pt::pte_valid(pt64(p / 16)) ? 16u : 12u)) << p;
      }
    }
  }
}
