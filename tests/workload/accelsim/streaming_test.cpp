// Streaming: a kernel of many thread blocks is read one block at a time;
// warps decode lazily and independently of the scanner and of each other,
// so only the warps in flight hold buffers.
#include <gtest/gtest.h>

#include <deque>

#include "traceg_text.h"
#include "workload/accelsim/traceg.h"
#include "workload/io/kernel_scan.h"

namespace hmmsim::workload::accelsim {
namespace {

using hmmsim::testing::header;
using hmmsim::testing::HeaderOpts;
using hmmsim::testing::TempDir;

constexpr unsigned kCtas = 1000, kWarps = 4, kInsts = 25;

uint64_t addr_of(unsigned cta, unsigned warp, unsigned i) {
  return 0x7f0000000000ull + (uint64_t(cta) * kWarps + warp) * 0x1000 + i * 0x80;
}

// Every block lists its warps last-to-first; the address encodes
// (block, warp, instruction) so any mix-up shows.
std::string generate() {
  HeaderOpts o;
  o.grid = "(" + std::to_string(kCtas) + ",1,1)";
  o.block = "(" + std::to_string(kWarps * 32) + ",1,1)";
  std::string t = header(o);
  char buf[128];
  for (unsigned c = 0; c < kCtas; ++c) {
    t += "#BEGIN_TB\n\nthread block = " + std::to_string(c) + ",0,0\n\n";
    for (unsigned w = kWarps; w-- > 0;) {
      t += "warp = " + std::to_string(w) + "\ninsts = " + std::to_string(kInsts) + "\n";
      for (unsigned i = 0; i < kInsts; ++i) {
        if (i % 5 == 4) {
          std::snprintf(buf, sizeof buf, "%04x ffffffff 1 R%u IADD3 2 R1 R2 0 0 \n", i * 16, i % 200);
        } else {
          std::snprintf(buf, sizeof buf, "%04x ffffffff 1 R4 LDG.E 1 R2 4 1 0x%llx 4 0 \n", i * 16,
                        (unsigned long long)addr_of(c, w, i));
        }
        t += buf;
      }
      t += "\n";
    }
    t += "#END_TB\n\n";
  }
  return t;
}

void check_warp(hw::IWarpStream& s, unsigned c, unsigned w) {
  hw::WarpInstr in;
  for (unsigned i = 0; i < kInsts; ++i) {
    ASSERT_TRUE(s.next(in)) << c << "/" << w << "/" << i;
    if (i % 5 == 4) {
      ASSERT_EQ(in.cls, hw::InstrClass::Compute);
    } else {
      ASSERT_EQ(in.addr[0], addr_of(c, w, i)) << c << "/" << w << "/" << i;
      ASSERT_EQ(in.addr[31], addr_of(c, w, i) + 31 * 4);
    }
  }
  ASSERT_FALSE(s.next(in));
  ASSERT_FALSE(s.next(in));
}

TEST(Streaming, BlocksAreReadOneAtATimeAndWarpsDecodeIndependently) {
  TempDir dir;
  std::string path = dir.write("big.traceg", generate());
  TracegKernel k(path);
  // A window of blocks in flight: block c is taken while blocks c-1 .. c-7
  // still have warps half done, and warps advance round-robin.
  std::deque<std::pair<unsigned, hw::CtaWork>> flight;
  std::deque<std::vector<unsigned>> done;  // instructions consumed per warp
  hw::WarpInstr in;
  unsigned taken = 0;
  for (;;) {
    hw::CtaWork cta;
    bool more = k.next_cta(cta);
    if (more) {
      ASSERT_EQ(cta.id.x, taken);
      ASSERT_EQ(cta.warps.size(), kWarps);
      flight.emplace_back(taken++, std::move(cta));
      done.emplace_back(kWarps, 0);
    }
    // Advance every warp in flight by a few instructions.
    for (size_t f = 0; f < flight.size(); ++f) {
      auto& [c, work] = flight[f];
      for (unsigned w = 0; w < kWarps; ++w) {
        for (int step = 0; step < 4 && done[f][w] < kInsts; ++step, ++done[f][w]) {
          ASSERT_TRUE(work.warps[w]->next(in));
          unsigned i = done[f][w];
          if (i % 5 != 4) {
            ASSERT_EQ(in.addr[5], addr_of(c, w, i) + 20);
          }
        }
      }
    }
    if (flight.size() > 7 || (!more && !flight.empty())) {
      // Finish the oldest block and let it go.
      auto& [c, work] = flight.front();
      for (unsigned w = 0; w < kWarps; ++w) {
        while (done.front()[w] < kInsts) {
          ASSERT_TRUE(work.warps[w]->next(in));
          ++done.front()[w];
        }
        ASSERT_FALSE(work.warps[w]->next(in));
      }
      (void)c;
      flight.pop_front();
      done.pop_front();
    }
    if (!more && flight.empty()) break;
  }
  EXPECT_EQ(taken, kCtas);
}

TEST(Streaming, WarpsOutliveTheScanAndTheSource) {
  TempDir dir;
  std::string path = dir.write("big.traceg.xz", hmmsim::testing::xz_compress(generate()));
  std::vector<hw::CtaWork> kept;
  {
    TracegKernel k(path);
    hw::CtaWork cta;
    for (unsigned c = 0; k.next_cta(cta); ++c) {
      if (c == 0 || c == 567 || c == kCtas - 1) kept.push_back(std::move(cta));
      cta = hw::CtaWork{};
    }
  }  // the source is gone; its file stays open for the streams
  ASSERT_EQ(kept.size(), 3u);
  const unsigned ids[] = {0, 567, kCtas - 1};
  for (size_t j = 0; j < kept.size(); ++j) {
    EXPECT_EQ(kept[j].id.x, ids[j]);
    for (unsigned w = kWarps; w-- > 0;) check_warp(*kept[j].warps[w], ids[j], w);
  }
}

TEST(Streaming, ScanCountsTheGeneratedKernel) {
  TempDir dir;
  std::string path = dir.write("big.traceg", generate());
  TracegKernel k(path);
  KernelSummary s = scan_kernel(k);
  EXPECT_EQ(s.ctas, kCtas);
  EXPECT_EQ(s.instructions, uint64_t(kCtas) * kWarps * kInsts);
  EXPECT_EQ(s.global_loads, uint64_t(kCtas) * kWarps * 20);
  EXPECT_EQ(s.compute, uint64_t(kCtas) * kWarps * 5);
  EXPECT_EQ(s.global_lanes, s.global_loads * 32);
  EXPECT_EQ(s.pages_4k, uint64_t(kCtas) * kWarps);  // one page per warp
  EXPECT_EQ(s.regions_2m.size(), (uint64_t(kCtas) * kWarps * 0x1000 + 0x1fffff) / 0x200000);
}

}  // namespace
}  // namespace hmmsim::workload::accelsim
