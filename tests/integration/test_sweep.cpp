// hmmsim sweep: points run as independent processes, N at a time; the
// merged results.csv has one row per point whose figures equal that
// point's stats.json and a plain `hmmsim run` with the same overrides; a
// failed point is reported and the others still finish.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> row;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) row.push_back(cell);
    if (!line.empty() && line.back() == ',') row.push_back("");
    rows.push_back(row);
  }
  return rows;
}

std::string sweep_file(const std::string& name, const std::string& body) {
  return write_config(name, "sweep:\n  base: " + source("configs/default.yaml") + "\n" + body);
}

}  // namespace

TEST(Sweep, RowsMatchEachPointAndAPlainRun) {
  const std::string f = sweep_file("sw_cross",
                                   "  parameters:\n"
                                   "    - {key: gpu.sms, range: {from: 1, to: 2, step: 1}}\n"
                                   "    - {key: driver.prefetch.impl, values: [none, uvm_tree]}\n"
                                   "  stats: [sim.kernel_time_ns, driver.batches, gpu.instructions]\n");
  const std::string dir = fresh_dir("sweep_cross");
  const RunOutput r = run_hmmsim("sweep " + f + " -j 2 --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("4 of 4 points passed"), std::string::npos) << r.out;
  const auto rows = read_csv(dir + "/results.csv");
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"point", "folder", "gpu.sms", "driver.prefetch.impl", "exit_code",
                                               "sim.kernel_time_ns", "driver.batches", "gpu.instructions"}));
  const char* sms[] = {"1", "1", "2", "2"};
  const char* pf[] = {"none", "uvm_tree", "none", "uvm_tree"};
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    const auto& row = rows[i + 1];
    ASSERT_EQ(row.size(), 8u);
    EXPECT_EQ(row[2], sms[i]);
    EXPECT_EQ(row[3], pf[i]);
    EXPECT_EQ(row[4], "0");
    const nlohmann::json s = read_stats(dir + "/" + row[1]);
    EXPECT_EQ(row[5], s["sim"]["kernel_time_ns"].dump());
    EXPECT_EQ(row[6], s["driver"]["batches"].dump());
    // The same point run by hand gives the same stats.json.
    const std::string one = fresh_dir("sweep_one_" + std::to_string(i));
    ASSERT_EQ(run_hmmsim("run " + source("configs/default.yaml") + " --set gpu.sms=" + sms[i] +
                         " --set driver.prefetch.impl=" + pf[i] + " -q --out " + one)
                  .exit_code,
              0);
    EXPECT_EQ(read_file(one + "/stats.json"), read_file(dir + "/" + row[1] + "/stats.json"));
  }
}

TEST(Sweep, PointsKeepATimelineOnlyWhenTheSweepAsks) {
  const std::string params = "  parameters:\n    - {key: gpu.sms, values: [1, 2]}\n";
  const std::string quiet = fresh_dir("sweep_no_timeline"), loud = fresh_dir("sweep_timeline");
  ASSERT_EQ(run_hmmsim("sweep " + sweep_file("sw_tl0", params) + " -q --out " + quiet).exit_code, 0);
  ASSERT_EQ(run_hmmsim("sweep " + sweep_file("sw_tl1", "  set: {run.timeline_max_events: 1000}\n" + params) +
                       " -q --out " + loud)
                .exit_code,
            0);
  for (const char* p : {"/point-000", "/point-001"}) {
    EXPECT_FALSE(std::filesystem::exists(quiet + p + "/timeline.json")) << p;
    EXPECT_TRUE(std::filesystem::exists(loud + p + "/timeline.json")) << p;
    // The point's config says so: rerunning it gives the same outputs.
    const auto cfg = nlohmann::json::parse(read_file(quiet + p + "/config.json"));
    EXPECT_EQ(cfg["run"]["timeline_max_events"], 0);
  }
}

TEST(Sweep, ZipAndGeometricRanges) {
  const std::string f = sweep_file("sw_zip",
                                   "  parameters:\n"
                                   "    - {key: driver.batch_count, range: {from: 32, to: 256, times: 2}}\n"
                                   "    - {key: gpu.sms, values: [1, 2, 3, 4]}\n"
                                   "  mode: zip\n"
                                   "  stats: [sim.time_ns]\n");
  const std::string dir = fresh_dir("sweep_zip");
  const RunOutput r = run_hmmsim("sweep " + f + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto rows = read_csv(dir + "/results.csv");
  ASSERT_EQ(rows.size(), 5u);
  const char* bc[] = {"32", "64", "128", "256"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(rows[i + 1][2], bc[i]);
    EXPECT_EQ(rows[i + 1][3], std::to_string(i + 1));
  }
}

TEST(Sweep, AFailedPointIsReportedAndTheOthersFinish) {
  const std::string f = sweep_file("sw_fail",
                                   "  parameters:\n"
                                   "    - {key: gpu.sms, values: [1, 0, 2]}\n");  // 0 SMs: a config error
  const std::string dir = fresh_dir("sweep_fail");
  const RunOutput r = run_hmmsim("sweep " + f + " --out " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("point 1 failed (exit 2)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 of 3 points passed"), std::string::npos) << r.out;
  const auto rows = read_csv(dir + "/results.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1][3], "0");
  EXPECT_EQ(rows[2][3], "2");
  EXPECT_EQ(rows[2][4], "");  // no stats for it
  EXPECT_EQ(rows[3][3], "0");
  EXPECT_NE(read_file(dir + "/point-001/log.txt").find("gpu.sms"), std::string::npos);
}

TEST(Sweep, BadSweepFilesNameFileLineAndKey) {
  const std::string f1 = sweep_file("sw_bad1", "  parameters:\n    - {key: gpu.sms, value: [1]}\n");
  const RunOutput r1 = run_hmmsim("sweep " + f1);
  EXPECT_EQ(r1.exit_code, 2);
  EXPECT_NE(r1.out.find("sw_bad1.yaml:4: sweep.parameters[0].values: give either values"), std::string::npos)
      << r1.out;
  const std::string f2 = write_config("sw_bad2", "sweep:\n  base: nowhere.yaml\n  parameters: []\n");
  const RunOutput r2 = run_hmmsim("sweep " + f2);
  EXPECT_EQ(r2.exit_code, 2);
  EXPECT_NE(r2.out.find("sweep.base: no such file"), std::string::npos) << r2.out;
}
