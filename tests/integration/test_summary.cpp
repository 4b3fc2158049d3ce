// The run summary (docs/outputs.md): phases add up to the simulated time,
// hit rates and latencies match stats.json, and the host line (wall time)
// is printed but kept out of summary.txt, which stays deterministic.
#include <gtest/gtest.h>

#include <regex>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

TEST(Summary, PhasesRatesAndTheHostLine) {
  const std::string a = fresh_dir("summary_a"), b = fresh_dir("summary_b");
  const RunOutput r = run_hmmsim("run " + source("configs/programs/multi_kernel.yaml") + " --out " + a);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json s = read_stats(a);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex("phases +setup ([0-9.]+) us, k0 ([0-9.]+) us, k1 ([0-9.]+) us, k2 "
                                           "([0-9.]+) us, host steps and idle ([0-9.]+) us")))
      << r.out;
  double sum = 0;
  for (size_t i = 1; i <= 5; ++i) sum += std::stod(m[i]);
  EXPECT_NEAR(sum, s["sim"]["time_ns"].get<double>() / 1000, 0.01);
  EXPECT_NEAR(std::stod(m[2]), s["kernels"]["k0"]["time_ns"].get<double>() / 1000, 0.001);
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("TLB hit rates +L1 ([0-9.]+) %")));
  const double h = s["gpu"]["tlb"]["l1"]["hits"].get<double>(), mi = s["gpu"]["tlb"]["l1"]["misses"].get<double>();
  EXPECT_NEAR(std::stod(m[1]), 100 * h / (h + mi), 0.05);
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("fault latency +p50 ([0-9.]+) us, p99 ([0-9.]+) us")));
  EXPECT_NEAR(std::stod(m[1]), s["gpu"]["gmmu"]["fault_latency_ns"]["p50"].get<double>() / 1000, 0.001);
  EXPECT_TRUE(std::regex_search(r.out, std::regex("host +[0-9.]+ s wall, [0-9.]+ M warp instructions/s")));
  const std::string text = read_file(a + "/summary.txt");
  EXPECT_EQ(text.find("s wall"), std::string::npos) << text;
  // Same inputs, same summary.txt.
  ASSERT_EQ(run_hmmsim("run " + source("configs/programs/multi_kernel.yaml") + " -q --out " + b).exit_code, 0);
  EXPECT_EQ(text, read_file(b + "/summary.txt"));
}
