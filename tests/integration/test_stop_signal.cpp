// Ctrl-C (SIGINT) or SIGTERM stops a run between slices of simulated time;
// the outputs are still written, marked partial, and the exit code is the
// shell's for a signal (128 + its number).
#include <gtest/gtest.h>

#include <csignal>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

// Starts a long run, sends `sig` `delay_s` after its config.json appeared
// (the handlers are installed right after it is written; a slow sanitizer
// build must not get the signal before), returns the exit code.
int run_and_signal(const std::string& dir, const char* sig, const char* delay_s) {
  const std::string cmd = "sh -c \"'" + std::string(HMMSIM_BINARY) + "' run '" +
                          source("configs/experiments/random.yaml") +
                          "' --set gpu.vram.capacity=5460KiB -q --out '" + dir + "' >/dev/null 2>&1 & p=\\$!; " +
                          "while [ ! -s '" + dir + "/config.json' ] && kill -0 \\$p 2>/dev/null; do sleep 0.05; done; sleep " + delay_s +
                          "; kill -" + sig + " \\$p; wait \\$p\"";
  const int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

TEST(StopSignal, SigintWritesPartialOutputs) {
  const std::string dir = fresh_dir("sigint");
  // The run takes seconds of host time; it is stopped well before its end.
  EXPECT_EQ(run_and_signal(dir, "INT", "0.5"), 128 + SIGINT);
  const nlohmann::json s = read_stats(dir);
  EXPECT_TRUE(s["sim"]["partial"].get<bool>());
  EXPECT_GT(s["sim"]["time_ns"].get<double>(), 0);
  EXPECT_EQ(s["kernels"]["k0"]["finished"].get<double>(), 0);
  const std::string summary = read_file(dir + "/summary.txt");
  EXPECT_NE(summary.find("stopped by SIGINT at "), std::string::npos) << summary;
  EXPECT_NE(summary.find("the outputs are partial"), std::string::npos) << summary;
  EXPECT_FALSE(read_file(dir + "/config.json").empty());
  EXPECT_FALSE(read_file(dir + "/timeseries.csv").empty());
}

TEST(StopSignal, SigtermToo) {
  const std::string dir = fresh_dir("sigterm");
  EXPECT_EQ(run_and_signal(dir, "TERM", "0.5"), 128 + SIGTERM);
  EXPECT_TRUE(read_stats(dir)["sim"]["partial"].get<bool>());
  EXPECT_NE(read_file(dir + "/summary.txt").find("stopped by SIGTERM"), std::string::npos);
}

TEST(StopSignal, ACompleteRunIsNotPartial) {
  const std::string dir = fresh_dir("nosig");
  const RunOutput r = run_hmmsim("run " + source("configs/default.yaml") + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(read_stats(dir)["sim"]["partial"].get<bool>());
  // Not a terminal: no progress line (no carriage returns) in the output.
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
}
