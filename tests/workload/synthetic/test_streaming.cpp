// streaming_read, streaming_rw and strided: exact counts worked out by hand.
#include <gtest/gtest.h>

#include "tests/workload/synthetic/drain.h"

namespace hmmsim::workload::test {
namespace {

TEST(StreamingRead, CoalescedGridStride) {
  // 64 KiB of 4-byte elements = 16384; block 128 -> 128 CTAs x 4 warps, so
  // each thread has exactly one element per pass. 2 passes, 1 compute after
  // each load: 4 instructions per warp.
  SyntheticSpec s = spec_for("streaming_read", 65536);
  s.iterations = 2;
  s.block = {128, 1, 1};
  std::vector<uint32_t> lines_per_load;
  const Stats st = drain(s, [&](uint64_t, unsigned, const WarpInstr& in) {
    if (in.is_memory()) {
      EXPECT_EQ(in.mask, ~0u);
      for (unsigned i = 1; i < 32; ++i) EXPECT_EQ(in.addr[i], in.addr[0] + 4 * i);  // consecutive
      EXPECT_EQ(in.addr[0] % 128, 0u);
      EXPECT_EQ(in.ndst, 1);
    } else {
      EXPECT_EQ(in.dst[0], 4);  // the accumulator, fed by the load's register
    }
  });
  EXPECT_EQ(st.ctas, 128u);
  EXPECT_EQ(st.warps, 512u);
  EXPECT_EQ(st.instrs, 2048u);
  EXPECT_EQ(st.loads, 1024u);
  EXPECT_EQ(st.stores, 0u);
  EXPECT_EQ(st.compute, 1024u);
  EXPECT_EQ(st.load_lanes, 32768u);
  EXPECT_EQ(st.pages.size(), 16u);
  EXPECT_EQ(st.lines.size(), 512u);
  EXPECT_EQ(st.line_accesses, 1024u);  // one line per load
  EXPECT_EQ(st.page_accesses, 1024u);
  EXPECT_EQ(st.reads.size(), 16384u);
  for (const auto& [a, n] : st.reads) EXPECT_EQ(n, 2u) << a;  // every element once per pass
  EXPECT_EQ(st.opcodes.at(1), 1024u);                          // LDG.E
  EXPECT_EQ(st.opcodes.at(5), 1024u);                          // FFMA
}

TEST(StreamingRead, RaggedGridAndPartialWarps) {
  // 4 KiB of 8-byte elements = 512; 3 CTAs of 100 threads = 300 threads,
  // warps of 32, 32, 32 and 4 lanes. Thread t reads t and t + 300 (< 512).
  // Warps by first thread: 0 32 64 96 | 100 132 164 196 | 200 232 264 296;
  // steps = ceil((512 - t0) / 300) = 2 for the first nine, 1 for the last
  // three: 21 loads per pass. 3 passes, no compute.
  SyntheticSpec s = spec_for("streaming_read", 4096);
  s.width = 8;
  s.grid = {3, 1, 1};
  s.block = {100, 1, 1};
  s.iterations = 3;
  s.compute_per_access = 0;
  std::map<std::pair<uint64_t, unsigned>, std::vector<uint32_t>> masks;
  const Stats st = drain(s, [&](uint64_t c, unsigned w, const WarpInstr& in) { masks[{c, w}].push_back(in.mask); });
  EXPECT_EQ(st.ctas, 3u);
  EXPECT_EQ(st.warps, 12u);
  EXPECT_EQ(st.loads, 63u);
  EXPECT_EQ(st.instrs, 63u);
  // Per pass 300 lanes at step 0, 212 (threads 0..211) at step 1.
  EXPECT_EQ(st.load_lanes, 3u * 512);
  EXPECT_EQ(st.pages.size(), 1u);
  EXPECT_EQ(st.lines.size(), 32u);
  for (const auto& [a, n] : st.reads) EXPECT_EQ(n, 3u) << a;
  EXPECT_EQ(st.reads.size(), 512u);
  // CTA 2, warp 0 (threads 200..231): step 1 keeps threads 200..211.
  const std::vector<uint32_t> cta2_warp0 = {~0u, 0xfffu, ~0u, 0xfffu, ~0u, 0xfffu};
  const std::vector<uint32_t> cta0_warp3 = {0xfu, 0xfu, 0xfu, 0xfu, 0xfu, 0xfu};  // 4 lanes
  EXPECT_EQ(masks[std::make_pair(uint64_t(2), 0u)], cta2_warp0);
  EXPECT_EQ(masks[std::make_pair(uint64_t(0), 3u)], cta0_warp3);
  EXPECT_EQ(masks[std::make_pair(uint64_t(2), 1u)].size(), 3u);  // threads 232..263: one step per pass
}

TEST(StreamingRw, StoreWaitsForItsLoad) {
  // 32 KiB: in = [0, 16 KiB), out = [16 KiB, 32 KiB), 4096 elements each.
  // Block 256 -> 16 CTAs, 128 warps, one element per thread: load, 2 FFMA,
  // store, 2 IADD = 6 instructions per warp.
  SyntheticSpec s = spec_for("streaming_rw", 32768);
  s.compute_per_access = 2;
  s.write_ratio = 0.7;  // unused by this kernel
  const auto layout = synthetic_layout(s);
  ASSERT_EQ(layout.size(), 2u);
  EXPECT_EQ(layout[0].name, "in");
  EXPECT_EQ(layout[0].offset, 0u);
  EXPECT_EQ(layout[0].bytes, 16384u);
  EXPECT_TRUE(layout[0].gpu_reads);
  EXPECT_FALSE(layout[0].gpu_writes);
  EXPECT_EQ(layout[1].name, "out");
  EXPECT_EQ(layout[1].offset, 16384u);
  EXPECT_EQ(layout[1].bytes, 16384u);
  EXPECT_FALSE(layout[1].gpu_reads);
  EXPECT_TRUE(layout[1].gpu_writes);

  uint16_t loaded = 0;
  uint64_t load_addr0 = 0, checked = 0;
  const Stats st = drain(s, [&](uint64_t, unsigned, const WarpInstr& in) {
    if (in.cls == InstrClass::Load) {
      ASSERT_EQ(in.ndst, 1);
      loaded = in.dst[0];
      load_addr0 = in.addr[0];
    } else if (in.cls == InstrClass::Store) {
      bool reads_it = false;
      for (unsigned i = 0; i < in.nsrc; ++i) reads_it |= in.src[i] == loaded;
      EXPECT_TRUE(reads_it);
      EXPECT_EQ(in.addr[0], load_addr0 + 16384);  // out[i] for in[i]
      ++checked;
    } else if (in.opcode == 5) {  // FFMA works on the loaded value in place
      EXPECT_EQ(in.dst[0], loaded);
      EXPECT_EQ(in.src[0], loaded);
    }
  });
  EXPECT_EQ(checked, 128u);
  EXPECT_EQ(st.ctas, 16u);
  EXPECT_EQ(st.warps, 128u);
  EXPECT_EQ(st.instrs, 768u);
  EXPECT_EQ(st.loads, 128u);
  EXPECT_EQ(st.stores, 128u);
  EXPECT_EQ(st.compute, 512u);
  EXPECT_EQ(st.load_lanes, 4096u);
  EXPECT_EQ(st.store_lanes, 4096u);
  EXPECT_EQ(st.pages.size(), 8u);
  EXPECT_EQ(st.lines.size(), 256u);
  EXPECT_EQ(st.reads.size(), 4096u);
  EXPECT_EQ(st.writes.size(), 4096u);
  for (const auto& [a, n] : st.reads) EXPECT_EQ(n, 1u);
  for (const auto& [a, n] : st.writes) EXPECT_EQ(n, 1u);
}

TEST(StreamingRw, OddPageCountLeavesTheLastPageUnused) {
  const auto layout = synthetic_layout(spec_for("streaming_rw", 12288));
  ASSERT_EQ(layout.size(), 2u);
  EXPECT_EQ(layout[0].bytes, 4096u);
  EXPECT_EQ(layout[1].offset, 4096u);
  EXPECT_EQ(layout[1].bytes, 4096u);
}

TEST(Strided, EveryLaneOnItsOwnRowPage) {
  // 64 KiB as 16 rows of 4096 bytes (1024 elements each). Thread u reads
  // row u % 16, element u / 16: a warp (32 consecutive threads) covers all
  // 16 rows = 16 pages, at columns 2j and 2j + 1 (the same 128-byte line),
  // so 16 lines per load. 16384 elements, block 128: 128 CTAs, 512 warps,
  // one load each.
  SyntheticSpec s = spec_for("strided", 65536);
  s.block = {128, 1, 1};
  s.compute_per_access = 0;
  const Stats st = drain(s, [&](uint64_t, unsigned, const WarpInstr& in) {
    for (unsigned i = 0; i < 15; ++i) EXPECT_EQ(in.addr[i + 1] - in.addr[i], 4096u);
    EXPECT_EQ(in.addr[16], in.addr[0] + 4);  // lanes 16..31: the next column
  });
  EXPECT_EQ(st.ctas, 128u);
  EXPECT_EQ(st.warps, 512u);
  EXPECT_EQ(st.loads, 512u);
  EXPECT_EQ(st.stores, 0u);
  EXPECT_EQ(st.load_lanes, 16384u);
  EXPECT_EQ(st.page_accesses, 512u * 16);
  EXPECT_EQ(st.line_accesses, 512u * 16);
  EXPECT_EQ(st.pages.size(), 16u);
  EXPECT_EQ(st.lines.size(), 512u);
  EXPECT_EQ(st.reads.size(), 16384u);
  for (const auto& [a, n] : st.reads) EXPECT_EQ(n, 1u);
}

TEST(Strided, SubPageStrideAndWrites) {
  // stride 256, 8-byte elements, 8 KiB: 32 rows of 32 elements. A warp is
  // rows 0..31 at one column: 32 lines, 2 pages (rows 0-15, 16-31).
  // 1024 elements, grid 2 x block 64: 128 threads, 8 steps per warp;
  // 2 passes: 4 warps x 8 x 2 = 64 memory instructions; with write_ratio 1
  // all are stores.
  SyntheticSpec s = spec_for("strided", 8192);
  s.width = 8;
  s.stride = 256;
  s.grid = {2, 1, 1};
  s.block = {64, 1, 1};
  s.iterations = 2;
  s.write_ratio = 1;
  s.compute_per_access = 1;
  const Stats st = drain(s, [&](uint64_t, unsigned, const WarpInstr& in) {
    if (!in.is_memory()) {
      EXPECT_EQ(in.opcode, 6);  // IADD3 after each store
    }
  });
  EXPECT_EQ(st.warps, 4u);
  EXPECT_EQ(st.stores, 64u);
  EXPECT_EQ(st.loads, 0u);
  EXPECT_EQ(st.instrs, 128u);
  EXPECT_EQ(st.store_lanes, 2048u);
  EXPECT_EQ(st.line_accesses, 64u * 32);
  EXPECT_EQ(st.page_accesses, 64u * 2);
  EXPECT_EQ(st.pages.size(), 2u);
  EXPECT_EQ(st.lines.size(), 64u);
  for (const auto& [a, n] : st.writes) EXPECT_EQ(n, 2u);
  EXPECT_EQ(st.writes.size(), 1024u);
  EXPECT_TRUE(synthetic_layout(s)[0].gpu_writes);
}

}  // namespace
}  // namespace hmmsim::workload::test
