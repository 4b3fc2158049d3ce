// stencil2d, gemm_tiled and pingpong: exact counts worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/workload/synthetic/drain.h"

namespace hmmsim::workload::test {
namespace {

// Reads of `in` a 5-point stencil with clamped edges makes, per element.
std::map<uint64_t, uint64_t> stencil_reads(uint64_t nx, uint64_t ny, uint64_t in, uint64_t width) {
  std::map<uint64_t, uint64_t> r;
  auto at = [&](uint64_t x, uint64_t y) { ++r[in + (y * nx + x) * width]; };
  for (uint64_t y = 0; y < ny; ++y)
    for (uint64_t x = 0; x < nx; ++x) {
      at(x, y);
      at(x, y == 0 ? 0 : y - 1);
      at(x, std::min(y + 1, ny - 1));
      at(std::min(x + 1, nx - 1), y);
      at(x == 0 ? 0 : x - 1, y);
    }
  return r;
}

TEST(Stencil2d, OneRowPerWarp) {
  // 8 KiB: in and out of 4 KiB = 1024 4-byte cells each; nx = 32 (32 x 32
  // <= 1024), ny = 32. Block 256 -> 4 CTAs, 32 warps; warp w is row w.
  // Per warp: 5 loads + 1 store, each followed by one compute: 12.
  SyntheticSpec s = spec_for("stencil2d", 8192);
  const auto layout = synthetic_layout(s);
  ASSERT_EQ(layout.size(), 2u);
  EXPECT_EQ(layout[0].bytes, 4096u);
  EXPECT_EQ(layout[1].offset, 4096u);
  uint64_t stores = 0;
  const Stats st = drain(s, [&](uint64_t, unsigned, const WarpInstr& in) {
    if (in.cls != InstrClass::Store) return;
    ++stores;
    ASSERT_EQ(in.nsrc, 2);
    EXPECT_EQ(in.src[1], 4);  // the accumulator the five loads were folded into
  });
  EXPECT_EQ(stores, 32u);
  EXPECT_EQ(st.ctas, 4u);
  EXPECT_EQ(st.warps, 32u);
  EXPECT_EQ(st.instrs, 384u);
  EXPECT_EQ(st.loads, 160u);
  EXPECT_EQ(st.stores, 32u);
  EXPECT_EQ(st.compute, 192u);
  EXPECT_EQ(st.load_lanes, 5120u);
  EXPECT_EQ(st.store_lanes, 1024u);
  EXPECT_EQ(st.pages.size(), 2u);
  EXPECT_EQ(st.lines.size(), 64u);
  EXPECT_EQ(st.line_accesses, 192u);  // a 32-cell row is one 128-byte line
  EXPECT_EQ(st.reads, stencil_reads(32, 32, kBase, 4));
  EXPECT_EQ(st.writes.size(), 1024u);
  for (const auto& [a, n] : st.writes) EXPECT_EQ(n, 1u);
}

TEST(Stencil2d, HalfRowWarpsAndEdgeLines) {
  // 64 KiB: halves of 8192 cells; isqrt(8192) = 90 -> nx = 64, ny = 128.
  // 8192 points, block 256 -> 32 CTAs, 256 warps of half a row each. Lines
  // per warp: C, N, S, store 1 each; E 2 for the left half (x + 1 reaches
  // x = 32), 1 for the right (clamped at 63); W the other way round: 7.
  // Rows are 256 bytes, 16 to a page, so each access stays in one page.
  SyntheticSpec s = spec_for("stencil2d", 65536);
  s.compute_per_access = 0;
  std::vector<uint16_t> store_src;
  const Stats st = drain(s, [&](uint64_t, unsigned, const WarpInstr& in) {
    if (in.cls == InstrClass::Store && store_src.empty()) store_src.assign(in.src, in.src + in.nsrc);
  });
  EXPECT_EQ(store_src, (std::vector<uint16_t>{2, 8, 9, 10, 11, 12}));  // all five loaded values
  EXPECT_EQ(st.ctas, 32u);
  EXPECT_EQ(st.warps, 256u);
  EXPECT_EQ(st.instrs, 1536u);
  EXPECT_EQ(st.loads, 1280u);
  EXPECT_EQ(st.stores, 256u);
  EXPECT_EQ(st.line_accesses, 256u * 7);
  EXPECT_EQ(st.page_accesses, 256u * 6);
  EXPECT_EQ(st.pages.size(), 16u);
  EXPECT_EQ(st.lines.size(), 512u);
  EXPECT_EQ(st.reads, stencil_reads(64, 128, kBase, 4));
  EXPECT_EQ(st.writes.size(), 8192u);
}

TEST(GemmTiled, CountsForN64Tile32) {
  // 48 KiB = 3 x 64 x 64 x 4 bytes: n = 64, 2 x 2 tiles -> 4 CTAs of 32 x 8
  // threads (8 warps, each one tile row ty, rows ty + 8r for r < 4).
  // Per warp and k-tile (2 of them): 4 + 4 LDG, 4 + 4 STS, then 32 x (5 LDS
  // + 4 FFMA); then 4 STG: 2 x (16 + 288) + 4 = 612 instructions.
  SyntheticSpec s = spec_for("gemm_tiled", 49152);
  const auto layout = synthetic_layout(s);
  ASSERT_EQ(layout.size(), 3u);
  EXPECT_EQ(layout[0].name, "A");
  EXPECT_EQ(layout[1].name, "B");
  EXPECT_EQ(layout[1].offset, 16384u);
  EXPECT_EQ(layout[2].name, "C");
  EXPECT_EQ(layout[2].offset, 32768u);
  EXPECT_TRUE(layout[2].gpu_writes && !layout[2].gpu_reads);
  auto src = make_synthetic(s);
  EXPECT_EQ(src->info().grid, (hw::Dim3{2, 2, 1}));
  EXPECT_EQ(src->info().block, (hw::Dim3{32, 8, 1}));
  EXPECT_EQ(src->info().shmem_bytes, 8192u);

  const uint64_t A = kBase, B = kBase + 16384, C = kBase + 32768;
  uint64_t broadcast_lds = 0;
  const Stats st = drain(s, [&](uint64_t c, unsigned, const WarpInstr& in) {
    const uint64_t trow = c / 2, tcol = c % 2;  // blockIdx.y, blockIdx.x
    if (in.space == MemSpace::Shared) {
      if (in.cls == InstrClass::Load && in.addr[31] == in.addr[0]) ++broadcast_lds;
      return;
    }
    if (!in.is_memory()) return;
    for (unsigned i = 0; i < 32; ++i) {
      const uint64_t a = in.addr[i];
      EXPECT_EQ(a, in.addr[0] + 4 * i);  // one coalesced 128-byte row segment
      const uint64_t e = (a - (a >= C ? C : a >= B ? B : A)) / 4, row = e / 64, col = e % 64;
      if (a < B) EXPECT_EQ(row / 32, trow);  // A: this tile's rows
      else if (a < C) EXPECT_EQ(col / 32, tcol);  // B: this tile's columns
      else EXPECT_TRUE(row / 32 == trow && col / 32 == tcol);  // C: the tile itself
    }
  });
  EXPECT_EQ(st.ctas, 4u);
  EXPECT_EQ(st.warps, 32u);
  EXPECT_EQ(st.instrs, 32u * 612);
  EXPECT_EQ(st.loads, 2u * 2 * 2 * 2 * 32);  // 2 (n/T)^3 T row loads = 512
  EXPECT_EQ(st.stores, 128u);                // 64 rows x 2 tile columns
  EXPECT_EQ(st.shared_stores, 512u);
  EXPECT_EQ(st.shared_loads, 32u * 2 * 32 * 5);
  EXPECT_EQ(broadcast_lds, 32u * 2 * 32 * 4);  // the A operand: one word per warp
  EXPECT_EQ(st.compute, 32u * 2 * 32 * 4);     // FFMA
  EXPECT_EQ(st.opcodes.at(5), st.compute);
  EXPECT_EQ(st.line_accesses, 640u);
  EXPECT_EQ(st.lines.size(), 384u);
  EXPECT_EQ(st.pages.size(), 12u);
  EXPECT_EQ(st.shmem_max, 8192u);
  for (const auto& [a, n] : st.reads) EXPECT_EQ(n, 2u);  // each A and B element by n/T = 2 CTAs
  EXPECT_EQ(st.reads.size(), 8192u);
  for (const auto& [a, n] : st.writes) EXPECT_EQ(n, 1u);
  EXPECT_EQ(st.writes.size(), 4096u);
}

TEST(GemmTiled, FfmaDependsOnItsSharedOperands) {
  SyntheticSpec s = spec_for("gemm_tiled", 49152);
  s.compute_per_access = 2;
  std::set<uint16_t> lds_dst;
  uint64_t ffma = 0;
  drain(s, [&](uint64_t, unsigned, const WarpInstr& in) {
    if (in.space == MemSpace::Shared && in.cls == InstrClass::Load) lds_dst.insert(in.dst[0]);
    if (in.is_memory()) return;
    ++ffma;
    ASSERT_EQ(in.nsrc, 3);
    EXPECT_TRUE(lds_dst.count(in.src[0]) && lds_dst.count(in.src[1]));
    EXPECT_EQ(in.src[2], in.dst[0]);  // accumulates
  });
  EXPECT_EQ(ffma, 2u * 32 * 2 * 32 * 4);
}

TEST(GemmTiled, Tile16) {
  // 48 KiB still gives n = 64; 4 x 4 tiles -> 16 CTAs of 16 x 4 threads =
  // 2 warps, each covering 2 tile rows per instruction. Per warp: 4 k-tiles
  // x (16 + 16 x 9) + 4 = 644. Row loads: 2 (n/T)^3 T = 2048, two per LDG.
  SyntheticSpec s = spec_for("gemm_tiled", 49152);
  s.tile = 16;
  s.iterations = 2;
  const Stats st = drain(s);
  EXPECT_EQ(st.ctas, 16u);
  EXPECT_EQ(st.warps, 32u);
  EXPECT_EQ(st.instrs, 2u * 32 * 644);
  EXPECT_EQ(st.loads, 2u * 1024);
  EXPECT_EQ(st.load_lanes, 2u * 32768);
  EXPECT_EQ(st.stores, 2u * 128);
  EXPECT_EQ(st.store_lanes, 2u * 4096);
  for (const auto& [a, n] : st.reads) EXPECT_EQ(n, 2u * 4);  // n/T = 4 CTAs per element, 2 passes
  for (const auto& [a, n] : st.writes) EXPECT_EQ(n, 2u);
}

TEST(Pingpong, EveryWarpLoadsAndStoresEveryPage) {
  // 4 pages of 1024 4-byte words; automatic grid: one thread per word of a
  // page -> 4 CTAs of 256 = 32 warps. Per warp and pass: load + store per
  // page, each followed by one compute: 3 x 4 x 2 x 2 = 48.
  SyntheticSpec s = spec_for("pingpong", 16384);
  s.iterations = 3;
  std::vector<std::pair<InstrClass, uint64_t>> warp0;  // (class, page) of CTA 0 warp 0
  uint16_t loaded = 0;
  const Stats st = drain(s, [&](uint64_t c, unsigned w, const WarpInstr& in) {
    if (!in.is_memory()) return;
    if (in.cls == InstrClass::Load) loaded = in.dst[0];
    else EXPECT_EQ(in.src[1], loaded);  // stores the value it loaded
    if (c == 0 && w == 0) warp0.push_back({in.cls, (in.addr[0] - kBase) / 4096});
  });
  EXPECT_EQ(st.ctas, 4u);
  EXPECT_EQ(st.warps, 32u);
  EXPECT_EQ(st.instrs, 32u * 48);
  EXPECT_EQ(st.loads, 32u * 12);
  EXPECT_EQ(st.stores, 32u * 12);
  EXPECT_EQ(st.compute, 32u * 24);
  EXPECT_EQ(st.load_lanes, 3u * 4096);  // every word of every page, each pass
  EXPECT_EQ(st.store_lanes, 3u * 4096);
  EXPECT_EQ(st.pages.size(), 4u);
  EXPECT_EQ(st.lines.size(), 128u);
  for (const auto& [a, n] : st.reads) EXPECT_EQ(n, 3u);
  for (const auto& [a, n] : st.writes) EXPECT_EQ(n, 3u);
  EXPECT_EQ(st.reads.size(), 4096u);
  ASSERT_EQ(warp0.size(), 24u);
  for (size_t i = 0; i < warp0.size(); ++i) {
    EXPECT_EQ(warp0[i].first, i % 2 ? InstrClass::Store : InstrClass::Load);
    EXPECT_EQ(warp0[i].second, i / 2 % 4);
  }
}

TEST(Pingpong, FewThreads) {
  // 2 pages, one CTA of 64 threads (2 warps): words 0..63 of each page,
  // 2 lines per page.
  SyntheticSpec s = spec_for("pingpong", 8192);
  s.grid = {1, 1, 1};
  s.block = {64, 1, 1};
  s.compute_per_access = 0;
  const Stats st = drain(s);
  EXPECT_EQ(st.instrs, 8u);
  EXPECT_EQ(st.loads, 4u);
  EXPECT_EQ(st.stores, 4u);
  EXPECT_EQ(st.pages.size(), 2u);
  EXPECT_EQ(st.lines.size(), 4u);
}

}  // namespace
}  // namespace hmmsim::workload::test
