// pointer_chase, random and graph: exact counts, permutation and
// dependency checks, determinism and distribution sanity (fixed seeds, so
// every check is exact, not statistical).
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/workload/synthetic/drain.h"
#include "workload/synthetic/kernel_base.h"  // Permutation

namespace hmmsim::workload::test {
namespace {

struct Walks {
  Stats stats;
  std::map<uint64_t, std::vector<uint64_t>> by_thread;  // global thread -> its load addresses in order
};

Walks lane_walks(const SyntheticSpec& s) {
  const uint64_t tpc = make_synthetic(s)->info().block.count();
  Walks w;
  w.stats = drain(s, [&](uint64_t c, unsigned warp, const WarpInstr& in) {
    if (!in.is_memory()) return;
    for (unsigned i = 0; i < 32; ++i)
      if (in.mask >> i & 1) w.by_thread[c * tpc + warp * 32 + i].push_back(in.addr[i]);
  });
  return w;
}

TEST(Permutation, IsABijectionForAnySize) {
  for (uint64_t n : {1ull, 2ull, 3ull, 5ull, 192ull, 1000ull, 1536ull, 4097ull}) {
    const synth::Permutation p(n, 42);
    std::set<uint64_t> seen;
    for (uint64_t x = 0; x < n; ++x) {
      const uint64_t y = p(x);
      EXPECT_LT(y, n);
      seen.insert(y);
    }
    EXPECT_EQ(seen.size(), n) << n;
  }
  // The seed changes the order.
  const synth::Permutation a(1000, 1), b(1000, 2);
  unsigned same = 0;
  for (uint64_t x = 0; x < 1000; ++x) same += a(x) == b(x);
  EXPECT_LT(same, 20u);
}

TEST(PointerChase, OneLaneWalksTheWholeCycle) {
  // 4 KiB of 8-byte pointers = 512 elements; one thread, 2 passes.
  SyntheticSpec s = spec_for("pointer_chase", 4096);
  s.width = 8;
  s.grid = {1, 1, 1};
  s.block = {1, 1, 1};
  s.iterations = 2;
  s.compute_per_access = 0;
  std::vector<uint64_t> addrs;
  int prev_dst = -1;
  const Stats st = drain(s, [&](uint64_t, unsigned, const WarpInstr& in) {
    ASSERT_EQ(in.cls, InstrClass::Load);
    EXPECT_EQ(in.mask, 1u);
    ASSERT_EQ(in.nsrc, 1);
    ASSERT_EQ(in.ndst, 1);
    if (prev_dst >= 0) {
      EXPECT_EQ(in.src[0], prev_dst);  // the address comes from the previous load
    }
    prev_dst = in.dst[0];
    addrs.push_back(in.addr[0]);
  });
  EXPECT_EQ(st.warps, 1u);
  EXPECT_EQ(st.loads, 1024u);
  EXPECT_EQ(st.instrs, 1024u);
  ASSERT_EQ(addrs.size(), 1024u);
  // A bijection: the first pass visits each of the 512 elements once...
  std::set<uint64_t> first(addrs.begin(), addrs.begin() + 512);
  EXPECT_EQ(first.size(), 512u);
  // ...and the second pass repeats it.
  EXPECT_TRUE(std::equal(addrs.begin(), addrs.begin() + 512, addrs.begin() + 512));
  for (const auto& [a, n] : st.reads) EXPECT_EQ(n, 2u);
  // Pseudo-random, not sequential: few steps go to the next element.
  unsigned sequential = 0;
  for (size_t i = 1; i < 512; ++i) sequential += addrs[i] == addrs[i - 1] + 8;
  EXPECT_LT(sequential, 8u);
  // Another seed, another order.
  SyntheticSpec other = s;
  other.seed = 2;
  EXPECT_NE(fingerprint(s), fingerprint(other));
}

TEST(PointerChase, ThreadsWalkConsecutiveStretchesOfOneCycle) {
  // 64 KiB of 8-byte pointers = 8192. The cycle order comes from one lane.
  SyntheticSpec one = spec_for("pointer_chase", 65536);
  one.width = 8;
  one.grid = {1, 1, 1};
  one.block = {1, 1, 1};
  one.compute_per_access = 0;
  const std::vector<uint64_t> order = lane_walks(one).by_thread.at(0);
  ASSERT_EQ(order.size(), 8192u);
  // Automatic grid: one thread per 32 elements = 256 threads = 4 CTAs of 64.
  // Thread t walks cycle positions 32t .. 32t + 31; 1 FFMA after each load.
  SyntheticSpec s = one;
  s.grid = {0, 1, 1};
  s.block = {64, 1, 1};
  s.compute_per_access = 1;
  const Walks w = lane_walks(s);
  const Stats* st = &w.stats;
  const auto& walks = w.by_thread;
  EXPECT_EQ(st->ctas, 4u);
  EXPECT_EQ(st->warps, 8u);
  EXPECT_EQ(st->instrs, 512u);
  EXPECT_EQ(st->loads, 256u);
  EXPECT_EQ(st->compute, 256u);
  EXPECT_EQ(st->load_lanes, 8192u);
  EXPECT_EQ(st->pages.size(), 16u);
  EXPECT_EQ(st->lines.size(), 512u);
  EXPECT_EQ(st->reads.size(), 8192u);  // each element exactly once
  ASSERT_EQ(walks.size(), 256u);
  for (const auto& [t, a] : walks) {
    ASSERT_EQ(a.size(), 32u);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), order.begin() + 32 * t)) << "thread " << t;
  }
}

