// OUT/config.json: the config as resolved (every default filled in) with
// what produced it; running it again reproduces the run, stats.json byte
// for byte, for every kind of workload.
#include <gtest/gtest.h>

#include <filesystem>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

// Runs `config` with `sets`, then OUT/config.json, and returns the first
// run's config.json; both stats.json files must be identical.
nlohmann::json run_twice(const std::string& name, const std::string& config, const std::string& sets = "") {
  const std::string a = fresh_dir("resolved_" + name + "_a"), b = fresh_dir("resolved_" + name + "_b");
  const RunOutput r1 = run_hmmsim("run " + config + " " + sets + " -q --out " + a);
  EXPECT_EQ(r1.exit_code, 0) << r1.out;
  const RunOutput r2 = run_hmmsim("run " + a + "/config.json -q --out " + b);
  EXPECT_EQ(r2.exit_code, 0) << r2.out;
  EXPECT_FALSE(read_file(a + "/stats.json").empty());
  EXPECT_EQ(read_file(a + "/stats.json"), read_file(b + "/stats.json")) << name << ": the rerun differs";
  return nlohmann::json::parse(read_file(a + "/config.json"));
}

}  // namespace

TEST(ResolvedConfig, DefaultsAreFilledInAndTheRunIsReproduced) {
  const nlohmann::json c = run_twice("default", source("configs/default.yaml"));
  // Keys configs/default.yaml leaves out, at their defaults.
  EXPECT_EQ(c["driver"]["thrashing"]["lapse"].get<double>(), 500000.0);  // 500 us, in ns
  EXPECT_EQ(c["driver"]["prefetch"]["threshold"].get<double>(), 0.51);
  EXPECT_EQ(c["driver"]["replay"]["impl"], "batch_flush");
  // Sizes as bytes, times as ns.
  EXPECT_EQ(c["driver"]["vram_chunk"].get<uint64_t>(), 4096u);
  EXPECT_EQ(c["run"]["max_sim_time"].get<double>(), 1e9);
  // Provenance.
  EXPECT_EQ(c["hmmsim"]["version"].get<std::string>().empty(), false);
  EXPECT_FALSE(c["hmmsim"]["commit"].get<std::string>().empty());
  EXPECT_EQ(c["hmmsim"]["config"], source("configs/default.yaml"));
  EXPECT_TRUE(c["hmmsim"]["overrides"].empty());
}

TEST(ResolvedConfig, OverridesAreRecordedAndApplied) {
  const nlohmann::json c =
      run_twice("sets", source("configs/default.yaml"), "--set gpu.sms=4 --set driver.prefetch.impl=none");
  EXPECT_EQ(c["gpu"]["sms"].get<uint64_t>(), 4u);
  EXPECT_EQ(c["driver"]["prefetch"]["impl"], "none");
  EXPECT_EQ(c["hmmsim"]["overrides"], nlohmann::json({"gpu.sms=4", "driver.prefetch.impl=none"}));
}

TEST(ResolvedConfig, ProgramsPresetsAndDerivedKeysReproduce) {
  // A host program with lists of buffers, steps and threads.
  const nlohmann::json p = run_twice("program", source("configs/programs/multi_kernel.yaml"));
  ASSERT_TRUE(p["workload"]["buffers"].is_array());
  EXPECT_EQ(p["workload"]["buffers"].size(), 3u);
  EXPECT_EQ(p["workload"]["buffers"][1]["name"], "scratch");
  // A GPU preset: VRAM bandwidth derived from bus width and data rate stays
  // derived (giving both forms would be an error).
  const nlohmann::json v = run_twice("v100", source("configs/gpus/v100.yaml"));
  EXPECT_FALSE(v["gpu"]["vram"].contains("channel_bandwidth_gbps") &&
               v["gpu"]["vram"].contains("bus_bits"));
  run_twice("tlbchase", source("configs/microbench/tlb-chase.yaml"));
  run_twice("readmostly", source("configs/experiments/read_mostly.yaml"));
}

TEST(ResolvedConfig, TracePathsBecomeAbsolute) {
  if (!std::filesystem::exists(source("../shared/traces/accelsim-vectoradd")))
    GTEST_SKIP() << "the shared Accel-Sim vectorAdd trace is absent (../shared)";
  const nlohmann::json c = run_twice("trace", source("configs/traces/vectoradd.yaml"));
  bool found = false;
  for (const auto& step : c["workload"]["steps"])
    if (step.contains("trace")) {
      const std::string path = step["trace"]["path"];
      EXPECT_TRUE(std::filesystem::path(path).is_absolute()) << path;
      EXPECT_TRUE(std::filesystem::exists(path)) << path;
      found = true;
    }
  EXPECT_TRUE(found) << c["workload"].dump();
}
