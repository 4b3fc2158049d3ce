// NVBit mem_trace reader: bad input is a SourceError "<file>:<line>: ...".
#include "nvbit_test_util.h"

namespace hmmsim::workload {
namespace {

using test::lanes;
using test::launch_line;
using test::rec_line;

class NvbitErrors : public ::testing::Test {
 protected:
  // `text`'s error must be reported at `line` with `what`.
  void expect_error(const std::string& text, uint64_t line, const std::string& what) {
    std::string p = m_dir.path("bad.txt");
    test::write_bytes(p, text);
    test::expect_source_error([&] { NvbitTrace t(p); }, p + ":" + std::to_string(line) + ": " + what);
  }
  test::ScratchDir m_dir;
};

const std::string kLaunch = launch_line(0, "k", {2, 1, 1}, {32, 1, 1});  // line 1
const std::string kGood = rec_line(0, {0, 0, 0}, 0, "LDG.E", lanes(0x1000, 4));

TEST_F(NvbitErrors, MalformedRecords) {
  std::string r = kGood;
  expect_error(kLaunch + kGood + std::string(r).replace(r.find("warp"), 4, "wrap"), 3, "expected 'warp', found 'wrap'");
  // 31 addresses
  std::string a = test::addr_text(lanes(0x1000, 4));
  std::string rec31 = "MEMTRACE: CTX 0x1 - grid_launch_id 0 - CTA 0,0,0 - warp 0 - LDG.E - " + a.substr(19) + "\n";
  expect_error(kLaunch + rec31, 2, "expected 32 addresses, found 31");
  std::string rec33 = "MEMTRACE: CTX 0x1 - grid_launch_id 0 - CTA 0,0,0 - warp 0 - LDG.E - " + a + "0x0\n";
  expect_error(kLaunch + rec33, 2, "expected 32 addresses, found 33");
  std::string nonhex = kGood;
  nonhex.replace(nonhex.find("0x0000000000001010") + 2, 2, "zz");  // lane 4
  expect_error(kLaunch + nonhex, 2, "expected a hex address for lane 4, found '0xzz00000000001010'");
  expect_error(kLaunch + "MEMTRACE: CTX 0x1 - grid_launch_id 0 - CTA 0,0 - warp 0 - LDG.E - " + a + "\n", 2,
               "expected a CTA id as x,y,z, found '0,0'");
  expect_error(kLaunch + "MEMTRACE: CTX 0x1 - grid_launch_id x - CTA 0,0,0 - warp 0 - LDG.E - " + a + "\n", 2,
               "expected a grid launch id, found 'x'");
  expect_error(kLaunch + "MEMTRACE: CTX 0x1 - grid_launch_id 0 - CTA 0,0,0 - warp 0 - LDG.E\n", 2,
               "expected '-', found the end of the line");
  expect_error("CTA 0,0,0 - warp 99999 - LDG.E - " + a + "\n", 1, "expected a warp id below 65536, found '99999'");
}

TEST_F(NvbitErrors, MalformedLaunchLines) {
  expect_error("MEMTRACE: CTX 0x1 - LAUNCH - Kernel pc 0x2 - grid launch id 0\n", 1,
               "expected 'LAUNCH - Kernel pc 0x... - Kernel name <name> - grid launch id <N>'");
  expect_error(launch_line(0, "k", {0, 1, 1}, {32, 1, 1}), 1, "expected a grid size as x,y,z, found '0,1,1'");
  expect_error("MEMTRACE: CTX 0x1 - LAUNCH - Kernel pc 0x2 - Kernel name k - grid launch id 0 - grid size 1,1,1\n", 1,
               "expected both grid size and block size");
  expect_error(kLaunch + kGood + launch_line(0, "again", {1, 1, 1}, {32, 1, 1}), 3,
               "duplicate LAUNCH line for grid launch id 0");
}

TEST_F(NvbitErrors, RecordsThatDoNotFitTheirLaunch) {
  expect_error(kLaunch + kGood + rec_line(7, {0, 0, 0}, 0, "LDG.E", lanes(0x1000, 4)), 3,
               "record for grid launch id 7, which has no LAUNCH line before it");
  expect_error(kGood + kLaunch, 1, "record for grid launch id 0, which has no LAUNCH line before it");
  expect_error(kLaunch + kGood + rec_line(0, {2, 0, 0}, 0, "LDG.E", lanes(0x1000, 4)), 3,
               "CTA 2,0,0 outside the grid 2,1,1 of launch 'k'");
  expect_error(kLaunch + kGood + rec_line(0, {0, 0, 0}, 5, "LDG.E", lanes(0x1000, 4)), 3,
               "CTA 0,0,0 has more than the 1 warps of its block 32,1,1");
  expect_error(kLaunch + kGood + rec_line(0, {1, 0, 0}, 0, "FOO.E", lanes(0x1000, 4)), 3,
               "unknown memory opcode 'FOO.E'");
  expect_error(kLaunch + kGood + test::old_rec_line({0, 0, 0}, 0, "LDG.E", lanes(0x1000, 4)), 3,
               "expected a new-style (MEMTRACE:) mem_trace line like line 1, found the other style");
}

TEST_F(NvbitErrors, NotATrace) {
  std::string p = m_dir.path("empty.txt");
  test::write_bytes(p, "hello\nworld\n");
  test::expect_source_error([&] { NvbitTrace t(p); }, p + ": no NVBit mem_trace lines");
  test::expect_source_error([&] { NvbitTrace t(m_dir.path("missing.txt")); }, "missing.txt: cannot open");
}

}  // namespace
}  // namespace hmmsim::workload
