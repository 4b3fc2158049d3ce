// The SMs running kernels: CTA dispatch within the slot limits, round-robin
// placement, and the register scoreboard that lets independent loads overlap
// while dependent ones wait. Loads go to slow system memory (1 µs each) so
// the timing effects are large and exact enough to assert.
#include <gtest/gtest.h>

#include <vector>

#include "hwref/page_table_format.h"
#include "tests/hw/gpu_bench.h"
#include "tests/hw/list_kernel.h"
#include "tests/hw/pt_builder.h"

using namespace hmmsim::sctest;
using hmmsim::hw::WarpInstr;
namespace pt = hmmsim::hwref::pt;

namespace {

constexpr uint64_t kVa = 0x100000000000ull, kHostPa = 0x200000;
constexpr uint64_t kUs = 1000000;  // ps

WarpInstr load(uint64_t va, uint16_t dst, int src = -1) {
  WarpInstr in = ld(va, 128);
  in.ndst = 1;
  in.dst[0] = dst;
  if (src >= 0) {
    in.nsrc = 1;
    in.src[0] = static_cast<uint16_t>(src);
  }
  return in;
}

// Runs `k` with 8 host pages mapped at kVa; returns the kernel's duration in ps.
uint64_t run(Bench& b, ListKernel& k) {
  b.host.read_ns = 1000;
  PtBuilder ptb(b.gpu.vram().core(), 0x100000);
  for (uint64_t p = 0; p < 8; ++p) ptb.map(kVa + p * 4096, kHostPa + p * 4096, pt::Aperture::SysCoherent, true);
  uint64_t t0 = 0, t1 = 0;
  b.drv.body = [&] {
    b.w64(bar0::kPdbLo, ptb.root());
    t0 = now_ps();
    b.gpu.launch(k);
    sc_core::wait(b.gpu.kernel_done());
    t1 = now_ps();
  };
  sc_core::sc_start();
  EXPECT_TRUE(b.gpu.finished());
  EXPECT_TRUE(b.gpu.source_error().empty()) << b.gpu.source_error();
  return t1 - t0;
}

TEST(SmKernel, IndependentLoadsOverlap) {
  Bench b;
  ListKernel k({{{load(kVa, 1), load(kVa + 4096, 2)}}});
  const uint64_t t = run(b, k);
  EXPECT_EQ(b.gpu.sm(0).c.loads, 2u);
  // Both loads are in flight at once: the kernel takes one memory latency, not two.
  EXPECT_GE(t, 1 * kUs);
  EXPECT_LT(t, 1 * kUs + kUs / 2);
}

TEST(SmKernel, ALoadThatNeedsTheLastOneWaitsForIt) {
  Bench b;
  ListKernel k({{{load(kVa, 1), load(kVa + 4096, 2, /*src=*/1)}}});  // pointer chase
  const uint64_t t = run(b, k);
  EXPECT_GE(t, 2 * kUs);
  EXPECT_LT(t, 2 * kUs + kUs / 2);
}

TEST(SmKernel, CtasBeyondTheSlotLimitsWaitForAFreeSlot) {
  GpuSpec s = small_gpu();
  s.sm.max_ctas = 2;
  s.sm.max_warps = 4;
  Bench b(s);
  // Five CTAs of two warps, each warp one 1 µs load: two CTAs fit at a time,
  // so three waves.
  std::vector<std::vector<Warp>> ctas;
  for (int c = 0; c < 5; ++c) ctas.push_back({{load(kVa + c * 256, 1)}, {load(kVa + c * 256 + 128, 1)}});
  ListKernel k(ctas, 2);
  const uint64_t t = run(b, k);
  EXPECT_EQ(b.gpu.sm(0).c.ctas, 5u);
  EXPECT_EQ(b.gpu.sm(0).c.warps, 10u);
  EXPECT_GE(t, 3 * kUs);
  EXPECT_LT(t, 3 * kUs + kUs / 2);
}

TEST(SmKernel, RoomForEveryCtaRunsThemInOneWave) {
  Bench b;  // 32 CTAs and 64 warps per SM by default
  std::vector<std::vector<Warp>> ctas;
  for (int c = 0; c < 5; ++c) ctas.push_back({{load(kVa + c * 256, 1)}, {load(kVa + c * 256 + 128, 1)}});
  ListKernel k(ctas, 2);
  const uint64_t t = run(b, k);
  EXPECT_EQ(b.gpu.sm(0).c.ctas, 5u);
  EXPECT_GE(t, 1 * kUs);
  EXPECT_LT(t, 1 * kUs + kUs / 2);
}

TEST(SmKernel, CtasGoRoundRobinAcrossSms) {
  GpuSpec s = small_gpu();
  s.sms = 2;
  Bench b(s);
  std::vector<std::vector<Warp>> ctas;
  for (int c = 0; c < 4; ++c) ctas.push_back({{load(kVa + c * 128, 1)}});
  ListKernel k(ctas, 1);
  run(b, k);
  EXPECT_EQ(b.gpu.sm(0).c.ctas, 2u);
  EXPECT_EQ(b.gpu.sm(1).c.ctas, 2u);
}

TEST(SmKernel, ACtaLargerThanAnSmIsBadInput) {
  GpuSpec s = small_gpu();
  s.sm.max_warps = 2;
  Bench b(s);
  ListKernel k({{{load(kVa, 1)}, {load(kVa, 1)}, {load(kVa, 1)}}});  // 3 warps
  b.drv.body = [&] { b.gpu.launch(k); };
  sc_core::sc_start();
  EXPECT_NE(b.gpu.source_error().find("does not fit an SM (gpu.sm.max_warps = 2)"), std::string::npos)
      << b.gpu.source_error();
  EXPECT_EQ(b.gpu.sm(0).c.instructions, 0u);
}

}  // namespace

namespace {

TEST(SmKernel, CtasOfEmptyWarpsAreCountedOnceAndNeverOverfillAnSm) {
  // Found in review: a CTA whose warps were all empty was freed twice, so
  // the SM admitted more CTAs than its slots and wrote past them.
  GpuSpec s = small_gpu();
  s.sm.max_ctas = 2;
  s.sm.max_warps = 4;
  Bench b(s);
  std::vector<std::vector<Warp>> ctas;
  for (int c = 0; c < 7; ++c) {
    if (c % 2)
      ctas.push_back({{}, {}});  // nothing to run
    else
      ctas.push_back({{load(kVa + c * 256, 1)}, {load(kVa + c * 256 + 128, 1)}});
  }
  ListKernel k(ctas, 2);
  run(b, k);
  EXPECT_EQ(b.gpu.sm(0).c.ctas, 7u);
  EXPECT_EQ(b.gpu.sm(0).c.warps, 14u);
  EXPECT_EQ(b.gpu.sm(0).c.loads, 8u);
}

TEST(SmKernel, ManyEmptyCtasInARowDoNotRecurse) {
  Bench b;
  std::vector<std::vector<Warp>> ctas(20000, std::vector<Warp>{{}});
  ctas.push_back({{load(kVa, 1)}});
  ListKernel k(ctas, 1);
  run(b, k);
  EXPECT_EQ(b.gpu.sm(0).c.ctas, 20001u);
  EXPECT_EQ(b.gpu.sm(0).c.loads, 1u);
}

}  // namespace
