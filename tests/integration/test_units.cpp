// stats.json's "units": every number in the file has a unit, and the units
// name only stats that exist.
#include <gtest/gtest.h>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

void leaves(const nlohmann::json& j, const std::string& prefix, std::vector<std::string>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it.value().is_object())
      leaves(it.value(), path, out);
    else if (it.value().is_number() || it.value().is_boolean())
      out.push_back(path);
  }
}

}  // namespace

TEST(Units, EveryStatHasOne) {
  const std::string dir = fresh_dir("units");
  const RunOutput r = run_hmmsim("run " + source("configs/programs/multi_kernel.yaml") + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  nlohmann::json s = read_stats(dir);
  ASSERT_TRUE(s.contains("units") && s["units"].is_object());
  const nlohmann::json units = s["units"];
  s.erase("units");
  std::vector<std::string> paths;
  leaves(s, "", paths);
  ASSERT_GT(paths.size(), 100u);
  for (const auto& p : paths) EXPECT_TRUE(units.contains(p)) << p << " has no unit";
  EXPECT_EQ(units.size(), paths.size()) << "units names a stat the file does not hold";
  EXPECT_EQ(units["gpu.gmmu.fault_latency_ns.p50"], "ns");
  EXPECT_EQ(units["sim.partial"], "flag");
  EXPECT_EQ(units["pcie.down.payload_bytes"], "bytes");
}
