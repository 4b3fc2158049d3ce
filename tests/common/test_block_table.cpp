// BlockTable against std::map, the structure it replaces: the same entries,
// in the same order, whatever mix of sets, erases and walks.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "common/block_table.h"

using hmmsim::common::BlockTable;

namespace {

std::vector<std::pair<uint64_t, int>> walk(BlockTable<int>& t, uint64_t lo, uint64_t hi) {
  std::vector<std::pair<uint64_t, int>> out;
  t.for_each(lo, hi, [&](uint64_t i, int& v) { out.emplace_back(i, v); });
  return out;
}

std::vector<std::pair<uint64_t, int>> walk(const std::map<uint64_t, int>& m, uint64_t lo, uint64_t hi) {
  std::vector<std::pair<uint64_t, int>> out;
  for (auto it = m.lower_bound(lo); it != m.end() && it->first < hi; ++it) out.emplace_back(*it);
  return out;
}

}  // namespace

TEST(BlockTable, EmptyTableHasNothing) {
  BlockTable<int> t;
  EXPECT_EQ(t.find(0), nullptr);
  EXPECT_FALSE(t.contains(12345));
  EXPECT_FALSE(t.erase(7));
  EXPECT_EQ(t.next(0), t.kEnd);
  EXPECT_FALSE(t.any_in(0, t.kEnd));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.block_bytes(), 0u);
}

TEST(BlockTable, SetValueIsKeptAndDefaultIsNotAnEntry) {
  BlockTable<int> t;
  t[5] = 0;  // a default value is still an entry
  t[513] = 9;
  ASSERT_NE(t.find(5), nullptr);
  EXPECT_EQ(*t.find(5), 0);
  EXPECT_EQ(*t.find(513), 9);
  EXPECT_FALSE(t.contains(4));
  EXPECT_FALSE(t.contains(512));
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.next(0), 5u);
  EXPECT_EQ(t.next(6), 513u);
  EXPECT_EQ(t.next(6, 513), 513u);  // `end` when nothing is below it
  EXPECT_TRUE(t.any_in(513, 514));
  EXPECT_FALSE(t.any_in(6, 513));
}

TEST(BlockTable, ABlockGoesWithItsLastEntry) {
  BlockTable<uint64_t> t;
  for (uint64_t i = 1024; i < 1024 + 512; ++i) t[i] = i;
  EXPECT_GT(t.block_bytes(), 0u);
  const uint64_t one_block = t.block_bytes();
  t[5] = 1;
  EXPECT_EQ(t.block_bytes(), 2 * one_block);
  EXPECT_TRUE(t.erase(5));
  EXPECT_EQ(t.block_bytes(), one_block);
  for (uint64_t i = 1024; i < 1024 + 511; ++i) EXPECT_TRUE(t.erase(i));
  EXPECT_EQ(t.block_bytes(), one_block);
  EXPECT_TRUE(t.erase(1024 + 511));
  EXPECT_EQ(t.block_bytes(), 0u);
  EXPECT_TRUE(t.empty());
  // Re-made after it went: the remembered block must not be the freed one.
  t[1030] = 3;
  EXPECT_EQ(*t.find(1030), 3u);
  EXPECT_FALSE(t.contains(1031));
}

TEST(BlockTable, HighIndicesWork) {
  // Device frame numbers start far above system ones.
  BlockTable<int> t;
  const uint64_t big = (uint64_t(1) << 52) - 3;
  t[big] = 1;
  t[t.kEnd - 1] = 2;
  EXPECT_EQ(t.next(0), big);
  EXPECT_EQ(t.next(big + 1), t.kEnd - 1);
  EXPECT_EQ(walk(t, 0, t.kEnd).size(), 2u);
  EXPECT_EQ(walk(t, big + 1, t.kEnd - 1).size(), 0u);
}

TEST(BlockTable, WalksMayEraseAndSetAsTheyGo) {
  BlockTable<int> t;
  for (uint64_t i = 0; i < 2000; i += 3) t[i] = int(i);
  // Erase every entry met, and set one ahead of the walk: the walk meets it.
  std::vector<uint64_t> met;
  t.for_each(0, 2000, [&](uint64_t i, int&) {
    met.push_back(i);
    t.erase(i);
    if (i == 600) t[601] = 1;
  });
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(met.size(), 668u);  // 667 multiples of 3 below 2000, plus 601
  EXPECT_EQ(met[201], 601u);
}

TEST(BlockTable, MatchesAnOrderedMapUnderRandomOperations) {
  std::mt19937_64 rng(42);
  BlockTable<int> t;
  std::map<uint64_t, int> m;
  auto index = [&]() -> uint64_t {
    // Clustered like pages: a few 2 MiB ranges, some far apart.
    const uint64_t base[] = {0, 512 * 7, (uint64_t(1) << 40), (uint64_t(1) << 40) + 511};
    return base[rng() % 4] + rng() % 1500;
  };
  for (int step = 0; step < 200000; ++step) {
    const uint64_t i = index();
    switch (rng() % 6) {
      case 0:
      case 1: {
        const int v = int(rng() % 1000);
        t[i] = v;
        m[i] = v;
        break;
      }
      case 2:
        EXPECT_EQ(t.erase(i), m.erase(i) == 1);
        break;
      case 3: {
        const int* f = t.find(i);
        auto it = m.find(i);
        ASSERT_EQ(f != nullptr, it != m.end());
        if (f) {
          EXPECT_EQ(*f, it->second);
        }
        break;
      }
      case 4: {
        const uint64_t hi = i + rng() % 2000;
        auto it = m.lower_bound(i);
        const uint64_t want = it != m.end() && it->first < hi ? it->first : hi;
        ASSERT_EQ(t.next(i, hi), want);
        break;
      }
      case 5:
        if (step % 1000 == 5) {
          const uint64_t lo = index(), hi = lo + rng() % 4000;
          ASSERT_EQ(walk(t, lo, hi), walk(m, lo, hi));
        }
        break;
    }
    ASSERT_EQ(t.size(), m.size());
  }
  EXPECT_EQ(walk(t, 0, t.kEnd), walk(m, 0, t.kEnd));
}
