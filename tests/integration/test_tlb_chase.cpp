// The tlb-chase microbenchmark end to end: swept over footprints, the time
// per dependent access steps up where the pages touched outgrow the L1 TLB
// and then the L2 TLB, at the reach the config gives them, for 4 KiB and
// 64 KiB pages; with the L2 switched off its step is gone. Small TLBs keep
// the sweep cheap (a few seconds in all).
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <vector>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

// Small hierarchy: L1 16 entries fully associative, L2 128 entries (8-way).
constexpr uint64_t kL1Entries = 16, kL2Entries = 128;
constexpr double kCycleNs = 1000.0 / 1400;  // gpu.clock_mhz default
constexpr double kL2HitNs = 8 * kCycleNs;   // gpu.tlb.l2.hit_cycles default
constexpr double kWalkLevelNs = 20 * kCycleNs;  // gpu.gmmu.walk_level_cycles: at least one read per walk
constexpr unsigned kPasses = 4;

struct Point {
  uint64_t footprint = 0;
  double ns = 0;  // steady state per access: (k1 - k2) / (loads1 - loads2)
  double l1_hits = 0, l2_hits = 0, walk_reads = 0;  // per access, same difference
};

std::string bytes(uint64_t b) { return std::to_string(b); }

// One run of configs/microbench/tlb-chase.yaml at `footprint`, a stride of
// one page, the driver writing PTEs of `page` bytes.
Point chase(uint64_t footprint, uint64_t page, const std::string& extra = "") {
  const std::string k = "{synthetic: tlb_chase, buffer: chain, stride: " + bytes(page) +
                        ", width: 8, compute_per_access: 0, iterations: ";
  const std::string steps = "[{kernel: " + k + "1}}, {kernel: " + k + std::to_string(kPasses) + "}}, {kernel: " + k +
                            "1}}]";
  const std::string chunk = page == 4096 ? "4KiB" : page == 65536 ? "64KiB" : "2MiB";
  const uint64_t room_mib = (footprint + footprint / 4) / (1 << 20) + 64;
  const std::string dir = fresh_dir("chase_" + bytes(footprint) + "_" + bytes(page));
  const RunOutput r = run_hmmsim(
      "run " + source("configs/microbench/tlb-chase.yaml") + " -q --out " + dir +
      " --set 'workload.buffers=[{name: chain, bytes: " + bytes(footprint) + ", placement: device}]'" +
      " --set 'workload.steps=" + steps + "' --set driver.vram_chunk=" + chunk +
      " --set host.ram=" + std::to_string(room_mib) + "MiB --set gpu.vram.capacity=" + std::to_string(room_mib) +
      "MiB --set gpu.tlb.l1.entries=" + bytes(kL1Entries) + " --set gpu.tlb.l1.ways=0 --set gpu.tlb.l2.entries=" +
      bytes(kL2Entries) + " " + extra);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  Point p;
  p.footprint = footprint;
  if (r.exit_code != 0) return p;
  const auto s = read_stats(dir);
  const auto& k1 = s["kernels"]["k1"];
  const auto& k2 = s["kernels"]["k2"];
  auto d = [&](const std::string& path) { return double(stat(k1, path) - stat(k2, path)); };
  const double loads = d("gpu.loads");
  EXPECT_EQ(loads, double((kPasses - 1) * (footprint / page)));
  EXPECT_EQ(stat(k1, "gpu.gmmu.faults"), 0);  // placement: device, nothing faults
  p.ns = (k1["time_ns"].get<double>() - k2["time_ns"].get<double>()) / loads;
  p.l1_hits = d("gpu.tlb.l1.hits") / loads;
  p.l2_hits = d("gpu.tlb.l2.hits") / loads;
  p.walk_reads = d("gpu.gmmu.walk_reads") / loads;
  return p;
}

// Footprints first..last, doubling.
std::vector<Point> sweep(uint64_t first, uint64_t last, uint64_t page, const std::string& extra = "") {
  std::vector<Point> v;
  for (uint64_t f = first; f <= last; f *= 2) v.push_back(chase(f, page, extra));
  return v;
}

std::string table(const std::vector<Point>& v) {
  std::ostringstream os;
  for (const Point& p : v)
    os << p.footprint << " B: " << p.ns << " ns, L1 " << p.l1_hits << ", L2 " << p.l2_hits << ", walk reads "
       << p.walk_reads << "\n";
  return os.str();
}

// Indices i where the latency rises from point i to i + 1 by at least
// half an L2 hit: far above the noise of a fully deterministic run.
std::vector<size_t> steps(const std::vector<Point>& v) {
  std::vector<size_t> s;
  for (size_t i = 0; i + 1 < v.size(); ++i)
    if (v[i + 1].ns - v[i].ns >= kL2HitNs / 2) s.push_back(i);
  return s;
}

