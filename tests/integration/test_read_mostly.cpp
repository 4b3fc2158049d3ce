// Read duplication end to end (configs/experiments/read_mostly.yaml): a
// table the GPU reads over and over while a CPU thread reads it too. With
// read_mostly both sides read locally and nothing migrates; without it the
// pages ping-pong. Full data mode checks every load of both kernels.
#include <gtest/gtest.h>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

struct RmRun {
  nlohmann::json s;
  bool ok = false;
};

RmRun run_read_mostly(const std::string& name, const std::string& sets) {
  const std::string dir = fresh_dir("rm_" + name);
  const RunOutput r =
      run_hmmsim("run " + source("configs/experiments/read_mostly.yaml") + " " + sets + " -q --out " + dir);
  EXPECT_EQ(r.exit_code, 0) << name << ": " << r.out;
  RmRun out;
  if (r.exit_code != 0) return out;
  out.s = read_stats(dir);
  out.ok = true;
  EXPECT_EQ(stat(out.s, "oracle.mismatches"), 0) << name;
  EXPECT_GT(stat(out.s, "oracle.checks"), 0) << name;
  EXPECT_EQ(stat(out.s, "driver.faults_fatal"), 0) << name;
  return out;
}

double kernel_ns(const nlohmann::json& s) {
  return s["kernels"]["k0"]["time_ns"].get<double>() + s["kernels"]["k1"]["time_ns"].get<double>();
}

}  // namespace

TEST(ReadMostly, CopiesInsteadOfMigratingAndRunsFaster) {
  const RmRun dup = run_read_mostly("on", "");
  const RmRun mig = run_read_mostly("off", "--set workload.buffers.0.read_mostly=false");
  ASSERT_TRUE(dup.ok && mig.ok);

  // With the hint: 64 pages copied for the first kernel, the 16 the CPU
  // wrote between the kernels collapsed and copied again for the second;
  // nothing migrates either way, however often the CPU thread reads.
  EXPECT_GE(stat(dup.s, "driver.read_dup.pages"), 64);
  EXPECT_GE(stat(dup.s, "driver.read_dup.dropped"), 16);
  EXPECT_GE(stat(dup.s, "kernels.k1.driver.faults_serviced"), 16);
  EXPECT_EQ(stat(dup.s, "driver.read_dup.evicted"), 0);
  EXPECT_EQ(stat(dup.s, "driver.read_dup.refused"), 0);
  EXPECT_EQ(stat(dup.s, "driver.pages_to_vram"), 0);
  EXPECT_EQ(stat(dup.s, "driver.pages_to_sysmem"), 0);
  EXPECT_EQ(stat(dup.s, "host.migrate_to_ram"), 0);
  EXPECT_EQ(stat(dup.s, "kernels.k0.driver.pages_to_vram"), 0);
  EXPECT_EQ(stat(dup.s, "kernels.k1.driver.pages_to_vram"), 0);

  // Without it: the same program migrates back and forth.
  EXPECT_EQ(stat(mig.s, "driver.read_dup.pages"), 0);
  EXPECT_EQ(stat(mig.s, "driver.read_dup.dropped"), 0);
  EXPECT_GT(stat(mig.s, "driver.pages_to_vram"), 100);
  EXPECT_GT(stat(mig.s, "host.migrate_to_ram"), 0);
  // Both runs check the same loads.
  EXPECT_EQ(stat(dup.s, "oracle.checks"), stat(mig.s, "oracle.checks"));

  const double t_dup = kernel_ns(dup.s), t_mig = kernel_ns(mig.s);
  EXPECT_GT(t_dup, 0);
  EXPECT_GE(t_mig, 3 * t_dup) << "with the hint: " << t_dup << " ns, without: " << t_mig << " ns";
  EXPECT_LT(dup.s["sim"]["kernel_time_ns"].get<double>() * 3, mig.s["sim"]["kernel_time_ns"].get<double>());
}

TEST(ReadMostly, HostBufferWithTheHintIsAConfigError) {
  const std::string bad = write_config("rm_bad",
                                       "workload:\n  kind: program\n  buffers:\n"
                                       "    - {name: a, bytes: 64KiB, placement: host, read_mostly: true}\n"
                                       "  steps:\n    - cpu_write: a\n");
  const RunOutput e = run_hmmsim("run " + bad);
  EXPECT_EQ(e.exit_code, 2) << e.out;
  EXPECT_NE(e.out.find(bad + ":4: workload.buffers[0].read_mostly: needs a managed buffer"), std::string::npos)
      << e.out;
}

TEST(ReadMostly, SetWithABadListIndexIsAConfigError) {
  const RunOutput e = run_hmmsim("run " + source("configs/experiments/read_mostly.yaml") +
                                 " --set workload.buffers.1.read_mostly=false");
  EXPECT_EQ(e.exit_code, 2) << e.out;
  EXPECT_NE(e.out.find("--set: workload.buffers.1.read_mostly: cannot set: 'workload.buffers' is a list of 1 "
                       "items: name one by its index, 0 to 0"),
            std::string::npos)
      << e.out;
}

// A GPU write to a page it holds a read-only copy of migrates the page
// writable (the driver makes the CPU entry writable first); without that
// the write would fault forever and the watchdog would stop the run. See
// ReadDuplication.GpuWriteMigratesADuplicatedPage (tests/host).
TEST(ReadMostly, GpuWriteAfterAReadFinishes) {
  const std::string cfg = write_config("rm_rw",
                                       "run: {data: full}\n"
                                       "workload:\n  kind: program\n  buffers:\n"
                                       "    - {name: t, bytes: 64KiB, read_mostly: true}\n"
                                       "  steps:\n"
                                       "    - cpu_write: t\n"
                                       "    - kernel: {synthetic: streaming_read, buffer: t}\n"
                                       "    - kernel: {synthetic: streaming_rw, buffer: t}\n"
                                       "    - cpu_read: t\n");
  const std::string dir = fresh_dir("rm_rw_out");
  const RunOutput r = run_hmmsim("run " + cfg + " --set run.max_sim_time=5ms -q --out " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const auto s = read_stats(dir);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
  EXPECT_EQ(stat(s, "driver.read_dup.pages"), 16);  // the first kernel copied the table
  EXPECT_GE(stat(s, "kernels.k1.driver.pages_to_vram"), 8);  // its writes migrated the out half
  EXPECT_LT(stat(s, "kernels.k1.driver.faults_serviced"), 100);
}
