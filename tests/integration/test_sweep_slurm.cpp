// hmmsim sweep --slurm and sweep collect, without a cluster: the slurm:
// section's errors name file, line and key; a stand-in sbatch on the PATH
// receives the job array and the dependent collect job, whose scripts, run
// by hand as Slurm would run them, give the local sweep's results.csv byte
// for byte; collect reports failed and missing points. The same against a
// real cluster: tests/slurm/test_slurm_sweep.cpp.
#include <gtest/gtest.h>

#include <filesystem>

#include "run_hmmsim.h"
#include "sim/sweep_slurm_spec.h"

using namespace hmmsim::testing;
namespace fs = std::filesystem;

namespace {

std::string hmmsim_cmd(const std::string& args) { return "'" + std::string(HMMSIM_BINARY) + "' " + args; }

const char* const kPoints =
    "  parameters:\n"
    "    - {key: gpu.sms, values: [1, 2]}\n"
    "    - {key: driver.prefetch.impl, values: [none, uvm_tree]}\n"
    "  stats: [sim.kernel_time_ns, driver.batches, gpu.instructions]\n";

std::string sweep_file(const std::string& name, const std::string& body) {
  return write_config(name, "sweep:\n  base: " + source("configs/default.yaml") + "\n" + body);
}

// A folder holding an `sbatch` that logs its arguments to CALLS and prints
// job ids 42, 43, ... as --parsable does; `fail` makes it refuse instead.
std::string fake_sbatch(const std::string& name, bool fail = false) {
  const std::string dir = fresh_dir(name);
  fs::create_directories(dir);
  std::ofstream f(dir + "/sbatch");
  if (fail)
    f << "#!/bin/sh\necho 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2\n"
         "exit 1\n";
  else
    f << "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/calls\"\n"
         "n=$(wc -l < \"$(dirname \"$0\")/calls\")\necho \"$((41 + $n));fake\"\n";
  f.close();
  fs::permissions(dir + "/sbatch", fs::perms::owner_all);
  return dir;
}

}  // namespace

TEST(SweepSlurm, TimeLimitsAreSlurmsFormats) {
  for (const char* ok : {"30", "30:00", "1:00:00", "2-12", "2-12:30", "2-12:30:00", "UNLIMITED", "infinite"})
    EXPECT_TRUE(hmmsim::sim::is_slurm_time(ok)) << ok;
  for (const char* bad : {"", "soon", "1:2:3:4", "1-", "-1", "1-2-3", "1::2", "1h", "2-1:2:3:4"})
    EXPECT_FALSE(hmmsim::sim::is_slurm_time(bad)) << bad;
}

TEST(SweepSlurm, BadSlurmSectionsNameFileLineAndKey) {
  struct Case {
    const char* section;
    const char* error;
  } cases[] = {
      {"  slurm:\n    time: 1:00:00\n    tim: 5\n", ":9: sweep.slurm.tim: unknown key; allowed keys here: account, "
                                                   "cpus_per_task, max_parallel, mem, options, partition, time"},
      {"  slurm:\n    time: soon\n", ":8: sweep.slurm.time: expected a Slurm time limit"},
      {"  slurm:\n    mem: 64MB\n", ":8: sweep.slurm.mem: '64MB' is ambiguous"},
      {"  slurm:\n    cpus_per_task: 0\n", ":8: sweep.slurm.cpus_per_task:"},
      {"  slurm:\n    partition: a b\n", ":8: sweep.slurm.partition: a partition name"},
      {"  slurm:\n    options: [--qos=short, --array=0-9]\n", ":8: sweep.slurm.options: item 1: hmmsim sets --array"},
      {"  slurm:\n    options: [qos]\n", ":8: sweep.slurm.options: item 0: 'qos' is not one sbatch option"},
      {"  slurm: 4\n", ":7: sweep.slurm: expected a map"},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.section);
    const std::string name = "sw_slurm_bad" + std::to_string(n++);
    const std::string f = sweep_file(name, std::string(kPoints) + c.section);
    const RunOutput r = run_hmmsim("sweep " + f + " --out " + fresh_dir(name + "_out"));
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find(name + ".yaml" + c.error), std::string::npos) << r.out;
  }
}