TEST(PointerChase, UnevenStretches) {
  // 512 elements over 3 CTAs x 50 threads = 150 threads: thread t starts at
  // floor(512 t / 150), so stretches are 3 or 4 long (512 - 3 * 150 = 62 of
  // them 4). Every warp (32 or 18 lanes) holds some 4-long stretch: 4 loads
  // per warp, 6 warps; per pass 150 + 150 + 150 + 62 lanes.
  SyntheticSpec s = spec_for("pointer_chase", 4096);
  s.width = 8;
  s.grid = {3, 1, 1};
  s.block = {50, 1, 1};
  s.compute_per_access = 0;
  const Stats st = drain(s);
  EXPECT_EQ(st.warps, 6u);
  EXPECT_EQ(st.loads, 24u);
  EXPECT_EQ(st.load_lanes, 512u);
  EXPECT_EQ(st.reads.size(), 512u);
  // Lanes per step, from the masks of each warp's k-th load.
  std::map<uint64_t, std::vector<uint32_t>> masks;
  drain(s, [&](uint64_t c, unsigned w, const WarpInstr& in) { masks[c * 2 + w].push_back(in.mask); });
  std::vector<unsigned> per_step(4);
  for (const auto& [w, m] : masks) {
    ASSERT_EQ(m.size(), 4u);
    for (unsigned j = 0; j < 4; ++j) per_step[j] += popcount(m[j]);
  }
  EXPECT_EQ(per_step, (std::vector<unsigned>{150, 150, 150, 62}));
}

TEST(Random, UniformLanesAndStoresByWriteRatio) {
  // 64 KiB of 4-byte elements = 16384; block 256 -> 64 CTAs, 512 warps, one
  // access per thread per pass; 2 passes with one compute after each.
  SyntheticSpec s = spec_for("random", 65536);
  s.iterations = 2;
  s.write_ratio = 0.25;
  s.seed = 7;
  std::map<uint64_t, uint64_t> per_page;
  const Stats st = drain(s, [&](uint64_t, unsigned, const WarpInstr& in) {
    if (!in.is_memory()) return;
    EXPECT_EQ(in.mask, ~0u);
    for (unsigned i = 0; i < 32; ++i) ++per_page[(in.addr[i] - kBase) / 4096];
  });
  EXPECT_EQ(st.ctas, 64u);
  EXPECT_EQ(st.warps, 512u);
  EXPECT_EQ(st.instrs, 2048u);
  EXPECT_EQ(st.global(), 1024u);
  EXPECT_EQ(st.compute, 1024u);
  EXPECT_EQ(st.load_lanes + st.store_lanes, 32768u);
  EXPECT_EQ(st.store_lanes, 32 * st.stores);
  // Binomial(1024, 0.25): 256 +- 14; this seed's count is fixed.
  EXPECT_GT(st.stores, 200u);
  EXPECT_LT(st.stores, 312u);
  EXPECT_EQ(st.pages.size(), 16u);
  EXPECT_EQ(st.lines.size(), 512u);
  // Uniform over pages: 2048 lanes each on average.
  ASSERT_EQ(per_page.size(), 16u);
  for (const auto& [p, n] : per_page) {
    EXPECT_GT(n, 1800u) << p;
    EXPECT_LT(n, 2300u) << p;
  }
  // Poorly coalesced: almost every lane on its own line.
  EXPECT_GT(st.line_accesses, 1024u * 28);
}

TEST(Random, DeterministicPerSeed) {
  SyntheticSpec s = spec_for("random", 65536);
  s.write_ratio = 0.5;
  SyntheticSpec other = s;
  other.seed = 2;
  EXPECT_EQ(fingerprint(s), fingerprint(s));
  EXPECT_NE(fingerprint(s), fingerprint(other));
}

SyntheticSpec graph_spec(double alpha) {
  // 1 MiB = 256 pages: edges = 64 pages (65536 4-byte edges), vertices =
  // 192 pages. Block 256 -> 256 CTAs, 2048 warps, one edge per thread.
  SyntheticSpec s = spec_for("graph", uint64_t(1) << 20);
  s.zipf_alpha = alpha;
  s.seed = 3;
  s.compute_per_access = 0;
  return s;
}

// Share of the vertex accesses that land on the 10% most accessed vertex pages.
double top_tenth_share(const Stats& st) {
  std::map<uint64_t, uint64_t> per_page;
  uint64_t total = 0;
  for (const auto& [a, n] : st.reads)
    if (a >= kBase + 64 * 4096) {  // vertices start after 64 edge pages
      per_page[(a - kBase) / 4096] += n;
      total += n;
    }
  std::vector<uint64_t> counts;
  for (const auto& [p, n] : per_page) counts.push_back(n);
  std::sort(counts.rbegin(), counts.rend());
  uint64_t top = 0;
  for (size_t i = 0; i < 192 / 10 && i < counts.size(); ++i) top += counts[i];
  return double(top) / double(total);
}

