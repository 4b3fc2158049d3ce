// hmmsim sweep --slurm against a real Slurm cluster (CI starts a one-node
// cluster with scripts/slurm-local): a 4-point sweep submitted through
// sbatch, once waited for (--wait) and once merged by its dependent collect
// job, gives the local sweep's results.csv byte for byte, and each point the
// same stats.json and config.json. Skipped when no Slurm node is idle here,
// unless HMMSIM_REQUIRE_SLURM=1 (CI), which makes that a failure.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "../integration/run_hmmsim.h"

using namespace hmmsim::testing;
namespace fs = std::filesystem;

namespace {

// Why Slurm cannot run the test here, or "" when a node is up.
std::string slurm_missing() {
  if (run_shell("command -v sinfo").exit_code != 0) return "sinfo is not on the PATH";
  const RunOutput r = run_shell("sinfo --noheader --format=%t");
  if (r.exit_code != 0) return "sinfo failed: " + r.out;
  for (const char* up : {"idle", "mix", "alloc"})
    if (r.out.find(up) != std::string::npos) return "";
  return "no node is up (sinfo: " + r.out + ")";
}

void expect_same_points(const std::string& a, const std::string& b) {
  for (const char* p : {"point-000", "point-001", "point-002", "point-003"}) {
    SCOPED_TRACE(p);
    const std::string stats = read_file(a + "/" + p + "/stats.json");
    EXPECT_FALSE(stats.empty());
    EXPECT_EQ(stats, read_file(b + "/" + p + "/stats.json"));
    EXPECT_EQ(read_file(a + "/" + p + "/config.json"), read_file(b + "/" + p + "/config.json"));
  }
}

}  // namespace

TEST(Slurm, SweepOnTheClusterEqualsTheLocalSweep) {
  const std::string why = slurm_missing();
  if (!why.empty()) {
    const char* require = std::getenv("HMMSIM_REQUIRE_SLURM");
    if (require && std::string(require) == "1") FAIL() << "HMMSIM_REQUIRE_SLURM=1 but " << why;
    GTEST_SKIP() << "no Slurm cluster here (" << why << "); scripts/slurm-local starts one (as root)";
  }
  const std::string f = write_config("slurm_sweep",
                                     "sweep:\n"
                                     "  base: " + source("configs/default.yaml") + "\n"
                                     "  parameters:\n"
                                     "    - {key: gpu.sms, values: [1, 2]}\n"
                                     "    - {key: driver.prefetch.impl, values: [none, uvm_tree]}\n"
                                     "  stats: [sim.kernel_time_ns, driver.batches, gpu.instructions, gpu.ipc]\n"
                                     "  slurm: {time: '5:00', mem: 256MiB, max_parallel: 2}\n");
  const std::string local = fresh_dir("slurm_local");
  const RunOutput l = run_hmmsim("sweep " + f + " -j 2 --out " + local);
  ASSERT_EQ(l.exit_code, 0) << l.out;
  const std::string csv = read_file(local + "/results.csv");

  // Submitted and waited for.
  const std::string waited = fresh_dir("slurm_wait");
  auto t0 = std::chrono::steady_clock::now();
  const RunOutput w = run_hmmsim("sweep " + f + " --slurm --wait --out " + waited);
  ASSERT_EQ(w.exit_code, 0) << w.out;
  EXPECT_NE(w.out.find("4 points submitted to Slurm as job array "), std::string::npos) << w.out;
  EXPECT_NE(w.out.find("4 of 4 points passed"), std::string::npos) << w.out;
  EXPECT_EQ(read_file(waited + "/results.csv"), csv);
  expect_same_points(waited, local);
  // Slurm ran them: each task's own output is in OUT/slurm/.
  EXPECT_NE(read_file(waited + "/slurm/point-003.out").find("point 3 (gpu.sms=2, driver.prefetch.impl=uvm_tree) ok"),
            std::string::npos);
  std::cout << "--slurm --wait: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";

  // Submitted with a collect job that merges after the array.
  const std::string later = fresh_dir("slurm_collect");
  t0 = std::chrono::steady_clock::now();
  const RunOutput s = run_hmmsim("sweep " + f + " --slurm --out " + later);
  ASSERT_EQ(s.exit_code, 0) << s.out;
  EXPECT_NE(s.out.find("merges them into " + later + "/results.csv when the array has finished"), std::string::npos)
      << s.out;
  // The collect job's last line comes after results.csv is in place.
  auto collected = [&] { return read_file(later + "/slurm/collect.out").find("points passed") != std::string::npos; };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (!collected() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(collected()) << "the collect job did not finish in 3 minutes; squeue:\n" << run_shell("squeue").out;
  EXPECT_NE(read_file(later + "/slurm/collect.out").find("4 of 4 points passed"), std::string::npos);
  EXPECT_EQ(read_file(later + "/results.csv"), csv);
  expect_same_points(later, local);
  std::cout << "--slurm, then the collect job: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
}