TEST(SweepSlurm, WithoutSbatchItSaysSoAndWritesNothing) {
  const std::string f = sweep_file("sw_slurm_nosbatch", kPoints);
  const std::string dir = fresh_dir("sweep_slurm_nosbatch");
  const RunOutput r = run_shell("PATH=/nonexistent " + hmmsim_cmd("sweep " + f + " --slurm --out " + dir));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("hmmsim: sweep --slurm: sbatch not found on the PATH"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir));
  // --wait is for --slurm only.
  EXPECT_EQ(run_hmmsim("sweep " + f + " --wait --out " + dir).exit_code, 2);
}

TEST(SweepSlurm, ARefusedSubmissionIsBadInput) {
  const std::string bin = fake_sbatch("fake_sbatch_refuses", true);
  const std::string f = sweep_file("sw_slurm_refused", kPoints);
  const RunOutput r =
      run_shell("PATH=" + bin + ":$PATH " + hmmsim_cmd("sweep " + f + " --slurm --out " + fresh_dir("sw_refused")));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("failed (exit 1): sbatch: error: Batch job submission failed: Invalid partition name"),
            std::string::npos)
      << r.out;
}

// The array and its collect job, submitted to a stand-in sbatch, then run as
// Slurm would run them: the results equal a local sweep's.
TEST(SweepSlurm, TheScriptsRunThePointsAsTheLocalSweepDoes) {
  const std::string f = sweep_file("sw_slurm_fake", "  name: fake sweep\n" + std::string(kPoints) +
                                                        "  slurm:\n"
                                                        "    time: 0:10:00\n"
                                                        "    mem: 512MiB\n"
                                                        "    partition: debug\n"
                                                        "    account: proj\n"
                                                        "    max_parallel: 2\n"
                                                        "    options: [--qos=short]\n");
  const std::string bin = fake_sbatch("fake_sbatch");
  const std::string dir = fresh_dir("sweep_slurm_fake");
  const RunOutput r = run_shell("PATH=" + bin + ":$PATH " + hmmsim_cmd("sweep " + f + " --slurm --out " + dir));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("4 points submitted to Slurm as job array 42 (" + dir +
                       "/slurm/sweep.sbatch, at most 2 at once)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("job 43 merges them into " + dir + "/results.csv"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(bin + "/calls"), "--parsable " + dir + "/slurm/sweep.sbatch\n--parsable --dependency=afterany:42 " +
                                           dir + "/slurm/collect.sbatch\n");
  const std::string exe = HMMSIM_BINARY, cwd = fs::current_path().string();
  EXPECT_EQ(read_file(dir + "/slurm/sweep.sbatch"),
            "#!/bin/bash\n"
            "# hmmsim sweep fake sweep: 4 points, one array task each; written by\n"
            "# `hmmsim sweep FILE --slurm`. Task N runs point N of " + dir + "/sweep.json\n"
            "# in " + dir + "/point-NNN/, as a local sweep does.\n"
            "#SBATCH --job-name=hmmsim-fake_sweep\n"
            "#SBATCH --array=0-3%2\n"
            "#SBATCH --output=" + dir + "/slurm/point-%3a.out\n"
            "#SBATCH --time=0:10:00\n"
            "#SBATCH --mem=512M\n"
            "#SBATCH --cpus-per-task=1\n"
            "#SBATCH --chdir=" + cwd + "\n"
            "#SBATCH --partition=debug\n"
            "#SBATCH --account=proj\n"
            "#SBATCH --qos=short\n"
            "exec '" + exe + "' sweep run-point '" + dir + "' \"$SLURM_ARRAY_TASK_ID\"\n");
  const std::string collect = read_file(dir + "/slurm/collect.sbatch");
  EXPECT_NE(collect.find("\n#SBATCH --output=" + dir + "/slurm/collect.out\n"), std::string::npos) << collect;
  EXPECT_NE(collect.find("\n#SBATCH --partition=debug\n#SBATCH --account=proj\n#SBATCH --qos=short\n"),
            std::string::npos)
      << collect;
  EXPECT_NE(collect.find("\nexec '" + exe + "' sweep collect '" + dir + "'\n"), std::string::npos) << collect;
  EXPECT_FALSE(fs::exists(dir + "/point-000")) << "submitting ran a point";

  // As Slurm runs them: each task with its index, then the collect job.
  for (int i = 0; i < 4; ++i) {
    const RunOutput t = run_shell("SLURM_ARRAY_TASK_ID=" + std::to_string(i) + " bash " + dir + "/slurm/sweep.sbatch");
    EXPECT_EQ(t.exit_code, 0) << t.out;
    EXPECT_NE(t.out.find("point " + std::to_string(i) + " ("), std::string::npos) << t.out;
  }
  const RunOutput c = run_shell("bash " + dir + "/slurm/collect.sbatch");
  EXPECT_EQ(c.exit_code, 0) << c.out;
  EXPECT_NE(c.out.find("4 of 4 points passed"), std::string::npos) << c.out;

  const std::string local = fresh_dir("sweep_slurm_fake_local");
  ASSERT_EQ(run_hmmsim("sweep " + f + " -j 2 -q --out " + local).exit_code, 0);
  EXPECT_EQ(read_file(dir + "/results.csv"), read_file(local + "/results.csv"));
  for (const char* p : {"point-000", "point-001", "point-002", "point-003"}) {
    SCOPED_TRACE(p);
    EXPECT_EQ(read_file(dir + "/" + p + "/stats.json"), read_file(local + "/" + p + "/stats.json"));
    EXPECT_EQ(read_file(dir + "/" + p + "/config.json"), read_file(local + "/" + p + "/config.json"));
    EXPECT_FALSE(read_file(dir + "/" + p + "/stats.json").empty());
  }

  // -j N is the array's limit instead of max_parallel.
  const std::string dir2 = fresh_dir("sweep_slurm_fake_j");
  ASSERT_EQ(run_shell("PATH=" + bin + ":$PATH " + hmmsim_cmd("sweep " + f + " --slurm -j 3 --out " + dir2)).exit_code, 0);
  EXPECT_NE(read_file(dir2 + "/slurm/sweep.sbatch").find("\n#SBATCH --array=0-3%3\n"), std::string::npos);
}