TEST(Graph, EdgeListThenDependentSkewedGather) {
  const SyntheticSpec s = graph_spec(1.2);
  const auto layout = synthetic_layout(s);
  ASSERT_EQ(layout.size(), 2u);
  EXPECT_EQ(layout[0].name, "edges");
  EXPECT_EQ(layout[0].bytes, 64u * 4096);
  EXPECT_EQ(layout[1].name, "vertices");
  EXPECT_EQ(layout[1].offset, 64u * 4096);
  EXPECT_EQ(layout[1].bytes, 192u * 4096);
  EXPECT_FALSE(layout[1].gpu_writes);  // write_ratio 0

  uint64_t edge_loads = 0, gathers = 0, edge_lanes = 0, gather_lanes = 0;
  std::set<uint64_t> edge_pages, edge_lines, vertex_pages;
  uint16_t idx = 0;
  const Stats st = drain(s, [&](uint64_t, unsigned, const WarpInstr& in) {
    const bool edge = in.addr[0] < kBase + 64 * 4096;
    if (edge) {
      ++edge_loads;
      edge_lanes += popcount(in.mask);
      for (unsigned i = 0; i < 32; ++i) {
        EXPECT_EQ(in.addr[i], in.addr[0] + 4 * i);  // coalesced
        edge_pages.insert(in.addr[i] / 4096);
        edge_lines.insert(in.addr[i] / 128);
      }
      idx = in.dst[0];
    } else {
      ++gathers;
      gather_lanes += popcount(in.mask);
      ASSERT_EQ(in.nsrc, 1);
      EXPECT_EQ(in.src[0], idx);  // address from the edge just loaded
      for (unsigned i = 0; i < 32; ++i) vertex_pages.insert(in.addr[i] / 4096);
    }
  });
  EXPECT_EQ(st.ctas, 256u);
  EXPECT_EQ(st.warps, 2048u);
  EXPECT_EQ(st.instrs, 4096u);
  EXPECT_EQ(edge_loads, 2048u);
  EXPECT_EQ(gathers, 2048u);
  EXPECT_EQ(st.stores, 0u);
  EXPECT_EQ(edge_lanes, 65536u);
  EXPECT_EQ(gather_lanes, 65536u);
  EXPECT_EQ(edge_pages.size(), 64u);
  EXPECT_EQ(edge_lines.size(), 2048u);
  EXPECT_LE(vertex_pages.size(), 192u);
  // Zipf(1.2) over 192 pages: the top 19 draw about 73%.
  const double share = top_tenth_share(st);
  EXPECT_GT(share, 0.5) << share;
  EXPECT_LT(share, 0.9) << share;
}

TEST(Graph, HotPagesAreScatteredAndSkewFollowsAlpha) {
  const Stats skewed = drain(graph_spec(1.2));
  // The most accessed vertex page is rarely the first one; the hot pages
  // do not form a run at the start of the array.
  std::vector<std::pair<uint64_t, uint64_t>> pages;  // (count, page)
  std::map<uint64_t, uint64_t> per_page;
  for (const auto& [a, n] : skewed.reads)
    if (a >= kBase + 64 * 4096) per_page[(a - kBase) / 4096 - 64] += n;
  for (const auto& [p, n] : per_page) pages.push_back({n, p});
  std::sort(pages.rbegin(), pages.rend());
  uint64_t below_19 = 0;
  for (size_t i = 0; i < 19; ++i) below_19 += pages[i].second < 19;
  EXPECT_LT(below_19, 10u);
  // alpha 0 is uniform: the top tenth gets little more than a tenth.
  const double flat = top_tenth_share(drain(graph_spec(0)));
  EXPECT_LT(flat, 0.15) << flat;
  EXPECT_GT(top_tenth_share(drain(graph_spec(2.0))), top_tenth_share(skewed));
}

TEST(Graph, WritesAndDeterminism) {
  SyntheticSpec s = graph_spec(1.0);
  s.write_ratio = 0.5;
  const Stats st = drain(s);
  EXPECT_EQ(st.loads + st.stores, 4096u);
  EXPECT_GT(st.stores, 900u);  // of the 2048 gathers; edge loads never store
  EXPECT_LT(st.stores, 1150u);
  for (const auto& [a, n] : st.writes) EXPECT_GE(a, kBase + 64 * 4096);
  EXPECT_TRUE(synthetic_layout(s)[1].gpu_writes);
  s.footprint = 128 * 1024;  // smaller for the replay checks
  SyntheticSpec other = s;
  other.seed = 4;
  EXPECT_EQ(fingerprint(s), fingerprint(s));
  EXPECT_NE(fingerprint(s), fingerprint(other));
}

}  // namespace
}  // namespace hmmsim::workload::test
