// What a run tells its user (issue 9's defects): a kernel the watchdog
// stopped reports its time up to the stop, never a wrapped value; kernel
// time in GPU cycles and warp instructions per cycle; a scenario run says
// where its outputs went and a failing one names its file; --help names
// the file kinds, the subcommands and the exit codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

double num(const nlohmann::json& s, const std::string& path) { return stat_value(s, path); }

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

// The issue's command: the kernel launches at 3.5 us and the watchdog stops
// the run at 10 us, so the kernel counts 6.5 us, not 2^64 ps - 3.5 us.
TEST(RunReporting, WatchdogStopsAKernelItsTimeRunsToTheStop) {
  const std::string dir = fresh_dir("watchdog_kernel_time");
  const RunOutput r = run_hmmsim("run " + source("configs/default.yaml") + " --set run.max_sim_time=10us --out " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "watchdog: run exceeded run.max_sim_time")) << r.out;
  EXPECT_TRUE(contains(r.out, "simulated time      10.000 us (kernel 6.500 us, not finished: up to the stop)")) << r.out;
  const auto s = read_stats(dir);
  EXPECT_EQ(num(s, "sim.time_ns"), 10000);
  EXPECT_EQ(num(s, "kernels.k0.start_ns"), 3500);
  EXPECT_EQ(num(s, "kernels.k0.time_ns"), 6500);
  EXPECT_EQ(num(s, "kernels.k0.finished"), 0);
  EXPECT_EQ(num(s, "sim.kernel_time_ns"), 6500);
  EXPECT_EQ(num(s, "kernels.k0.cycles"), 9100);  // 6.5 us at 1400 MHz
  const std::string txt = read_file(dir + "/stats.txt");
  EXPECT_TRUE(contains(txt, "kernels.k0.time_ns = 6500  #")) << txt;
  EXPECT_TRUE(contains(txt, "kernels.k0.finished = 0  #")) << txt;
  EXPECT_TRUE(contains(txt, "sim.kernel_time_ns = 6500  #")) << txt;
  for (const std::string& text : {r.out, txt, read_file(dir + "/stats.json"), read_file(dir + "/summary.txt")})
    EXPECT_FALSE(contains(text, "18446744")) << text;
}