TEST(SweepSlurm, CollectReportsFailedAndMissingPoints) {
  const std::string f = sweep_file("sw_collect", "  parameters:\n    - {key: gpu.sms, values: [1, 0, 2]}\n");
  const std::string dir = fresh_dir("sweep_collect");
  ASSERT_EQ(run_hmmsim("sweep " + f + " -q --out " + dir).exit_code, 1);  // point 1: 0 SMs, a config error
  const std::string whole = read_file(dir + "/results.csv");
  ASSERT_FALSE(whole.empty());

  // Merging again gives the same file.
  RunOutput r = run_hmmsim("sweep collect " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(read_file(dir + "/results.csv"), whole);

  // Point 2 has not run (as if its Slurm task had not started yet).
  fs::remove(dir + "/point-002/exit_code");
  r = run_hmmsim("sweep collect " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("point 1 failed (exit 2); see " + dir + "/point-001/log.txt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("point 2 missing: no exit code in " + dir + "/point-002"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 of 3 points passed, 1 missing; results in " + dir + "/results.csv"), std::string::npos)
      << r.out;
  const std::string partial = read_file(dir + "/results.csv");
  EXPECT_NE(partial.find("\n2,point-002,2,,,,,,,,,\n"), std::string::npos) << partial;  // no exit code, no stats

  // Running it (as its array task does) completes the sweep.
  r = run_hmmsim("sweep run-point " + dir + " 2");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("point 2 (gpu.sms=2) ok"), std::string::npos) << r.out;
  EXPECT_EQ(run_hmmsim("sweep collect " + dir).exit_code, 1);
  EXPECT_EQ(read_file(dir + "/results.csv"), whole);

  // Not a sweep's folder, or no such point.
  r = run_hmmsim("sweep collect " + dir + "/point-000");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("sweep.json: no such file"), std::string::npos) << r.out;
  r = run_hmmsim("sweep run-point " + dir + " 3");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("has 3 points (0 to 2), not 3"), std::string::npos) << r.out;
}
