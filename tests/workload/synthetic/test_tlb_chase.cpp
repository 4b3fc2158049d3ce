// tlb_chase: one thread, hop i at base + (i * stride mod footprint), every
// load depending on the one before; exact counts and addresses.
#include <gtest/gtest.h>

#include "tests/workload/synthetic/drain.h"

namespace hmmsim::workload::test {
namespace {

SyntheticSpec chase(uint64_t footprint, uint64_t stride) {
  SyntheticSpec s = spec_for("tlb_chase", footprint);
  s.stride = stride;
  s.width = 8;
  s.compute_per_access = 0;
  return s;
}

TEST(TlbChase, OneLaneHopsByStrideAndWraps) {
  // 64 KiB at a 4 KiB stride: 16 hops a pass, 3 passes.
  SyntheticSpec s = chase(65536, 4096);
  s.iterations = 3;
  std::vector<uint64_t> addrs;
  int prev_dst = -1;
  const Stats st = drain(s, [&](uint64_t, unsigned, const WarpInstr& in) {
    ASSERT_EQ(in.cls, InstrClass::Load);
    EXPECT_EQ(in.mask, 1u);  // one active lane
    ASSERT_EQ(in.nsrc, 1);
    ASSERT_EQ(in.ndst, 1);
    if (prev_dst >= 0) {
      EXPECT_EQ(in.src[0], prev_dst);  // address from the previous load
    }
    prev_dst = in.dst[0];
    addrs.push_back(in.addr[0]);
  });
  EXPECT_EQ(st.ctas, 1u);
  EXPECT_EQ(st.warps, 1u);
  EXPECT_EQ(st.loads, 48u);
  EXPECT_EQ(st.instrs, 48u);
  EXPECT_EQ(st.load_lanes, 48u);
  ASSERT_EQ(addrs.size(), 48u);
  for (uint64_t i = 0; i < addrs.size(); ++i) EXPECT_EQ(addrs[i], kBase + i * 4096 % 65536) << i;
  EXPECT_EQ(st.pages.size(), 16u);
  for (const auto& [a, n] : st.reads) EXPECT_EQ(n, 3u);
}

TEST(TlbChase, GridAndBlockAreOneThreadWhateverTheSpecSays) {
  SyntheticSpec s = chase(2 << 20, 64 << 10);
  s.grid = {8, 1, 1};
  s.block = {256, 1, 1};
  auto src = make_synthetic(s);
  EXPECT_EQ(src->info().grid.count(), 1u);
  EXPECT_EQ(src->info().block.count(), 1u);
  const Stats st = drain(s);
  EXPECT_EQ(st.loads, 32u);  // 2 MiB / 64 KiB
  EXPECT_EQ(st.pages.size(), 32u);
}

TEST(TlbChase, SubPageStrideRevisitsPagesAndComputeFollowsEachLoad) {
  // 8 KiB at 1 KiB: 8 hops over 2 pages; one FFMA after each load reads it.
  SyntheticSpec s = chase(8192, 1024);
  s.compute_per_access = 1;
  std::vector<WarpInstr> all;
  const Stats st = drain(s, [&](uint64_t, unsigned, const WarpInstr& in) { all.push_back(in); });
  EXPECT_EQ(st.loads, 8u);
  EXPECT_EQ(st.compute, 8u);
  EXPECT_EQ(st.pages.size(), 2u);
  ASSERT_EQ(all.size(), 16u);
  for (size_t i = 0; i < all.size(); i += 2) {
    EXPECT_EQ(all[i].cls, InstrClass::Load);
    EXPECT_EQ(all[i].addr[0], kBase + i / 2 * 1024);
    EXPECT_EQ(all[i + 1].cls, InstrClass::Compute);
    ASSERT_GE(all[i + 1].nsrc, 1);
    EXPECT_EQ(all[i + 1].src[0], all[i].dst[0]);
  }
}

TEST(TlbChase, RejectsStridesThatDoNotTileTheFootprint) {
  auto rejected = [](const SyntheticSpec& s) {
    try {
      make_synthetic(s);
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("stride"), std::string::npos) << e.what();
      return true;
    }
    return false;
  };
  EXPECT_TRUE(rejected(chase(65536, 12)));       // not a multiple of the width
  EXPECT_TRUE(rejected(chase(65536, 4)));        // below the width
  EXPECT_TRUE(rejected(chase(65536, 131072)));   // beyond the footprint
  EXPECT_TRUE(rejected(chase(12288, 8192)));     // does not divide it
  EXPECT_FALSE(rejected(chase(12288, 4096)));
}

}  // namespace
}  // namespace hmmsim::workload::test
