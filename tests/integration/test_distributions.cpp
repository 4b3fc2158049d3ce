// Distributions in stats.json (issue 9): fault service latency, walk
// latency, TLB miss latency, migration size, batch size and time. Each has
// count, mean, p50, p90, p99 and max, and agrees with the counters it
// refines.
#include <gtest/gtest.h>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

double at(const nlohmann::json& s, const std::string& path) { return stat_value(s, path); }

void check_ordered(const nlohmann::json& s, const std::string& h) {
  SCOPED_TRACE(h);
  EXPECT_GT(at(s, h + ".count"), 0);
  EXPECT_LE(at(s, h + ".p50"), at(s, h + ".p90") * 1.0001);
  EXPECT_LE(at(s, h + ".p90"), at(s, h + ".p99") * 1.0001);
  EXPECT_LE(at(s, h + ".p99"), at(s, h + ".max") * 1.0001);
  EXPECT_LE(at(s, h + ".mean"), at(s, h + ".max") * 1.0001);
}

}  // namespace

TEST(Distributions, AgreeWithTheCounters) {
  const std::string dir = fresh_dir("dist");
  const RunOutput r = run_hmmsim("run " + source("configs/experiments/random.yaml") +
                                 " --set gpu.vram.capacity=6552KiB -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json s = read_stats(dir);
  for (const char* h : {"gpu.gmmu.fault_latency_ns", "gpu.gmmu.walk_latency_ns", "gpu.tlb.miss_latency_ns",
                        "driver.migration_pages", "driver.batch.faults", "driver.batch.time_ns"})
    check_ordered(s, h);
  // Every fault entry written is replayed by the end: one latency each.
  EXPECT_EQ(at(s, "gpu.gmmu.fault_latency_ns.count"), at(s, "gpu.gmmu.faults"));
  // A fault waits at least for the driver's fixed batch cost.
  EXPECT_GT(at(s, "gpu.gmmu.fault_latency_ns.p50"), 1000);
  // One sample per walk; their sum is the walk time.
  EXPECT_EQ(at(s, "gpu.gmmu.walk_latency_ns.count"), at(s, "gpu.gmmu.walks"));
  EXPECT_NEAR(at(s, "gpu.gmmu.walk_latency_ns.mean") * at(s, "gpu.gmmu.walks"), at(s, "gpu.gmmu.walk_ns"),
              at(s, "gpu.gmmu.walks") * 0.0005 + 1);  // the mean is written to three decimals
  // Misses that found an entry: no more than the L1 misses.
  EXPECT_LE(at(s, "gpu.tlb.miss_latency_ns.count"), at(s, "gpu.tlb.l1.misses"));
  // Pages per migration add up to the pages migrated.
  EXPECT_NEAR(at(s, "driver.migration_pages.mean") * at(s, "driver.migration_pages.count"),
              at(s, "driver.pages_to_vram"), at(s, "driver.migration_pages.count") * 0.0005 + 1);
  EXPECT_LE(at(s, "driver.migration_pages.max"), 512);
}
