// GPU presets (configs/gpus/*.yaml) included under real experiments: the
// Accel-Sim vectorAdd trace and the tlb-chase microbenchmark each run
// clean on every preset, with the preset's SM count and L1 TLB in effect.
#include <gtest/gtest.h>

#include <filesystem>
#include <ostream>
#include <string>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

const std::string kVectorAddDir = HMMSIM_SOURCE_DIR "/../shared/traces/accelsim-vectoradd";

struct Preset {
  const char* name;
  int64_t sms;
};

void PrintTo(const Preset& p, std::ostream* os) { *os << p.name; }

// Every preset's L1 TLB: 16 entries, fully associative (KAR's P100 figure).
constexpr int64_t kL1Entries = 16;

class GpuPreset : public ::testing::TestWithParam<Preset> {
 protected:
  std::string preset() const { return source(std::string("configs/gpus/") + GetParam().name + ".yaml"); }
};

// SMs that report figures: gpu.sm0, gpu.sm1, ...
int64_t sm_count(const nlohmann::json& s) {
  int64_t n = 0;
  while (s["gpu"].contains("sm" + std::to_string(n))) ++n;
  return n;
}

TEST_P(GpuPreset, RunsTheVectorAddTrace) {
  if (!std::filesystem::exists(kVectorAddDir + "/kernel-1.traceg"))
    GTEST_SKIP() << "the shared Accel-Sim vectorAdd trace is not here (" << kVectorAddDir
                 << "): the ../shared checkout is absent";
  // The trace path inside vectoradd.yaml stays relative to that file.
  const std::string cfg = write_config(std::string("preset_vadd_") + GetParam().name,
                                       "include: [" + preset() + ", " + source("configs/traces/vectoradd.yaml") + "]\n");
  const std::string dir = fresh_dir(std::string("preset_vadd_out_") + GetParam().name);
  const RunOutput r = run_hmmsim("run " + cfg + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = read_stats(dir);
  EXPECT_EQ(sm_count(s), GetParam().sms);
  EXPECT_EQ(stat(s, "kernels.k0.gpu.ctas"), 196);  // 196 CTAs of 256 threads
  EXPECT_GT(stat(s, "driver.faults_serviced"), 0);
  EXPECT_EQ(stat(s, "driver.faults_fatal"), 0);
  EXPECT_GT(stat(s, "oracle.checks"), 0);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
}

// The chase at `pages` 4 KiB pages (8 measured passes), on the preset or,
// with `with_preset` false, on the built-in defaults.
nlohmann::json chase(const std::string& preset, const std::string& name, int64_t pages, bool with_preset) {
  const std::string includes =
      (with_preset ? preset + ", " : std::string()) + source("configs/microbench/tlb-chase.yaml");
  const std::string cfg = write_config("preset_chase_" + name + std::to_string(pages),
                                       "include: [" + includes + "]\n"
                                       "workload:\n"
                                       "  buffers:\n"
                                       "    - {name: chain, bytes: " + std::to_string(pages * 4096) +
                                           ", placement: device}\n");
  const std::string dir = fresh_dir("preset_chase_out_" + name + std::to_string(pages));
  const RunOutput r = run_hmmsim("run " + cfg + " -q --out " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  return r.exit_code == 0 ? read_stats(dir) : nlohmann::json::object();
}

TEST_P(GpuPreset, RunsTheTlbChaseWithItsL1Tlb) {
  const std::string name = GetParam().name;
  // Inside the preset's L1 reach (16 pages): every warm pass hits the L1.
  auto s = chase(preset(), name, kL1Entries, true);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(sm_count(s), GetParam().sms);
  EXPECT_EQ(stat(s, "kernels.k1.gpu.loads"), 8 * kL1Entries);
  // The buffer stays resident and mapped across kernels, so the warm-up
  // kernel k0 leaves the L1 warm: every hop of k1 hits.
  EXPECT_EQ(stat(s, "kernels.k1.gpu.tlb.l1.hits"), 8 * kL1Entries);
  EXPECT_EQ(stat(s, "kernels.k1.gpu.gmmu.faults"), 0);
  // Twice that: the L1 misses on every hop, the next level catches them
  // all (k0 already walked them).
  s = chase(preset(), name, 2 * kL1Entries, true);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(stat(s, "kernels.k1.gpu.tlb.l1.hits"), 0);
  EXPECT_EQ(stat(s, "kernels.k1.gpu.gmmu.walks"), 0);
  EXPECT_EQ(stat(s, "kernels.k0.gpu.gmmu.walks"), 2 * kL1Entries);
  // The control: without the preset, the default L1 (64 entries) holds
  // those 32 pages.
  s = chase(preset(), name, 2 * kL1Entries, false);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(stat(s, "kernels.k1.gpu.tlb.l1.hits"), 8 * 2 * kL1Entries);
}

INSTANTIATE_TEST_SUITE_P(Presets, GpuPreset,
                         ::testing::Values(Preset{"gtx1080ti", 28}, Preset{"v100", 80}, Preset{"a100", 108},
                                           Preset{"h100_pcie", 114}),
                         [](const ::testing::TestParamInfo<Preset>& i) { return std::string(i.param.name); });

}  // namespace
