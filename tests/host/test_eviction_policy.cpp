// Every registered eviction policy through the same contract, then each
// one's own order.
#include <gtest/gtest.h>

#include <set>

#include "host/gpu_driver/eviction_policy.h"

using namespace hmmsim::host;

namespace {
constexpr uint64_t kB = 2ull << 20;
}

class EvictionContract : public ::testing::TestWithParam<std::string> {};

TEST_P(EvictionContract, PicksOnlyResidentBlocksOtherThanTheOneBeingFilled) {
  EvictionSpec s;
  s.impl = GetParam();
  auto p = eviction_registry().make(s.impl, s);
  EXPECT_FALSE(p->victim(0).has_value());
  for (uint64_t b = 1; b <= 4; ++b) p->on_resident(b * kB);
  p->on_resident(2 * kB);  // already resident: no change
  p->on_empty(3 * kB);
  std::set<uint64_t> seen;
  for (int i = 0; i < 50; ++i) {
    auto v = p->victim(1 * kB);
    ASSERT_TRUE(v.has_value());
    EXPECT_NE(*v, 1 * kB);
    EXPECT_NE(*v, 3 * kB);
    seen.insert(*v);
  }
  EXPECT_FALSE(seen.empty());
  p->on_empty(2 * kB);
  p->on_empty(4 * kB);
  EXPECT_FALSE(p->victim(1 * kB).has_value());  // only the excluded block is left
  EXPECT_EQ(p->victim(0), std::optional<uint64_t>(1 * kB));
}

INSTANTIATE_TEST_SUITE_P(Registered, EvictionContract, ::testing::ValuesIn(eviction_registry().names()));

TEST(EvictionPolicy, FifoEvictsInTheOrderBlocksBecameResident) {
  auto p = eviction_registry().make("fifo", EvictionSpec{});
  p->on_resident(5 * kB);
  p->on_resident(2 * kB);
  p->on_resident(9 * kB);
  EXPECT_EQ(p->victim(0), std::optional<uint64_t>(5 * kB));
  EXPECT_EQ(p->victim(5 * kB), std::optional<uint64_t>(2 * kB));
  p->on_empty(5 * kB);
  p->on_resident(5 * kB);  // back in VRAM later: now the youngest
  EXPECT_EQ(p->victim(0), std::optional<uint64_t>(2 * kB));
  p->on_empty(2 * kB);
  EXPECT_EQ(p->victim(0), std::optional<uint64_t>(9 * kB));
}

TEST(EvictionPolicy, RandomIsDeterministicPerSeedAndSpreadsItsChoices) {
  auto run = [](uint64_t seed) {
    EvictionSpec s;
    s.impl = "random";
    s.seed = seed;
    auto p = eviction_registry().make("random", s);
    for (uint64_t b = 0; b < 8; ++b) p->on_resident(b * kB);
    std::vector<uint64_t> picks;
    for (int i = 0; i < 32; ++i) picks.push_back(*p->victim(~0ull));
    return picks;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
  const auto picks = run(7);
  EXPECT_GE(std::set<uint64_t>(picks.begin(), picks.end()).size(), 4u);
}
