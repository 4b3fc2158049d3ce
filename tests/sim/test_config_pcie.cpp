// The pcie: block: the keys every shipped config uses keep their meaning,
// the new ones (encoding, completion split, `auto` overheads) parse, and bad
// values name file, line and key (exit 2 from the binary).
#include <gtest/gtest.h>

#include "parse_helpers.h"

#include <filesystem>
#include <string>

#include "sim/config.h"
#include "tests/integration/run_hmmsim.h"

namespace hmmsim::sim {
namespace {

using bridge::CompletionSplit;
using bridge::PcieEncoding;

using hmmsim::sim::testing::error_of;
using hmmsim::sim::testing::parse_text;

TEST(ConfigPcie, ExplicitOverheadsKeepTheirMeaning) {
  const SimConfig c = parse_text("pcie:\n  gen: 3\n  tlp_overhead: 24\n  dllp_overhead: 0.03\n");
  ASSERT_TRUE(c.pcie.tlp_overhead_bytes.has_value());
  EXPECT_EQ(*c.pcie.tlp_overhead_bytes, 24u);
  EXPECT_EQ(c.pcie.tlp_overhead(bridge::TlpKind::Completion), 24u);  // one figure for every TLP, as before
  ASSERT_TRUE(c.pcie.dllp_overhead.has_value());
  EXPECT_DOUBLE_EQ(*c.pcie.dllp_overhead, 0.03);
  const SimConfig z = parse_text("pcie: {tlp_overhead: 0, dllp_overhead: 0}\n");
  EXPECT_EQ(z.pcie.tlp_overhead_bytes, 0u);
  EXPECT_EQ(z.pcie.dllp_overhead, 0.0);
}

TEST(ConfigPcie, AutoOverheadsFollowTheTlpKindAndMode) {
  const SimConfig c = parse_text("pcie:\n  gen: 6\n  tlp_overhead: auto\n  dllp_overhead: auto\n");
  EXPECT_FALSE(c.pcie.tlp_overhead_bytes.has_value());
  EXPECT_FALSE(c.pcie.dllp_overhead.has_value());
  EXPECT_TRUE(c.pcie.flit());
  EXPECT_EQ(c.pcie.tlp_overhead(bridge::TlpKind::MemWrite), 16u);
  EXPECT_EQ(c.pcie.tlp_overhead(bridge::TlpKind::Completion), 12u);
  EXPECT_DOUBLE_EQ(c.pcie.dllp_fraction(), 0.0);
}

TEST(ConfigPcie, EncodingAndCompletionSplitParse) {
  const SimConfig c = parse_text(
      "pcie:\n  gen: 5\n  encoding: flit\n  completion_split: rcb\n  read_completion_boundary: 128\n");
  EXPECT_EQ(c.pcie.encoding, PcieEncoding::Flit);
  EXPECT_EQ(c.pcie.completion_split, CompletionSplit::Rcb);
  EXPECT_EQ(c.pcie.rcb, 128u);
  EXPECT_EQ(c.pcie.completion_bytes(), 128u);
  EXPECT_EQ(parse_text("pcie: {gen: 2, encoding: 8b10b}\n").pcie.encoding, PcieEncoding::E8b10b);
  EXPECT_EQ(parse_text("pcie: {gen: 4, encoding: 128b130b}\n").pcie.encoding, PcieEncoding::E128b130b);
  ConfigDoc doc = load_config_string("pcie: {gen: 5}\n", "t.yaml");
  apply_override(doc, "pcie.encoding=flit");
  EXPECT_TRUE(parse_config(doc).pcie.flit());
}

TEST(ConfigPcie, BadValuesNameFileLineAndKey) {
  EXPECT_EQ(error_of("pcie:\n  gen: 6\n  encoding: 128b130b\n"),
            "t.yaml:3: pcie.encoding: 128b130b is the line code of Gen3-5 (8-32 GT/s) only");
  EXPECT_EQ(error_of("pcie:\n  encoding: 8b10b\n"),
            "t.yaml:2: pcie.encoding: 8b10b is the line code of Gen1-2 (2.5, 5 GT/s) only");
  EXPECT_EQ(error_of("pcie:\n  encoding: pam4\n"),
            "t.yaml:2: pcie.encoding: expected one of [auto, 8b10b, 128b130b, flit], got 'pam4'");
  EXPECT_EQ(error_of("pcie:\n  tlp_overhead: lots\n"),
            "t.yaml:2: pcie.tlp_overhead: expected auto or a byte count in [0, 64], got 'lots'");
  EXPECT_EQ(error_of("pcie:\n  tlp_overhead: 65\n"), "t.yaml:2: pcie.tlp_overhead: value 65 out of range [0, 64]");
  EXPECT_EQ(error_of("pcie:\n  dllp_overhead: some\n"),
            "t.yaml:2: pcie.dllp_overhead: expected auto or a fraction in [0, 0.5], got 'some'");
  EXPECT_EQ(error_of("pcie:\n  dllp_overhead: 0.7\n"), "t.yaml:2: pcie.dllp_overhead: value 0.7 out of range [0, 0.5]");
  EXPECT_EQ(error_of("pcie:\n  gen: 4\n  read_completion_boundary: 96\n"),
            "t.yaml:3: pcie.read_completion_boundary: must be 64 or 128");
  EXPECT_EQ(error_of("pcie:\n  completion_split: line\n"),
            "t.yaml:2: pcie.completion_split: expected one of [max_payload, rcb], got 'line'");
}

TEST(ConfigPcie, TheBinaryRejectsABadPcieKeyWithExit2) {
  using namespace hmmsim::testing;
  const std::string p = write_config("pcie_encoding", "pcie:\n  gen: 6\n  encoding: 8b10b\n");
  RunOutput r = run_hmmsim("run " + p + " -q --out " + fresh_dir("pcie_encoding_out"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(p + ":3: pcie.encoding: 8b10b is the line code of Gen1-2"), std::string::npos) << r.out;
}

TEST(ConfigPcie, ShippedGpuPresetsParse) {
  const std::string dir = std::string(HMMSIM_SOURCE_DIR) + "/configs/gpus";
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().extension() != ".yaml") continue;
    const SimConfig c = parse_config(load_config_file(f.path().string()));
    EXPECT_FALSE(c.pcie.validate().has_value()) << f.path();
    EXPECT_GE(c.pcie.gen, 3u) << f.path();
    ++n;
  }
  EXPECT_GE(n, 4);
}

}  // namespace
}  // namespace hmmsim::sim
