// Tests for hw/kernel/coalescer: how a warp memory instruction folds into
// 128-byte lines, 32-byte sectors and distinct 4 KiB pages, and which bytes
// a store enables.
#include "hw/kernel/coalescer.h"

#include <gtest/gtest.h>

namespace hmmsim::hw {
namespace {

constexpr uint64_t kBase = 0x7f0000000000ull;  // page and line aligned

WarpInstr lanes(uint64_t first, int64_t stride, uint8_t width, uint32_t mask = ~0u) {
  WarpInstr in;
  in.cls = InstrClass::Store;
  in.width = width;
  in.mask = mask;
  for (unsigned l = 0; l < kWarpSize; ++l) in.addr[l] = first + static_cast<uint64_t>(int64_t(l) * stride);
  return in;
}

Coalesced run(const WarpInstr& in) {
  Coalesced c;
  coalesce(in, c, true);
  return c;
}

unsigned enabled(const CoalescedLine& l) {
  unsigned n = 0;
  for (uint8_t b : l.enable) n += b != 0;
  return n;
}

TEST(Coalescer, FullyCoalescedWordsAreOneLineOfFourSectors) {
  const Coalesced c = run(lanes(kBase + 0x100, 4, 4));
  EXPECT_EQ(c.active_lanes, 32u);
  EXPECT_EQ(c.bytes, 128u);
  ASSERT_EQ(c.nlines, 1u);
  EXPECT_EQ(c.npages, 1u);
  EXPECT_EQ(c.sectors, 4u);
  EXPECT_EQ(c.lines[0].addr, kBase + 0x100);
  EXPECT_EQ(c.lines[0].lo, 0);
  EXPECT_EQ(c.lines[0].hi, 128);
  EXPECT_EQ(c.lines[0].sectors, 0xF);
  EXPECT_EQ(enabled(c.lines[0]), 128u);
  EXPECT_EQ(c.pages[0], kBase);
}

TEST(Coalescer, MisalignedWarpSpansTwoLinesAndItsSectors) {
  const Coalesced c = run(lanes(kBase + 64, 4, 4));  // bytes 64..191
  ASSERT_EQ(c.nlines, 2u);
  EXPECT_EQ(c.lines[0].addr, kBase);
  EXPECT_EQ(c.lines[0].lo, 64);
  EXPECT_EQ(c.lines[0].hi, 128);
  EXPECT_EQ(c.lines[0].sectors, 0xC);
  EXPECT_EQ(c.lines[1].addr, kBase + 128);
  EXPECT_EQ(c.lines[1].lo, 0);
  EXPECT_EQ(c.lines[1].hi, 64);
  EXPECT_EQ(c.lines[1].sectors, 0x3);
  EXPECT_EQ(c.sectors, 4u);
  EXPECT_EQ(c.npages, 1u);
}

TEST(Coalescer, ALaneStraddlingALineTouchesBoth) {
  const Coalesced c = run(lanes(kBase + 124, 0, 8, 1u));  // one lane, bytes 124..131
  EXPECT_EQ(c.active_lanes, 1u);
  ASSERT_EQ(c.nlines, 2u);
  EXPECT_EQ(c.lines[0].lo, 124);
  EXPECT_EQ(c.lines[0].hi, 128);
  EXPECT_EQ(c.lines[1].lo, 0);
  EXPECT_EQ(c.lines[1].hi, 4);
  EXPECT_EQ(enabled(c.lines[0]) + enabled(c.lines[1]), 8u);
}

TEST(Coalescer, AWarpAcrossAPageBoundaryNeedsTwoTranslations) {
  const Coalesced c = run(lanes(kBase + 4096 - 64, 4, 4));
  ASSERT_EQ(c.npages, 2u);
  EXPECT_EQ(c.pages[0], kBase);
  EXPECT_EQ(c.pages[1], kBase + 4096);
  ASSERT_EQ(c.nlines, 2u);
  EXPECT_EQ(c.lines[0].page, 0);
  EXPECT_EQ(c.lines[1].page, 1);
}

TEST(Coalescer, PageStrideIsThirtyTwoLinesPagesAndSectors) {
  const Coalesced c = run(lanes(kBase, 4096, 4));
  EXPECT_EQ(c.nlines, 32u);
  EXPECT_EQ(c.npages, 32u);
  EXPECT_EQ(c.sectors, 32u);
  for (unsigned i = 0; i < 32; ++i) {
    EXPECT_EQ(c.lines[i].page, i);
    EXPECT_EQ(enabled(c.lines[i]), 4u);
  }
}

TEST(Coalescer, OnlyActiveLanesCountAndEnableTheirBytes) {
  const Coalesced c = run(lanes(kBase, 4, 4, (1u << 0) | (1u << 2) | (1u << 31)));
  EXPECT_EQ(c.active_lanes, 3u);
  EXPECT_EQ(c.bytes, 12u);
  ASSERT_EQ(c.nlines, 1u);
  EXPECT_EQ(c.lines[0].lo, 0);
  EXPECT_EQ(c.lines[0].hi, 128);
  EXPECT_EQ(c.lines[0].sectors, 0x9);  // lanes 0 and 2 in sector 0, lane 31 in sector 3
  EXPECT_EQ(enabled(c.lines[0]), 12u);
  EXPECT_EQ(c.lines[0].enable[4], 0);   // lane 1 is inactive
  EXPECT_NE(c.lines[0].enable[8], 0);   // lane 2
  EXPECT_NE(c.lines[0].enable[127], 0);  // lane 31
}

TEST(Coalescer, BroadcastIsOneSectorAndAnEmptyMaskNothing) {
  const Coalesced b = run(lanes(kBase + 40, 0, 4));
  EXPECT_EQ(b.nlines, 1u);
  EXPECT_EQ(b.sectors, 1u);
  EXPECT_EQ(b.bytes, 128u);  // every lane's width counts
  EXPECT_EQ(enabled(b.lines[0]), 4u);
  const Coalesced none = run(lanes(kBase, 4, 4, 0));
  EXPECT_EQ(none.nlines, 0u);
  EXPECT_EQ(none.npages, 0u);
  EXPECT_EQ(none.active_lanes, 0u);
}

TEST(Coalescer, SixteenByteLanesFillFourLines) {
  const Coalesced c = run(lanes(kBase, 16, 16));
  EXPECT_EQ(c.nlines, 4u);
  EXPECT_EQ(c.sectors, 16u);
  EXPECT_EQ(c.bytes, 512u);
}

}  // namespace
}  // namespace hmmsim::hw
