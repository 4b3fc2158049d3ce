// Bad input never crashes: a clear message naming file, line and key, exit 2.
#include <gtest/gtest.h>

#include <fstream>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

TEST(BadInput, UnknownKeyNamesFileLineAndKey) {
  const std::string p = write_config("unknown_key", "gpu:\n  sms: 2\n  smz: 4\n");
  RunOutput r = run_hmmsim("run " + p + " -q --out " + fresh_dir("unknown_key_out"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(p + ":3: gpu.smz: unknown key"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("allowed keys here"), std::string::npos) << r.out;
}

TEST(BadInput, WrongTypeAndOutOfRange) {
  const std::string p = write_config("wrong_type", "pcie:\n  lanes: many\n");
  RunOutput r = run_hmmsim("run " + p + " -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(p + ":2: pcie.lanes: expected"), std::string::npos) << r.out;

  const std::string q = write_config("range", "pcie:\n  gen: 9\n");
  r = run_hmmsim("run " + q + " -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(q + ":2: pcie.gen: value 9 out of range"), std::string::npos) << r.out;
}

TEST(BadInput, ImpossibleParameterIsRejected) {
  const std::string p = write_config("geometry", "gpu:\n  tlb:\n    l1: {entries: 10, ways: 4}\n");
  RunOutput r = run_hmmsim("run " + p + " -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(p + ":3: gpu.tlb.l1.ways: entries must be a multiple of ways"), std::string::npos) << r.out;
}

TEST(BadInput, UnknownComponentNameListsTheRegisteredOnes) {
  const std::string p = write_config("impl", "gpu:\n  tlb:\n    l2:\n      replacement: plru\n");
  RunOutput r = run_hmmsim("run " + p + " -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(p + ":4: gpu.tlb.l2.replacement: unknown implementation 'plru'; registered: fifo, lru, random"),
            std::string::npos)
      << r.out;
  const std::string q = write_config("pwc", "gpu:\n  gmmu:\n    pwc: {impl: radix}\n");
  r = run_hmmsim("run " + q + " -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(q + ":3: gpu.gmmu.pwc.impl: unknown implementation 'radix'; registered: none, per_level, unified"),
            std::string::npos)
      << r.out;
  r = run_hmmsim("run " + source("configs/default.yaml") + " --set gpu.tlb.l1.impl=banked -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--set: gpu.tlb.l1.impl: unknown implementation 'banked'; registered: split, unified"),
            std::string::npos)
      << r.out;
}

TEST(BadInput, BadOverrideNamesTheCommandLine) {
  RunOutput r = run_hmmsim("run " + source("configs/default.yaml") + " --set gpu.nope=1 -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--set: gpu.nope: unknown key"), std::string::npos) << r.out;
  r = run_hmmsim("run " + source("configs/default.yaml") + " --set gpu.sms -q");
  EXPECT_EQ(r.exit_code, 2);
}

TEST(BadInput, MissingFileAndMalformedYaml) {
  RunOutput r = run_hmmsim("run /nonexistent/cfg.yaml -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("/nonexistent/cfg.yaml"), std::string::npos) << r.out;
  const std::string p = write_config("malformed", "gpu: [1, 2\n");
  r = run_hmmsim("run " + p + " -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(p), std::string::npos) << r.out;
}

TEST(BadInput, BadCommandLineExitsTwo) {
  EXPECT_EQ(run_hmmsim("").exit_code, 2);
  EXPECT_EQ(run_hmmsim("frobnicate").exit_code, 2);
  EXPECT_EQ(run_hmmsim("run").exit_code, 2);
  EXPECT_EQ(run_hmmsim("--version").exit_code, 0);
}

TEST(BadInput, MachineTooLargeOrTooSmallIsABadConfig) {
  RunOutput r = run_hmmsim("run " + source("configs/default.yaml") +
                           " --set gpu.sms=1024 --set gpu.tlb.l1.entries=65536 --set gpu.tlb.l1.ways=0 -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--set: gpu.tlb.l1.entries"), std::string::npos) << r.out;
  r = run_hmmsim("run " + source("configs/default.yaml") + " --set gpu.vram.capacity=1MiB --set workload.pages=41000 -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--set: gpu.vram.capacity: too small for the device page tables"), std::string::npos) << r.out;
  // host.ram is not a config check (pages in VRAM need none): running out
  // of it is found while running, exit 1 (test_host_ram.cpp).
}

TEST(BadInput, DependentDefaultsFollowTheirKeys) {
  // Fewer pages than the default cpu_init_pages (12): the default shrinks
  // with them. Given explicitly, the same value is out of range.
  const std::string p = write_config("small", "workload: {pages: 4, lut_pages: 1}\n");
  const std::string dir = fresh_dir("small_out");
  RunOutput r = run_hmmsim("run " + p + " -q --out " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(read_stats(dir)["host"]["pages_written"], 4 + 1);
  r = run_hmmsim("run " + p + " --set workload.cpu_init_pages=12 -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--set: workload.cpu_init_pages: value 12 out of range [0, 4]"), std::string::npos) << r.out;
}

TEST(BadInput, UnwritableOutputFolderIsExitTwo) {
  RunOutput r = run_hmmsim("run " + source("configs/default.yaml") + " -q --out /proc/hmmsim_cannot_write");
  EXPECT_EQ(r.exit_code, 2) << r.out;
}
