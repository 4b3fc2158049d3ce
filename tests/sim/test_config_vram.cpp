// gpu.vram parsing (sim/config_vram.cpp): presets, keys over presets, the
// timing implementation chosen by name, cycle-valued timings, and Spec
// validation reported as ConfigError with file, line and key. The last test
// runs the binary: a bad VRAM setting exits 2.
#include <gtest/gtest.h>

#include <string>

#include "hw/dram/dram_presets.h"
#include "sim/config_parts.h"
#include "tests/integration/run_hmmsim.h"

namespace hmmsim::sim {
namespace {

// Parses `body` (the lines under "  vram:", each indented four spaces).
hw::VramSpec parse(const std::string& body) {
  const ConfigDoc doc = load_config_string("gpu:\n  vram:\n" + body, "t.yaml");
  hw::VramSpec s;
  parse_vram(ConfigReader::root(doc).child("gpu").child("vram"), s);
  return s;
}

std::string error_of(const std::string& body) {
  try {
    parse(body);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << body;
  return "(no error thrown)";
}

}  // namespace

TEST(ConfigVram, NoPresetKeepsTheSimpleModel) {
  const hw::VramSpec s = parse("    capacity: 64MiB\n");
  const hw::VramSpec d;
  EXPECT_EQ(s.impl, "bank_row");
  EXPECT_EQ(s.channels, d.channels);
  EXPECT_EQ(s.burst_bytes, 0u);
  EXPECT_DOUBLE_EQ(s.channel_gbps, 32);
  EXPECT_DOUBLE_EQ(s.t_ras_ns, 0);
  EXPECT_DOUBLE_EQ(s.t_refi_ns, 0);
  EXPECT_TRUE(s.mapping == hw::DramMapping::RoBaCoCh);
}

TEST(ConfigVram, EachPresetLoadsItsSpec) {
  for (const char* name : {"hbm2", "hbm2e", "hbm3", "gddr6x"}) {
    const hw::VramSpec s = parse(std::string("    preset: ") + name + "\n");
    const hw::DramSpec& p = hw::dram_preset(name)->spec;
    EXPECT_EQ(s.channels, p.channels) << name;
    EXPECT_EQ(s.burst_bytes, p.burst_bytes) << name;
    EXPECT_DOUBLE_EQ(s.channel_gbps, p.channel_gbps) << name;
    EXPECT_DOUBLE_EQ(s.t_rcd_ns, p.t_rcd_ns) << name;
    EXPECT_DOUBLE_EQ(s.t_rfc_ns, p.t_rfc_ns) << name;
    EXPECT_EQ(s.capacity_bytes, hw::VramSpec{}.capacity_bytes) << name;  // a preset leaves capacity alone
  }
  const hw::VramSpec h = parse("    preset: hbm2\n");
  EXPECT_EQ(h.channels, 64u);
  EXPECT_NEAR(hw::dram_peak_gbps(h), 900, 0.01);
  EXPECT_EQ(h.burst_bytes, 32u);  // 64-bit pseudo-channel x BL4
}

TEST(ConfigVram, KeysOverrideThePreset) {
  const hw::VramSpec s = parse(
      "    preset: hbm3\n"
      "    channels: 80\n"
      "    t_rcd: 20ns\n"
      "    t_cl: 10ck\n"
      "    mapping: ro_co_ba_ch\n");
  const hw::DramSpec& p = hw::dram_preset("hbm3")->spec;
  EXPECT_EQ(s.channels, 80u);
  EXPECT_DOUBLE_EQ(s.t_rcd_ns, 20);
  EXPECT_DOUBLE_EQ(s.t_cl_ns, 10 * p.tck_ns);  // cycles of the preset's clock
  EXPECT_TRUE(s.mapping == hw::DramMapping::RoCoBaCh);
  EXPECT_DOUBLE_EQ(s.t_rp_ns, p.t_rp_ns);  // untouched keys keep the preset's value
  EXPECT_DOUBLE_EQ(s.channel_gbps, p.channel_gbps);
}

TEST(ConfigVram, BusWidthAndDataRateGiveBandwidthAndBurst) {
  const hw::VramSpec s = parse("    bus_bits: 64\n    data_rate_gbps: 3.2\n    burst_length: 4\n");
  EXPECT_DOUBLE_EQ(s.channel_gbps, 25.6);
  EXPECT_EQ(s.burst_bytes, 32u);
  // A preset's data rate with a new width: bandwidth and burst follow.
  const hw::VramSpec g = parse("    preset: gddr6x\n    bus_bits: 32\n");
  EXPECT_DOUBLE_EQ(g.channel_gbps, 32 * 19.5 / 8);
  EXPECT_EQ(g.burst_bytes, 64u);
  EXPECT_EQ(error_of("    bus_bits: 64\n    channel_bandwidth_gbps: 10\n"),
            "t.yaml:4: gpu.vram.channel_bandwidth_gbps: give either channel_bandwidth_gbps or "
            "bus_bits/data_rate_gbps, not both");
}

TEST(ConfigVram, ImplPicksTheTimingModel) {
  const hw::VramSpec f = parse("    impl: fixed\n    latency: 80ns\n");
  EXPECT_EQ(f.impl, "fixed");
  EXPECT_DOUBLE_EQ(f.latency_ns, 80);
  // Without `latency`, the fixed model takes a row miss (tRCD + CL).
  EXPECT_DOUBLE_EQ(parse("    impl: fixed\n    t_rcd: 10ns\n").latency_ns, 24);
  // `latency` belongs to the fixed model only.
  const std::string e = error_of("    latency: 80ns\n");
  EXPECT_NE(e.find("t.yaml:3: gpu.vram.latency: unknown key"), std::string::npos) << e;
}

TEST(ConfigVram, UnknownImplListsTheRegisteredNames) {
  EXPECT_EQ(error_of("    impl: ramulator\n"),
            "t.yaml:3: gpu.vram.impl: unknown implementation 'ramulator'; registered: bank_row, fixed");
}

TEST(ConfigVram, UnknownPresetAndMappingListTheChoices) {
  EXPECT_EQ(error_of("    preset: hbm4\n"),
            "t.yaml:3: gpu.vram.preset: expected one of [none, hbm2, hbm2e, hbm3, gddr6x], got 'hbm4'");
  EXPECT_EQ(error_of("    mapping: ch_ro_ba_co\n"),
            "t.yaml:3: gpu.vram.mapping: expected one of [ro_ba_co_ch, ro_co_ba_ch, ro_ba_ch_co, ro_ba_co_ch_bg], "
            "got 'ch_ro_ba_co'");
}

TEST(ConfigVram, ImpossibleSpecIsAnErrorAtItsKey) {
  EXPECT_EQ(error_of("    preset: hbm2\n    row_bytes: 1000\n"),
            "t.yaml:4: gpu.vram.row_bytes: must be a multiple of interleave_bytes (256)");
  EXPECT_EQ(error_of("    preset: hbm2\n    row_bytes: 144\n    interleave_bytes: 48\n"),
            "t.yaml:4: gpu.vram.row_bytes: must be a multiple of the burst (32 B)");
  EXPECT_EQ(error_of("    channels: 0\n"), "t.yaml:3: gpu.vram.channels: value 0 out of range [1, 4096]");
  EXPECT_EQ(error_of("    t_ras: 5ns\n"),
            "t.yaml:3: gpu.vram.t_ras: (5 ns) is shorter than t_rcd (14 ns): a row would close before it "
            "could be read");
  EXPECT_EQ(error_of("    preset: hbm2\n    t_ccd_s: 1ck\n"),
            "t.yaml:4: gpu.vram.t_ccd_s: (1.138 ns) is shorter than one burst on the data bus (2.276 ns = burst / "
            "channel bandwidth): check tck, data_rate_gbps and burst_length");
  // A preset value that breaks only with another key: the error points at the block.
  EXPECT_EQ(error_of("    preset: hbm2\n    t_refi: 200ns\n"),
            "t.yaml:2: gpu.vram.t_rfc: (260 ns) must be shorter than t_refi (200 ns): refresh would leave no time "
            "for data");
  EXPECT_EQ(error_of("    t_cl: 14cycles\n"), "t.yaml:3: gpu.vram.t_cl: expected time (e.g. 100ns, 45us, 1.5ms), got '14cycles'");
  EXPECT_EQ(error_of("    t_cl: xck\n"), "t.yaml:3: gpu.vram.t_cl: expected a cycle count such as 14ck, got 'xck'");
}

TEST(ConfigVram, BadVramSettingExitsTwoNamingTheKey) {
  using namespace hmmsim::testing;
  const std::string cfg = write_config("vram_bad_ras", "gpu:\n  vram:\n    preset: hbm2\n    t_ras: 1ns\n");
  const RunOutput r = run_hmmsim("run " + cfg + " -q --out " + fresh_dir("vram_bad_ras_out"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("gpu.vram.t_ras"), std::string::npos) << r.out;
}

}  // namespace hmmsim::sim
