// scan_kernel: counts by class and space, lanes, bytes, pages (including
// lane accesses that straddle a page) and 2 MiB regions.
#include <gtest/gtest.h>

#include <deque>

#include "workload/io/kernel_scan.h"

namespace hmmsim::workload {
namespace {

using hw::InstrClass;
using hw::MemSpace;
using hw::WarpInstr;

class ListWarp : public hw::IWarpStream {
 public:
  explicit ListWarp(std::vector<WarpInstr> v) : m_v(std::move(v)) {}
  bool next(WarpInstr& out) override {
    if (m_i >= m_v.size()) return false;
    out = m_v[m_i++];
    return true;
  }

 private:
  std::vector<WarpInstr> m_v;
  size_t m_i = 0;
};

// CTAs of warps of instruction lists.
class ListSource : public hw::IKernelSource {
 public:
  using Cta = std::vector<std::vector<WarpInstr>>;
  explicit ListSource(std::deque<Cta> ctas) : m_ctas(std::move(ctas)) {}
  const hw::KernelInfo& info() const override { return m_info; }
  bool next_cta(hw::CtaWork& out) override {
    out.warps.clear();
    if (m_ctas.empty()) return false;
    for (auto& w : m_ctas.front()) out.warps.push_back(std::make_unique<ListWarp>(w));
    m_ctas.pop_front();
    return true;
  }

 private:
  hw::KernelInfo m_info;
  std::deque<Cta> m_ctas;
};

WarpInstr compute() { return WarpInstr{}; }

WarpInstr mem(InstrClass c, MemSpace s, uint8_t width, uint32_t mask, uint64_t base, int64_t stride) {
  WarpInstr w;
  w.cls = c;
  w.space = s;
  w.width = width;
  w.mask = mask;
  uint64_t a = base;
  for (unsigned l = 0; l < 32; ++l) {
    w.addr[l] = (mask >> l & 1) ? a : 0xdead0000;  // inactive lanes must not count
    a += static_cast<uint64_t>(stride);
  }
  return w;
}

TEST(KernelScan, CountsEverything) {
  const uint64_t A = 0x7f0000000000;  // 2 MiB aligned
  ListSource::Cta cta0 = {
      {compute(), mem(InstrClass::Load, MemSpace::Global, 4, 0xffffffff, A, 4),  // 128 B, 1 page
       mem(InstrClass::Store, MemSpace::Global, 8, 0x0000000f, A + 0x1000 - 8, 8)},  // pages 1,2 (lane 1 at 0x1000)
      {mem(InstrClass::Load, MemSpace::Shared, 4, 0xffffffff, 0, 4),
       mem(InstrClass::Load, MemSpace::Const, 4, 1, 0, 0), compute()},
  };
  ListSource::Cta cta1 = {
      // One 16-byte lane straddling pages 0x200-0x201 and the region boundary.
      {mem(InstrClass::Atomic, MemSpace::Global, 16, 0x1, A + 0x200000 - 8, 0)},
      {mem(InstrClass::Store, MemSpace::Local, 4, 0xffffffff, 0, 4)},
      {},  // a warp with nothing to do
      {mem(InstrClass::Load, MemSpace::Global, 4, 0, A + 0x40000000, 4)},  // mask 0: no lanes
  };
  ListSource src({cta0, cta1});
  KernelSummary s = scan_kernel(src);
  EXPECT_EQ(s.ctas, 2u);
  EXPECT_EQ(s.warps, 6u);
  EXPECT_EQ(s.instructions, 9u);
  EXPECT_EQ(s.compute, 2u);
  EXPECT_EQ(s.global_loads, 2u);
  EXPECT_EQ(s.global_stores, 1u);
  EXPECT_EQ(s.global_atomics, 1u);
  EXPECT_EQ(s.global_instructions(), 4u);
  EXPECT_EQ(s.global_lanes, 32u + 4u + 1u);
  EXPECT_EQ(s.global_bytes, 128u + 32u + 16u);
  EXPECT_EQ(s.shared, 1u);
  EXPECT_EQ(s.local, 1u);
  EXPECT_EQ(s.constant, 1u);
  // Pages: A+0 (load, and store lane 0 at 0xff8), A+0x1000 (store lanes
  // 1..3), A+0x1ff000 and A+0x200000 (the straddling atomic).
  EXPECT_EQ(s.pages_4k, 4u);
  EXPECT_EQ(s.regions_2m, (std::vector<uint64_t>{A, A + 0x200000}));
}

TEST(KernelScan, EmptySource) {
  ListSource src({});
  KernelSummary s = scan_kernel(src);
  EXPECT_EQ(s.ctas, 0u);
  EXPECT_EQ(s.instructions, 0u);
  EXPECT_TRUE(s.regions_2m.empty());
}

}  // namespace
}  // namespace hmmsim::workload
