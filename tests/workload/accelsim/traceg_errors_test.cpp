// Bad `.traceg` input: every problem is a SourceError naming the file and
// the exact line, never a crash or a hang.
#include <gtest/gtest.h>

#include <random>

#include "traceg_text.h"
#include "workload/accelsim/traceg.h"

namespace hmmsim::workload::accelsim {
namespace {

using hmmsim::testing::block;
using hmmsim::testing::drain_error;
using hmmsim::testing::header;
using hmmsim::testing::HeaderOpts;
using hmmsim::testing::TempDir;

const std::string kMov = "0000 ffffffff 1 R1 MOV 0 0 0 ";

// Line number of the first line of `text` containing `needle`.
uint64_t line_of(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  uint64_t n = 1;
  for (size_t i = 0; i < at && i < text.size(); ++i) n += text[i] == '\n';
  return n;
}

uint64_t line_count(const std::string& text) {
  uint64_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

// Writes `text` and expects "<file>:<line>: <what>".
void expect_error(const std::string& text, uint64_t line, const std::string& what) {
  TempDir dir;
  std::string p = dir.write("kernel-1.traceg", text);
  EXPECT_EQ(drain_error(p), p + ":" + std::to_string(line) + ": " + what);
}

// A one-warp kernel whose second instruction is `bad`.
void expect_line_error(const std::string& bad, const std::string& what, const HeaderOpts& o = {}) {
  std::string text = header(o) + block("0,0,0", {{0, {kMov, bad, kMov}}});
  expect_error(text, line_of(text, bad), what);
}

TEST(TracegErrors, TruncatedWarp) {
  HeaderOpts o;
  o.block = "(128,1,1)";
  std::string text = header(o) + "#BEGIN_TB\n\nthread block = 0,0,0\n\n";
  for (int w = 0; w < 3; ++w) text += "warp = " + std::to_string(w) + "\ninsts = 1\n" + kMov + "\n\n";
  text += "warp = 3\ninsts = 17\n";
  for (int i = 0; i < 5; ++i) text += kMov + "\n";
  expect_error(text, line_count(text), "warp 3 declares insts = 17 but the file ends after 5");
  // Cut short by the end of the block instead of the file.
  std::string ended = text + "#END_TB\n";
  expect_error(ended, line_of(ended, "#END_TB"), "warp 3 declares insts = 17 but line 6 of them is '#END_TB'");
  std::string blank = text + "\n" + kMov + "\n";
  expect_error(blank, line_count(blank) - 1, "warp 3 declares insts = 17 but line 6 of them is blank");
  // The file ends inside a block, after a complete warp.
  std::string noend = header() + "#BEGIN_TB\nthread block = 0,0,0\nwarp = 0\ninsts = 1\n" + kMov + "\n\n";
  expect_error(noend, line_count(noend), "thread block 0,0,0 (line " + std::to_string(line_of(noend, "#BEGIN_TB")) +
                                             ") has no #END_TB: the file ends");
  // The file ends in the middle of a line: the block has no end.
  std::string half = header() + block("0,0,0", {{0, {kMov, kMov}}});
  half = half.substr(0, half.find("MOV", half.find("MOV") + 1));
  expect_error(half, line_count(half) + 1,
               "thread block 0,0,0 (line " + std::to_string(line_of(half, "#BEGIN_TB")) + ") has no #END_TB: the file ends");
}

TEST(TracegErrors, MissingThreadBlocks) {
  HeaderOpts o;
  o.grid = "(2,1,1)";
  std::string one = header(o) + block("0,0,0", {{0, {kMov}}});
  expect_error(one, line_count(one), "the grid (2,1,1) has 2 thread blocks but the file ends after 1");
  std::string three = one + block("1,0,0", {}) + block("0,0,0", {});
  expect_error(three, line_of(three, "#BEGIN_TB\n\nthread block = 0,0,0\n\n#END") ,
               "more thread blocks than the grid's 2 (2,1,1)");
  std::string outside = header(o) + block("2,0,0", {});
  expect_error(outside, line_of(outside, "thread block ="), "thread block 2,0,0 is outside the grid (2,1,1)");
}

TEST(TracegErrors, GarbageLines) {
  std::string between = header() + "hello world\n" + block("0,0,0", {{0, {kMov}}});
  expect_error(between, line_of(between, "hello"), "expected '-key = value' or #BEGIN_TB in the header, found 'hello world'");
  std::string after = header() + block("0,0,0", {{0, {kMov}}}) + "hello world\n";
  expect_error(after, line_of(after, "hello"), "expected #BEGIN_TB, found 'hello world'");
  std::string in_block = header() + "#BEGIN_TB\nthread block = 0,0,0\nwrap = 0\n";
  expect_error(in_block, line_of(in_block, "wrap"), "expected 'warp = N' or #END_TB, found 'wrap = 0'");
  std::string no_id = header() + "#BEGIN_TB\nwarp = 0\n";
  expect_error(no_id, line_of(no_id, "warp"), "expected 'thread block = x,y,z', found 'warp = 0'");
  std::string no_insts = header() + "#BEGIN_TB\nthread block = 0,0,0\nwarp = 0\n" + kMov + "\n";
  expect_error(no_insts, line_of(no_insts, kMov), "expected 'insts = N' after 'warp = 0', found '0000 ffffffff 1 R1 MOV 0 0 0'");
  std::string binary = header() + block("0,0,0", {{0, {kMov, std::string("\x01\x02\xff garbage", 11)}}});
  expect_error(binary, line_of(binary, "\x01"), "warp 0 declares insts = 2 but line 2 of them is '??? garbage'");
  expect_line_error("0010 zzzzzzzz 1 R1 MOV 0 0 0 ", "expected an 8-digit hex active mask, found 'zzzzzzzz'");
  expect_line_error("0010 ffffffff 1 R1 MOV 0 0 0 extra", "expected only the immediate after mem_width 0, found 2 fields");
  expect_line_error("0010 ffffffff 1 R1 123 0 0 0 ", "expected an opcode, found '123'");
  expect_line_error("0010 ffffffff 1 R300 MOV 0 0 0 ", "bad register 'R300'");
  expect_line_error("0010 ffffffff x R1 MOV 0 0 0 ", "expected the destination register count, found 'x'");
  expect_line_error("0010 ffffffff 2 R1", "expected 2 destination registers, found 1");
  expect_line_error("0010 ffffffff 1 R1 MOV 0 0", "expected an immediate after mem_width, found end of line");
  expect_line_error("0010 ffffffff 1 R1 MOV 0 0 x", "expected a decimal immediate at the end of the line, found 'x'");
}

TEST(TracegErrors, ImmediateMustMatchTheFormatLine) {
  HeaderOpts v4;
  v4.version = 4;
  v4.immediate = false;
  std::string text = header(v4) + block("0,0,0", {{0, {"0000 ffffffff 1 R1 MOV 0 0 0 "}}});
  expect_error(text, line_of(text, "0000 ffff"),
               "unexpected field '0' after mem_width 0 (the #traces format line declares no immediate)");
  std::string mem = header(v4) + block("0,0,0", {{0, {"0010 ffffffff 1 R4 LDG.E 1 R2 4 1 0x7f0000001000 4 0 "}}});
  expect_error(mem, line_of(mem, "0010 ffff"), "expected a base address and a stride for address mode 1, found 3 fields");
}

TEST(TracegErrors, Addresses) {
  expect_line_error("0010 ffffffff 1 R4 LDG.E 1 R2 4 7 0x100 4 0 ", "unknown address mode '7' (expected 0, 1 or 2)");
  expect_line_error("0010 0000000f 1 R4 LDG.E 1 R2 4 0 0x100 0x104 0x108 0 ",
                    "expected 4 addresses for mask 0000000f, found 3");
  expect_line_error("0010 00000003 1 R4 LDG.E 1 R2 4 0 0x100 0x104 0x108 0 ",
                    "expected 2 addresses for mask 00000003, found 3");
  std::string d12 = "0010 ffffffff 1 R4 LDG.E 1 R2 4 2 0x7f0000001000";
  for (int i = 0; i < 12; ++i) d12 += " 4";
  expect_line_error(d12 + " 0 ", "expected 31 address deltas for mask ffffffff, found 12");
  expect_line_error("0010 00000003 1 R4 LDG.E 1 R2 4 2 0 ", "expected a base address for address mode 2, found end of line");
  expect_line_error("0010 00000003 1 R4 LDG.E 1 R2 4 2 0x7fzz 4 0 ", "expected a hex address, found '0x7fzz'");
  expect_line_error("0010 00000003 1 R4 LDG.E 1 R2 4 0 0x100 -5 0 ", "expected a hex address, found '-5'");
  expect_line_error("0010 00000003 1 R4 LDG.E 1 R2 4 2 0x100 4.5 0 ", "expected a decimal address delta, found '4.5'");
  expect_line_error("0010 00000003 1 R4 LDG.E 1 R2 4 1 0x100 x 0 ", "expected a decimal stride, found 'x'");
  expect_line_error("0010 00000003 1 R4 LDG.E 1 R2 4 1 0x10000000000000000 4 0 ",
                    "expected a hex address, found '0x10000000000000000'");
  expect_line_error("0010 00000003 1 R4 LDG.E 1 R2 4 0 ", "expected an address mode after mem_width 4");
  expect_line_error("0010 00000003 1 R4 LDG.E 1 R2 3 1 0x100 4 0 ", "bad mem_width 3 (expected 1, 2, 4, 8, 16 or 32)");
  expect_line_error("0010 00000003 1 R4 FOO.BAR 1 R2 4 1 0x100 4 0 ", "unknown memory opcode 'FOO.BAR' with mem_width 4");
}

TEST(TracegErrors, Header) {
  HeaderOpts o;
  o.with_grid = false;
  std::string t = header(o) + block("0,0,0", {});
  expect_error(t, line_of(t, "#BEGIN_TB"), "the header has no '-grid dim = (x,y,z)'");
  o = {};
  o.with_block = false;
  t = header(o) + block("0,0,0", {});
  expect_error(t, line_of(t, "#BEGIN_TB"), "the header has no '-block dim = (x,y,z)'");
  std::string only = header(o);  // ends without a body
  expect_error(only, line_count(only), "the header has no '-block dim = (x,y,z)'");
  o = {};
  o.grid = "(0,1,1)";
  t = header(o);
  expect_error(t, line_of(t, "-grid"), "expected -grid dim = (x,y,z) with x, y, z >= 1, found '(0,1,1)'");
  o.grid = "(1,1)";
  t = header(o);
  expect_error(t, line_of(t, "-grid"), "expected -grid dim = (x,y,z) with x, y, z >= 1, found '(1,1)'");
  o = {};
  o.block = "(2048,1,1)";
  t = header(o);
  expect_error(t, line_count(t), "block dim (2048,1,1) has more than 1024 threads");
  t = header() + kMov + "\n" + block("0,0,0", {});
  expect_error(t, line_of(t, kMov),
               "instruction line before #BEGIN_TB (a raw .trace? Accel-Sim's post-traces-processing makes the .traceg)");
  t = "-kernel name = k\n-grid dim = (1,1,1)\n-block dim = (32,1,1)\n-nregs = many\n";
  expect_error(t, 4, "expected a decimal value for -nregs, found 'many'");
  t = "-kernel name = k\n-enable lineinfo = yes\n";
  expect_error(t, 2, "expected -enable lineinfo = 0 or 1, found 'yes'");
  t = "-kernel name\n";
  expect_error(t, 1, "expected '-key = value', found '-kernel name'");
}

TEST(TracegErrors, WarpLayout) {
  HeaderOpts o;
  o.block = "(64,1,1)";
  std::string t = header(o) + block("0,0,0", {{0, {kMov}}, {2, {kMov}}});
  expect_error(t, line_of(t, "warp = 2"), "thread block 0,0,0 lists warp 2 but its block (64,1,1) has 2 warps");
  t = header(o) + block("0,0,0", {{1, {kMov}}, {1, {kMov}}});
  expect_error(t, line_of(t, "insts = 1\n" + kMov + "\n\nwarp = 1") + 3, "warp 1 is listed twice in thread block 0,0,0");
  t = header(o) + "#BEGIN_TB\nthread block = 0,0,0\n#BEGIN_TB\n";
  expect_error(t, line_count(t), "#BEGIN_TB inside thread block 0,0,0 (line " + std::to_string(line_count(t) - 2) +
                                     "): expected #END_TB");
}

TEST(TracegErrors, CorruptXzNamesTheFile) {
  TempDir dir;
  std::string text = header();
  std::vector<std::string> lines(2000, kMov);
  text += block("0,0,0", {{0, lines}});
  std::string z = hmmsim::testing::xz_compress(text);
  std::string trunc = dir.write("kernel-1.traceg.xz", z.substr(0, z.size() / 2));
  EXPECT_EQ(drain_error(trunc), trunc + ": truncated xz stream");
  z[z.size() / 2] = static_cast<char>(z[z.size() / 2] ^ 0x20);
  std::string bad = dir.write("kernel-2.traceg.xz", z);
  EXPECT_EQ(drain_error(bad), bad + ": corrupt xz data");
  EXPECT_EQ(drain_error(dir.path() + "/missing.traceg"),
            dir.path() + "/missing.traceg: cannot open: No such file or directory");
}

// Mutated and truncated copies of a valid trace: each either reads or
// throws SourceError (run under ASan for out-of-bounds reads).
TEST(TracegErrors, MutationsNeverCrash) {
  HeaderOpts o;
  o.grid = "(2,1,1)";
  o.block = "(64,1,1)";
  std::string d2 = "0030 80000005 0 ATOMG.E.ADD 2 R2 R7 4 2 0x7f0000004000 -16 4096 12 ";
  std::string text = header(o) +
                     block("0,0,0", {{0, {kMov, "0010 ffffffff 1 R4 LDG.E 1 R2 4 1 0x7f0000001000 4 0 ", d2}},
                                     {1, {"0020 0000000f 1 R4 LDG.E.64 1 R2 8 0 0x10 0x20 0x30 0x40 0 "}}}) +
                     block("1,0,0", {{1, {kMov, d2}}});
  TempDir dir;
  std::mt19937 rng(12345);
  const std::string alphabet = "0123456789abcdefx -=,#\n\r\tRUZ.()";
  int ok = 0, errors = 0;
  for (int iter = 0; iter < 600; ++iter) {
    std::string m = text;
    if (iter % 3 == 0) {
      m = m.substr(0, rng() % m.size());
    } else {
      for (int k = 0, n = 1 + int(rng() % 3); k < n; ++k) m[rng() % m.size()] = alphabet[rng() % alphabet.size()];
    }
    std::string p = dir.write("m" + std::to_string(iter) + ".traceg", m);
    std::string e = drain_error(p);
    if (e == "(no error)") ++ok;
    else {
      ++errors;
      EXPECT_EQ(e.rfind(p + ":", 0), 0u) << e;
    }
  }
  EXPECT_GT(errors, 300);
  EXPECT_GT(ok, 0);
}

}  // namespace
}  // namespace hmmsim::workload::accelsim