// A program stopped in its first kernel: the later ones never launched,
// and every kernel's time is within the run.
TEST(RunReporting, KernelsAfterTheStopNeverRan) {
  const std::string dir = fresh_dir("watchdog_program");
  const RunOutput r =
      run_hmmsim("run " + source("configs/programs/multi_kernel.yaml") + " --set run.max_sim_time=50us -q --out " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const auto s = read_stats(dir);
  const double sim_ns = num(s, "sim.time_ns");
  double sum = 0;
  for (const auto& [label, k] : s["kernels"].items()) {
    EXPECT_EQ(num(k, "finished"), 0) << label;
    EXPECT_GE(num(k, "time_ns"), 0) << label;
    EXPECT_LE(num(k, "start_ns") + num(k, "time_ns"), sim_ns) << label;
    sum += num(k, "time_ns");
  }
  EXPECT_GT(num(s, "kernels.k0.time_ns"), 0);
  EXPECT_EQ(num(s, "kernels.k1.time_ns"), 0);
  EXPECT_NEAR(num(s, "sim.kernel_time_ns"), sum, 0.01);
  EXPECT_LE(num(s, "sim.kernel_time_ns"), sim_ns);
}

// gpu.clock_mhz is used: kernel time in GPU cycles and warp instructions
// per cycle, for the run and per kernel, in stats.json and the summary.
TEST(RunReporting, KernelTimeInCyclesAndInstructionsPerCycle) {
  const std::string dir = fresh_dir("gpu_cycles");
  const RunOutput r = run_hmmsim("run " + source("configs/default.yaml") + " --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = read_stats(dir);
  const double kernel_ns = num(s, "sim.kernel_time_ns");
  const double cycles = num(s, "gpu.cycles");
  EXPECT_EQ(cycles, std::round(kernel_ns * 1400 / 1000));
  EXPECT_GT(cycles, 0);
  EXPECT_NEAR(num(s, "gpu.ipc"), num(s, "gpu.instructions") / cycles, 1e-8);
  EXPECT_EQ(num(s, "kernels.k0.finished"), 1);
  EXPECT_EQ(num(s, "kernels.k0.cycles"), cycles);
  EXPECT_NEAR(num(s, "kernels.k0.ipc"), num(s, "kernels.k0.gpu.instructions") / cycles, 1e-8);
  char line[160];
  std::snprintf(line, sizeof line, "%.0f cycles at 1400 MHz (%.3f warp instructions/cycle)", cycles,
                num(s, "gpu.ipc"));
  EXPECT_TRUE(contains(r.out, line)) << line << "\n" << r.out;
  EXPECT_FALSE(contains(r.out, "not finished")) << r.out;
  const std::string txt = read_file(dir + "/stats.txt");
  EXPECT_TRUE(contains(txt, "gpu.cycles = ")) << txt;
  EXPECT_TRUE(contains(txt, "gpu.ipc = ")) << txt;
  EXPECT_TRUE(contains(txt, "# warp instructions per GPU cycle")) << txt;

  // Another clock: the cycles follow it.
  const std::string dir2 = fresh_dir("gpu_cycles_1ghz");
  ASSERT_EQ(run_hmmsim("run " + source("configs/default.yaml") + " --set gpu.clock_mhz=1000 -q --out " + dir2).exit_code, 0);
  const auto s2 = read_stats(dir2);
  EXPECT_EQ(num(s2, "gpu.cycles"), std::round(num(s2, "sim.kernel_time_ns")));
}

TEST(RunReporting, ScenarioRunSaysWhereItsOutputsWent) {
  const std::string dir = fresh_dir("scenario_out");
  const std::string file = source("configs/scenarios/anon_read.yaml");
  RunOutput r = run_hmmsim("run " + file + " --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "scenario anon_read (" + file + "): 9 steps, PASS")) << r.out;
  EXPECT_TRUE(contains(r.out, "outputs written to " + dir + "/ (scenario.json)")) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir + "/scenario.json"));
  // --quiet prints only that, as for experiment runs.
  r = run_hmmsim("run " + file + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "outputs written to " + dir + "/ (scenario.json)\n");
}

// The `scenario:` name need not match the file (nor be unique): a failure
// names both.
TEST(RunReporting, FailingScenarioNamesItsFile) {
  std::string text = read_file(source("configs/scenarios/anon_read.yaml"));
  const std::string expect = "      faults: 1\n";
  ASSERT_NE(text.find(expect), std::string::npos);
  text.replace(text.find(expect), expect.size(), "      faults: 2\n");
  const std::string file = write_config("scenario_fails", text);
  const std::string dir = fresh_dir("scenario_fails_out");
  const RunOutput r = run_hmmsim("run " + file + " -q --out " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "hmmsim: scenario anon_read (" + file + ") FAILED at step 7 (device read, line 16): faults: expected 2, got 1")) << r.out;
  EXPECT_TRUE(contains(r.out, "outputs written to " + dir + "/ (scenario.json)")) << r.out;
}

TEST(RunReporting, HelpNamesFileKindsSubcommandsAndExitCodes) {
  const RunOutput r = run_hmmsim("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* want : {"Subcommands:", "  run ", "  trace ", "experiment config", "scenario file", "`scenario:`",
                           "trace file", "kernelslist.g", "Exit codes:", "  0  success", "  1  the simulation failed",
                           "host RAM", "  2  bad input"})
    EXPECT_TRUE(contains(r.out, want)) << want << "\n" << r.out;
  // The codes it names are the codes it gives.
  EXPECT_EQ(run_hmmsim("run " + write_config("help_bad", "gpu: {sms: many}\n") + " -q").exit_code, 2);
  EXPECT_EQ(run_hmmsim("run").exit_code, 2);
  EXPECT_EQ(run_hmmsim("trace info " + fresh_dir("no_such_trace")).exit_code, 2);
}