// Index of `footprint` in the sweep (a power-of-two grid).
size_t index_of(const std::vector<Point>& v, uint64_t footprint) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].footprint == footprint) return i;
  ADD_FAILURE() << "footprint " << footprint << " is not a sweep point";
  return 0;
}

// Two steps, each within one point of the reach (entries x page), the
// plateaus apart by at least an L2 hit and at least one walk read.
void expect_two_steps_at_reach(const std::vector<Point>& v, uint64_t page) {
  const std::vector<size_t> s = steps(v);
  ASSERT_EQ(s.size(), 2u) << table(v);
  const size_t l1 = index_of(v, kL1Entries * page), l2 = index_of(v, kL2Entries * page);
  // Step i..i+1 "sits at" the reach when the reach is point i or i + 1.
  EXPECT_LE(std::abs(long(s[0]) - long(l1)), 1) << table(v);
  EXPECT_LE(std::abs(long(s[1]) - long(l2)), 1) << table(v);
  const double p1 = v.front().ns, p2 = v[s[0] + 1].ns, p3 = v.back().ns;
  EXPECT_GE(p2 - p1, kL2HitNs - 1e-6) << table(v);
  EXPECT_GE(p3 - p2, kWalkLevelNs) << table(v);
  // What the counters say about each plateau.
  EXPECT_EQ(v.front().l1_hits, 1.0) << table(v);
  EXPECT_EQ(v[s[0] + 1].l1_hits, 0.0) << table(v);
  EXPECT_EQ(v[s[0] + 1].l2_hits, 1.0) << table(v);
  EXPECT_EQ(v.back().l2_hits, 0.0) << table(v);
  EXPECT_GE(v.back().walk_reads, 1.0) << table(v);
}

TEST(TlbChaseRuns, FourKiBPagesStepAtL1AndL2Reach) {
  // L1 reach 16 x 4 KiB = 64 KiB, L2 reach 128 x 4 KiB = 512 KiB.
  expect_two_steps_at_reach(sweep(16 << 10, 2 << 20, 4096), 4096);
}

TEST(TlbChaseRuns, SixtyFourKiBPagesMoveTheReachOutSixteenfold) {
  // vram_chunk 64KiB: 64 KiB PTEs; L1 reach 1 MiB, L2 reach 8 MiB.
  expect_two_steps_at_reach(sweep(256 << 10, 32 << 20, 65536), 65536);
}

TEST(TlbChaseRuns, WithoutTheL2TlbItsStepVanishes) {
  // The control: the same 4 KiB sweep with the L2 off has one step, at
  // the L1 reach, straight to a walk.
  const std::vector<Point> v = sweep(16 << 10, 2 << 20, 4096, "--set gpu.tlb.l2.enabled=false");
  const std::vector<size_t> s = steps(v);
  ASSERT_EQ(s.size(), 1u) << table(v);
  EXPECT_LE(std::abs(long(s[0]) - long(index_of(v, kL1Entries * 4096))), 1) << table(v);
  EXPECT_GE(v.back().ns - v.front().ns, kWalkLevelNs) << table(v);
}

TEST(TlbChaseRuns, ShippedConfigsRun) {
  // The microbenchmark as shipped: 1 MiB at 4 KiB, 8 measured passes.
  std::string dir = fresh_dir("chase_shipped");
  RunOutput r = run_hmmsim("run " + source("configs/microbench/tlb-chase.yaml") + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto s = read_stats(dir);
  EXPECT_EQ(stat(s, "kernels.k1.gpu.loads"), 8 * 256);
  EXPECT_EQ(stat(s, "kernels.k1.gpu.gmmu.faults"), 0);
  // 256 pages: beyond the default L1 reach (64 x 4 KiB), inside the L2's.
  EXPECT_EQ(stat(s, "kernels.k1.gpu.tlb.l1.hits"), 0);
  EXPECT_EQ(stat(s, "kernels.k1.gpu.tlb.l2.hits"), 8 * 256);  // k0 warmed the L2
  EXPECT_EQ(stat(s, "kernels.k1.gpu.gmmu.walks"), 0);
  EXPECT_EQ(stat(s, "driver.prefetch_blocks_resident"), 2);  // k1 and k2 found the buffer in place
  // The synthetic example: pages fault in, the data checks out.
  dir = fresh_dir("chase_synthetic");
  r = run_hmmsim("run " + source("configs/synthetic/tlb_chase.yaml") + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  s = read_stats(dir);
  EXPECT_EQ(stat(s, "kernels.k0.gpu.loads"), 4 * 128);
  EXPECT_EQ(stat(s, "driver.pages_to_vram"), 128);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
  EXPECT_EQ(stat(s, "kernels.k0.gpu.tlb.l2.hits"), 3 * 128);
}

}  // namespace
