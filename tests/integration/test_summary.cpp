// The run summary (docs/outputs.md): phases add up to the simulated time,
// hit rates and latencies match stats.json, and the host line (wall time)
// is printed but kept out of summary.txt, which stays deterministic.
// (No std::regex: GCC 12 warns inside it under the sanitizer build.)
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

// The line of `text` that starts with `label` (after the indent), or "".
std::string line_of(const std::string& text, const std::string& label) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("  " + label, 0) == 0) return line;
  return "";
}

// The number right after `after` in `line` (NaN if absent).
double number_after(const std::string& line, const std::string& after) {
  const size_t at = line.find(after);
  if (at == std::string::npos) return std::nan("");
  return std::stod(line.substr(at + after.size()));
}

}  // namespace

TEST(Summary, PhasesRatesAndTheHostLine) {
  const std::string a = fresh_dir("summary_a"), b = fresh_dir("summary_b");
  const RunOutput r = run_hmmsim("run " + source("configs/programs/multi_kernel.yaml") + " --out " + a);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json s = read_stats(a);
  const std::string phases = line_of(r.out, "phases");
  ASSERT_FALSE(phases.empty()) << r.out;
  double sum = 0;
  for (const char* part : {"setup ", "k0 ", "k1 ", "k2 ", "host steps and idle "}) {
    const double v = number_after(phases, part);
    ASSERT_FALSE(std::isnan(v)) << part << " in " << phases;
    sum += v;
  }
  EXPECT_NEAR(sum, stat_value(s, "sim.time_ns") / 1000, 0.01);
  EXPECT_NEAR(number_after(phases, "k0 "), stat_value(s, "kernels.k0.time_ns") / 1000, 0.001);
  const double h = stat_value(s, "gpu.tlb.l1.hits"), mi = stat_value(s, "gpu.tlb.l1.misses");
  EXPECT_NEAR(number_after(line_of(r.out, "TLB hit rates"), "L1 "), 100 * h / (h + mi), 0.05);
  const std::string lat = line_of(r.out, "fault latency");
  EXPECT_NEAR(number_after(lat, "p50 "), stat_value(s, "gpu.gmmu.fault_latency_ns.p50") / 1000, 0.001);
  EXPECT_NEAR(number_after(lat, "p99 "), stat_value(s, "gpu.gmmu.fault_latency_ns.p99") / 1000, 0.001);
  const std::string host = line_of(r.out, "host ");
  EXPECT_NE(host.find(" s wall, "), std::string::npos) << r.out;
  EXPECT_NE(host.find(" M warp instructions/s"), std::string::npos) << r.out;
  const std::string text = read_file(a + "/summary.txt");
  EXPECT_EQ(text.find("s wall"), std::string::npos) << text;
  // Same inputs, same summary.txt.
  ASSERT_EQ(run_hmmsim("run " + source("configs/programs/multi_kernel.yaml") + " -q --out " + b).exit_code, 0);
  EXPECT_EQ(text, read_file(b + "/summary.txt"));
}
