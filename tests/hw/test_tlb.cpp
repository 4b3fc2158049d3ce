#include <gtest/gtest.h>

#include "hw/tlb.h"

using hmmsim::hw::Tlb;
using hmmsim::hw::TlbSpec;
using hmmsim::hw::Translation;

TEST(Tlb, MissThenHitAfterInsert) {
  Tlb t(TlbSpec{8, 2, 1});
  EXPECT_FALSE(t.lookup(5));
  t.insert(5, Translation{0x5000, 1, true});
  auto h = t.lookup(5);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->pa, 0x5000u);
  EXPECT_EQ(t.s_hits, 1u);
  EXPECT_EQ(t.s_misses, 1u);
}

TEST(Tlb, LruEvictsLeastRecentlyUsedWayOfTheSet) {
  Tlb t(TlbSpec{8, 2, 1});  // 4 sets x 2 ways: vpns 0, 4, 8 share set 0
  t.insert(0, {0x0, 1, true});
  t.insert(4, {0x4000, 1, true});
  ASSERT_TRUE(t.lookup(0));  // 4 becomes LRU
  t.insert(8, {0x8000, 1, true});
  EXPECT_TRUE(t.lookup(0));
  EXPECT_FALSE(t.lookup(4));
  EXPECT_TRUE(t.lookup(8));
  EXPECT_EQ(t.s_evictions, 1u);
}

TEST(Tlb, RangeInvalidateDropsOnlyTheRange) {
  Tlb t(TlbSpec{16, 4, 1});
  for (uint64_t v = 10; v < 16; ++v) t.insert(v, {v << 12, 1, true});
  t.invalidate(11, 3);  // 11, 12, 13
  EXPECT_EQ(t.valid_entries(), 3u);
  EXPECT_TRUE(t.lookup(10));
  EXPECT_FALSE(t.lookup(12));
  EXPECT_TRUE(t.lookup(14));
  t.invalidate(0, 0);  // full flush
  EXPECT_EQ(t.valid_entries(), 0u);
}

TEST(Tlb, RejectsImpossibleGeometry) {
  EXPECT_THROW(Tlb(TlbSpec{10, 4, 1}), std::invalid_argument);
  EXPECT_THROW(Tlb(TlbSpec{0, 1, 1}), std::invalid_argument);
}
