// Registry, parameter checks, and properties every synthetic kernel shares.
#include <gtest/gtest.h>

#include <string>

#include "tests/workload/synthetic/drain.h"

namespace hmmsim::workload::test {
namespace {

const std::vector<std::string> kAll = {"gemm_tiled",     "graph",        "pingpong", "pointer_chase", "random",
                                       "stencil2d",      "streaming_read", "streaming_rw", "strided",  "tlb_chase"};

TEST(SyntheticRegistry, ListsEveryKernelSorted) { EXPECT_EQ(synthetic_kernels(), kAll); }

// Throws invalid_argument whose message contains `needle`.
void expect_rejected(const SyntheticSpec& s, const std::string& needle) {
  try {
    make_synthetic(s);
    ADD_FAILURE() << "accepted; expected a message with '" << needle << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  EXPECT_THROW(synthetic_layout(s), std::invalid_argument);
}

TEST(SyntheticRegistry, UnknownNameListsKnownOnes) {
  try {
    make_synthetic(spec_for("nope", 4096));
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unknown synthetic kernel 'nope'"), std::string::npos) << msg;
    for (const auto& n : kAll) EXPECT_NE(msg.find(n), std::string::npos) << n;
  }
}

TEST(SyntheticRegistry, RejectsBadParametersNamingThem) {
  SyntheticSpec s = spec_for("streaming_read", 65536);
  auto with = [&](auto change) {
    SyntheticSpec t = s;
    change(t);
    return t;
  };
  expect_rejected(with([](SyntheticSpec& t) { t.width = 3; }), "width 3");
  expect_rejected(with([](SyntheticSpec& t) { t.width = 32; }), "width 32");
  expect_rejected(with([](SyntheticSpec& t) { t.footprint = 1000; }), "footprint 1000");
  expect_rejected(with([](SyntheticSpec& t) { t.footprint = 0; }), "footprint 0");
  expect_rejected(with([](SyntheticSpec& t) { t.base_va = kBase + 4096; }), "base_va");
  expect_rejected(with([](SyntheticSpec& t) { t.base_va = ~uint64_t(0) << 21; t.footprint = uint64_t(4) << 20; }),
                  "overflows");
  expect_rejected(with([](SyntheticSpec& t) { t.iterations = 0; }), "iterations");
  expect_rejected(with([](SyntheticSpec& t) { t.write_ratio = 1.5; }), "write_ratio");
  expect_rejected(with([](SyntheticSpec& t) { t.write_ratio = -0.1; }), "write_ratio");
  expect_rejected(with([](SyntheticSpec& t) { t.compute_per_access = 5000; }), "compute_per_access");
  expect_rejected(with([](SyntheticSpec& t) { t.block = {2048, 1, 1}; }), "block");
  expect_rejected(with([](SyntheticSpec& t) { t.block = {32, 0, 1}; }), "block");
  expect_rejected(with([](SyntheticSpec& t) { t.grid = {0, 2, 1}; }), "grid");
  expect_rejected(with([](SyntheticSpec& t) { t.grid = {4, 0, 1}; }), "grid");
  // Kernel-specific parameters.
  SyntheticSpec st = spec_for("strided", 65536);
  st.stride = 6;
  expect_rejected(st, "stride 6");
  st.stride = 2;  // below the width
  expect_rejected(st, "stride 2");
  st.stride = 131072;  // beyond the footprint
  expect_rejected(st, "stride 131072");
  SyntheticSpec tc = spec_for("tlb_chase", 12288);
  tc.stride = 8192;  // does not divide the footprint
  expect_rejected(tc, "stride 8192");
  SyntheticSpec g = spec_for("gemm_tiled", 65536);
  g.tile = 30;
  expect_rejected(g, "tile 30");
  g.tile = 128;
  expect_rejected(g, "tile 128");
  g = spec_for("gemm_tiled", 8192);  // 3 x (32 x 32 x 4 bytes) = 12 KiB needed
  expect_rejected(g, "footprint 8192 too small for one 32x32 tile");
  SyntheticSpec z = spec_for("graph", 65536);
  z.zipf_alpha = -1;
  expect_rejected(z, "zipf_alpha");
  expect_rejected(spec_for("graph", 4096), "footprint 4096");
  expect_rejected(spec_for("streaming_rw", 4096), "footprint 4096");
  expect_rejected(spec_for("stencil2d", 4096), "footprint 4096");
  // The message says which kernel it is about.
  expect_rejected(with([](SyntheticSpec& t) { t.width = 3; }), "'streaming_read'");
}

// A small spec each kernel accepts.
SyntheticSpec small(const std::string& k) {
  SyntheticSpec s = spec_for(k, 65536);
  s.iterations = 2;
  s.write_ratio = 0.3;
  s.block = {96, 1, 1};
  s.compute_per_access = 2;
  s.stride = 1024;
  s.tile = 16;
  s.seed = 11;
  return s;
}

class EveryKernel : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryKernel, LayoutIsPageAlignedDisjointAndInsideTheFootprint) {
  const auto layout = synthetic_layout(small(GetParam()));
  ASSERT_FALSE(layout.empty());
  uint64_t end = 0;
  for (const auto& a : layout) {
    EXPECT_EQ(a.offset % 4096, 0u) << a.name;
    EXPECT_GE(a.offset, end) << a.name;
    EXPECT_GT(a.bytes, 0u);
    EXPECT_TRUE(a.gpu_reads || a.gpu_writes) << a.name;
    end = a.offset + a.bytes;
  }
  EXPECT_LE(end, 65536u);
}

TEST_P(EveryKernel, InfoDescribesTheLaunch) {
  auto src = make_synthetic(small(GetParam()));
  const hw::KernelInfo& info = src->info();
  EXPECT_EQ(info.name, GetParam());
  ASSERT_GE(info.opcodes.size(), 7u);
  EXPECT_EQ(info.opcodes[0], "");
  EXPECT_EQ(info.opcodes[1], "LDG.E");
  EXPECT_EQ(info.opcodes[2], "STG.E");
  EXPECT_EQ(info.opcodes[3], "LDS");
  EXPECT_EQ(info.opcodes[4], "STS");
  EXPECT_EQ(info.opcodes[5], "FFMA");
  EXPECT_EQ(info.opcodes[6], "IADD3");
  EXPECT_GE(info.grid.count(), 1u);
  if (GetParam() == "tlb_chase") {
    EXPECT_EQ(info.block, (hw::Dim3{1, 1, 1}));  // always one thread
  } else if (GetParam() != "gemm_tiled") {
    EXPECT_EQ(info.block, (hw::Dim3{96, 1, 1}));
  }
}

// Instruction k of a warp depends only on (spec, CTA, warp, k): draining
// the warps in any interleaving gives the same streams, and a rebuilt
// source repeats them exactly.
TEST_P(EveryKernel, StreamsAreIndependentOfDrainOrder) {
  const SyntheticSpec s = small(GetParam());
  std::vector<std::vector<std::vector<uint64_t>>> forward, interleaved;  // [cta][warp][k] -> pc ^ addr
  auto key = [](const WarpInstr& in) {
    uint64_t h = in.pc ^ uint64_t(in.cls) << 40 ^ uint64_t(in.mask) << 8;
    for (unsigned i = 0; i < 32; ++i) h = h * 1000003 + (in.mask >> i & 1 ? in.addr[i] : 0);
    for (unsigned i = 0; i < in.nsrc; ++i) h = h * 7 + in.src[i];
    return h;
  };
  {
    auto src = make_synthetic(s);
    hw::CtaWork cta;
    while (src->next_cta(cta)) {
      forward.emplace_back();
      for (auto& w : cta.warps) {
        forward.back().emplace_back();
        WarpInstr in;
        while (w->next(in)) forward.back().back().push_back(key(in));
      }
    }
  }
  {
    // All CTAs fetched first, then one instruction per warp round-robin, last warp first.
    auto src = make_synthetic(s);
    std::vector<hw::CtaWork> ctas;
    for (hw::CtaWork c; src->next_cta(c);) ctas.push_back(std::move(c));
    interleaved.resize(ctas.size());
    for (size_t c = 0; c < ctas.size(); ++c) interleaved[c].resize(ctas[c].warps.size());
    for (bool any = true; any;) {
      any = false;
      for (size_t c = ctas.size(); c-- > 0;)
        for (size_t w = ctas[c].warps.size(); w-- > 0;) {
          WarpInstr in;
          if (ctas[c].warps[w]->next(in)) {
            interleaved[c][w].push_back(key(in));
            any = true;
          }
        }
    }
  }
  EXPECT_EQ(forward, interleaved);
  EXPECT_EQ(fingerprint(s), fingerprint(s));
}

TEST_P(EveryKernel, HonoursIterationsAndComputePerAccess) {
  SyntheticSpec one = small(GetParam());
  one.iterations = 1;
  one.compute_per_access = 0;
  SyntheticSpec three = one;
  three.iterations = 3;
  SyntheticSpec busy = one;
  busy.compute_per_access = 3;
  const Stats a = drain(one), b = drain(three), c = drain(busy);
  EXPECT_EQ(a.compute, 0u);
  EXPECT_EQ(b.instrs, 3 * a.instrs);
  EXPECT_EQ(b.global(), 3 * a.global());
  EXPECT_EQ(c.global(), a.global());
  EXPECT_EQ(c.shared_loads, a.shared_loads);
  if (GetParam() == "gemm_tiled") {
    // compute_per_access FFMAs per C register and kk: 3 times as many as with 1.
    SyntheticSpec unit = one;
    unit.compute_per_access = 1;
    EXPECT_EQ(c.compute, 3 * drain(unit).compute);
  } else {
    // Three compute instructions after every memory one.
    EXPECT_EQ(c.compute, 3 * (a.global() + a.shared_loads + a.shared_stores));
  }
}

TEST_P(EveryKernel, HonoursWidth) {
  for (uint32_t w : {1u, 2u, 8u, 16u}) {
    SyntheticSpec s = small(GetParam());
    s.footprint = 32768;
    s.width = w;
    s.stride = 4096;
    const Stats st = drain(s);  // checks width, alignment and bounds of every access
    EXPECT_GT(st.global(), 0u) << w;
  }
}

INSTANTIATE_TEST_SUITE_P(All, EveryKernel, ::testing::ValuesIn(kAll),
                         [](const auto& info) { return info.param; });

TEST(SyntheticLaunch, ThreeDimensionalGridAndBlock) {
  SyntheticSpec s = spec_for("streaming_read", 16384);  // 4096 elements of 4 bytes
  s.grid = {2, 2, 1};
  s.block = {8, 4, 2};  // 64 threads: 2 warps
  auto src = make_synthetic(s);
  std::vector<hw::Dim3> ids;
  for (hw::CtaWork c; src->next_cta(c);) {
    ids.push_back(c.id);
    EXPECT_EQ(c.warps.size(), 2u);
  }
  const std::vector<hw::Dim3> want = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0}};
  EXPECT_EQ(ids, want);
  // 256 threads, 4096 elements: 16 grid-stride steps per warp, each element once.
  const Stats st = drain(s);
  EXPECT_EQ(st.loads, 8u * 16);
  EXPECT_EQ(st.reads.size(), 4096u);
  for (const auto& [a, n] : st.reads) EXPECT_EQ(n, 1u) << a;
}

TEST(SyntheticLaunch, AutomaticGridIsCapped) {
  SyntheticSpec s = spec_for("streaming_read", uint64_t(2) << 20);  // 512 Ki elements of 4 bytes
  s.block = {128, 1, 1};
  auto src = make_synthetic(s);
  EXPECT_EQ(src->info().grid, (hw::Dim3{kMaxDefaultCtas, 1, 1}));  // not 4096
}

}  // namespace
}  // namespace hmmsim::workload::test
