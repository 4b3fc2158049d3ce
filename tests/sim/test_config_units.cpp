// Units in configs (docs/parameters.md, "Units"): bandwidths are GB/s and
// take units, decimal-looking byte units are refused as ambiguous, a bare
// time is nanoseconds.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "parse_helpers.h"
#include "sim/config_units.h"

using namespace hmmsim::sim;
using namespace hmmsim::sim::testing;

namespace {

SimConfig with_dram_bandwidth(const std::string& v) { return parse_text("host:\n  dram_bandwidth_gbps: " + v + "\n"); }

}  // namespace

TEST(ConfigUnits, BandwidthPlainNumberIsGigabytesPerSecond) {
  EXPECT_DOUBLE_EQ(with_dram_bandwidth("25.6").host.root.dram_gbps, 25.6);
  EXPECT_DOUBLE_EQ(parse_text("gpu:\n  vram:\n    channel_bandwidth_gbps: 32\n").gpu.vram.channel_gbps, 32);
}

TEST(ConfigUnits, BandwidthTakesByteAndBitUnits) {
  const std::vector<std::pair<std::string, double>> cases = {
      {"25.6GB/s", 25.6},       {"25.6 GB/s", 25.6},         {"25600MB/s", 25.6},      {"0.5TB/s", 500},
      {"16GiB/s", 17.179869184}, {"1024MiB/s", 1.073741824}, {"200Gb/s", 25},          {"200Gbps", 25},
      {"1Tb/s", 125},           {"8000Mbps", 1},            {"2e9B/s", 2},            {"1e6kB/s", 1}};
  for (const auto& [text, want] : cases) {
    EXPECT_NEAR(with_dram_bandwidth(text).host.root.dram_gbps, want, want * 1e-12) << text;
    EXPECT_NEAR(parse_text("gpu:\n  vram:\n    channel_bandwidth_gbps: " + text + "\n").gpu.vram.channel_gbps, want,
                want * 1e-12)
        << text;
  }
}

TEST(ConfigUnits, BandwidthErrorsNameFileLineAndKey) {
  for (const std::string bad : {"fast", "25.6GB", "25.6 gb/s", "GB/s", "25.6GiBps", "1e400GB/s"})
    EXPECT_EQ(error_of("host:\n  dram_bandwidth_gbps: '" + bad + "'\n"),
              "t.yaml:2: host.dram_bandwidth_gbps: expected bandwidth (e.g. 25.6GB/s, 16GiB/s, 200Gb/s; a plain "
              "number is GB/s), got '" +
                  bad + "'")
        << bad;
  EXPECT_EQ(error_of("host:\n  dram_bandwidth_gbps: 90000Gb/s\n"),
            "t.yaml:2: host.dram_bandwidth_gbps: value 90000Gb/s out of range [0.1GB/s, 10000GB/s]");
}

TEST(ConfigUnits, DecimalLookingByteUnitsAreRefusedAsAmbiguous) {
  EXPECT_EQ(error_of("gpu:\n  vram:\n    capacity: 64MB\n"),
            "t.yaml:3: gpu.vram.capacity: '64MB' is ambiguous (MB: 10^6 bytes in SI, 2^20 by habit); write 64MiB "
            "for 2^20, or the number of bytes");
  EXPECT_EQ(error_of("host:\n  ram: 1 GB\n"),
            "t.yaml:2: host.ram: '1 GB' is ambiguous (GB: 10^9 bytes in SI, 2^30 by habit); write 1GiB for 2^30, "
            "or the number of bytes");
  EXPECT_EQ(error_of("pcie:\n  max_payload: 0.25kb\n"),
            "t.yaml:2: pcie.max_payload: '0.25kb' is ambiguous (kb: 10^3 bytes in SI, 2^10 by habit); write 0.25KiB "
            "for 2^10, or the number of bytes");
  uint64_t v = 0;
  for (const char* s : {"8KB", "8kB", "64MB", "2GB", "1TB", "1PB", "1EB", "64 mb", "1.5MB"})
    EXPECT_EQ(units::parse_bytes(s, v), units::Parse::ambiguous) << s;
  // Junk with such a unit is still just bad.
  for (const char* s : {"MB", "-4MB", "x64MB", "4.MB", "1e3MB", "8KBB"}) EXPECT_EQ(units::parse_bytes(s, v), units::Parse::bad) << s;
}

TEST(ConfigUnits, BinaryByteUnitsStillRead) {
  EXPECT_EQ(parse_text("gpu:\n  vram:\n    capacity: 64MiB\n").gpu.vram.capacity_bytes, 64ull << 20);
  EXPECT_EQ(parse_text("gpu:\n  vram:\n    capacity: 64M\n").gpu.vram.capacity_bytes, 64ull << 20);
  EXPECT_EQ(parse_text("host:\n  ram: 1gib\n").host.ram_bytes, 1ull << 30);
  EXPECT_EQ(parse_text("host:\n  ram: 16777216\n").host.ram_bytes, 16ull << 20);
}

TEST(ConfigUnits, BareTimeIsNanosecondsAndUnitsConvert) {
  const std::vector<std::pair<std::string, double>> cases = {
      {"250", 250}, {"250ns", 250}, {"45us", 45000}, {"1.5ms", 1.5e6}, {"2s", 2e9}};
  for (const auto& [text, want] : cases)
    EXPECT_DOUBLE_EQ(parse_text("run:\n  timeseries_epoch: " + text + "\n").run.timeseries_epoch_ns, want) << text;
}
