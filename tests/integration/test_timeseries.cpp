// timeseries.csv: counters per epoch of simulated time. The columns of
// changes add up to the run's totals in stats.json, the level column
// (VRAM in use) stays within VRAM, and the row count stays bounded.
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
  double sum(const std::string& col) const {
    size_t c = 0;
    while (c < header.size() && header[c] != col) ++c;
    EXPECT_LT(c, header.size()) << col;
    double s = 0;
    for (const auto& r : rows) s += c < r.size() ? r[c] : 0;
    return s;
  }
};

Csv parse_csv(const std::string& text) {
  Csv out;
  std::istringstream in(text);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string cell;
    std::vector<double> row;
    while (std::getline(ls, cell, ',')) {
      if (first)
        out.header.push_back(cell);
      else
        row.push_back(std::stod(cell));
    }
    if (!first) out.rows.push_back(row);
    first = false;
  }
  return out;
}

}  // namespace

TEST(TimeSeries, ColumnsAddUpToTheTotals) {
  for (const char* rows : {"100000", "16"}) {
    SCOPED_TRACE(rows);
    const std::string dir = fresh_dir(std::string("ts_") + rows);
    const RunOutput r = run_hmmsim("run " + source("configs/experiments/random.yaml") +
                                   " --set gpu.vram.capacity=6552KiB --set run.timeseries_max_rows=" + rows +
                                   " -q --out " + dir);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const nlohmann::json s = read_stats(dir);
    const Csv c = parse_csv(read_file(dir + "/timeseries.csv"));
    ASSERT_EQ(c.header.front(), "time_us");
    ASSERT_GT(c.rows.size(), 1u);
    EXPECT_LE(c.rows.size(), std::stoul(rows));
    EXPECT_EQ(c.sum("accesses"), stat(s, "gpu.accesses"));
    EXPECT_EQ(c.sum("faults"), stat(s, "gpu.gmmu.faults"));
    EXPECT_EQ(c.sum("batches"), stat(s, "driver.batches"));
    EXPECT_EQ(c.sum("pages_to_vram"), stat(s, "driver.pages_to_vram"));
    EXPECT_EQ(c.sum("pages_evicted"), stat(s, "driver.pages_evicted"));
    EXPECT_EQ(c.sum("pcie_down_bytes"), stat(s, "pcie.down.payload_bytes"));
    EXPECT_EQ(c.sum("pcie_up_bytes"), stat(s, "pcie.up.payload_bytes"));
    EXPECT_GT(c.sum("evictions"), 0);
    // Time runs forward to the end of the run; VRAM use stays within VRAM.
    for (size_t i = 1; i < c.rows.size(); ++i) EXPECT_GT(c.rows[i][0], c.rows[i - 1][0]);
    EXPECT_NEAR(c.rows.back()[0] * 1000, s["sim"]["time_ns"].get<double>(), 1.0);
    double peak = 0;
    for (const auto& row : c.rows) peak = std::max(peak, row.back());
    EXPECT_GT(peak, 0);
    EXPECT_LE(peak, 6552.0 * 1024);
  }
}

TEST(TimeSeries, EpochZeroWritesNone) {
  const std::string dir = fresh_dir("ts_off");
  const RunOutput r = run_hmmsim("run " + source("configs/default.yaml") + " --set run.timeseries_epoch=0 --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(read_file(dir + "/timeseries.csv").empty());
  EXPECT_EQ(r.out.find("timeseries.csv"), std::string::npos) << r.out;
}
