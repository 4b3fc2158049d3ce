// NVBit mem_trace reader: both header styles, interleaved records, lane
// masks from zero addresses, opcode classes and widths, inferred shapes.
#include <algorithm>
#include <random>

#include "nvbit_test_util.h"
#include "workload/nvbit/nvbit_lines.h"

namespace hmmsim::workload {
namespace {

using hw::InstrClass;
using hw::MemSpace;
using test::lanes;
using test::launch_line;
using test::rec_line;

struct Expect {
  InstrClass cls;
  MemSpace space;
  uint8_t width;
  std::string op;
  std::vector<uint64_t> addr;
};

void expect_warp(const hw::KernelInfo& info, const std::vector<hw::WarpInstr>& got, const std::vector<Expect>& want,
                 const std::string& where) {
  ASSERT_EQ(got.size(), want.size()) << where;
  for (size_t i = 0; i < want.size(); ++i) {
    const hw::WarpInstr& g = got[i];
    const Expect& w = want[i];
    std::string at = where + " instr " + std::to_string(i);
    EXPECT_EQ(g.cls, w.cls) << at;
    EXPECT_EQ(g.space, w.space) << at;
    EXPECT_EQ(g.width, w.width) << at;
    ASSERT_LT(g.opcode, info.opcodes.size()) << at;
    EXPECT_EQ(info.opcodes[g.opcode], w.op) << at;
    EXPECT_EQ(g.pc, 0u) << at;
    EXPECT_EQ(g.ndst + g.nsrc, 0) << at;
    uint32_t mask = 0;
    for (unsigned l = 0; l < hw::kWarpSize; ++l)
      if (w.addr[l]) {  // an active lane (only those carry addresses)
        EXPECT_EQ(g.addr[l], w.addr[l]) << at << " lane " << l;
        mask |= 1u << l;
      }
    EXPECT_EQ(g.mask, mask) << at;
  }
}

class NvbitTraceTest : public ::testing::Test {
 protected:
  std::string file(const std::string& text) {
    std::string p = m_dir.path("trace.txt");
    test::write_bytes(p, text);
    return p;
  }
  test::ScratchDir m_dir;
};

TEST_F(NvbitTraceTest, NewStyleTwoLaunchesInterleaved) {
  const uint64_t A = 0x7f5c8a000000, B = 0x7f5c8a100000, C = 0x7f5c8a200000;
  std::string text =
      "----------------------------------------------------------------------------------------------------\n"
      "NVBit (NVidia Binary Instrumentation Tool v1.7.1) Loaded\n" +
      launch_line(0, "vecAdd(float*, float const*, int)", {2, 1, 1}, {64, 1, 1}, 16, 1024) +
      rec_line(0, {1, 0, 0}, 1, "LDG.E", lanes(A + 4096 + 128, 4)) +
      rec_line(0, {0, 0, 0}, 0, "LDG.E", lanes(A, 4)) +
      rec_line(0, {0, 0, 0}, 1, "LDS.U.128", lanes(0x100, 16, 0x0000FFFF)) +  // half the lanes
      rec_line(0, {1, 0, 0}, 1, "STG.E.64", lanes(B + 8192, 8, 0x80000001)) +
      "Result = PASS\n" +  // the application's own output
      rec_line(0, {0, 0, 0}, 0, "STG.E", lanes(B, 4)) +
      launch_line(1, "reduce", {1, 1, 1}, {32, 1, 1}) +
      rec_line(1, {0, 0, 0}, 0, "ATOMG.E.ADD.STRONG.GPU", lanes(C, 0, 0x1)) +
      rec_line(0, {1, 0, 0}, 0, "LDG.E.U8", lanes(A + 4096, 1)) +  // launch 0, printed late
      rec_line(1, {0, 0, 0}, 0, "LDL.64", lanes(0xfffcd0, 8)) +
      rec_line(1, {0, 0, 0}, 0, "RED.E.ADD.F64.RN.STRONG.GPU", lanes(C, 0)) +
      rec_line(1, {0, 0, 0}, 0, "ST.E.128", lanes(C + 64, 16)) +
      rec_line(1, {0, 0, 0}, 0, "LDSM.16.M88.4", lanes(0x0, 16, 0xFFFFFFFE));
  std::string path = file(text);
  NvbitTrace t(path);
  ASSERT_EQ(t.kernel_count(), 2u);
  const TraceProgram& prog = t.program();
  ASSERT_EQ(prog.commands.size(), 2u);
  EXPECT_EQ(prog.file, path);
  EXPECT_EQ(prog.commands[0].kind, TraceCommand::Kind::Kernel);
  EXPECT_EQ(prog.commands[0].kernel_path, path);
  EXPECT_EQ(prog.commands[0].line, 3u);
  EXPECT_EQ(prog.commands[1].line, 10u);

  auto k0 = t.open_kernel(0);
  const hw::KernelInfo& i0 = k0->info();
  EXPECT_EQ(i0.name, "vecAdd(float*, float const*, int)");
  EXPECT_TRUE(i0.grid == (hw::Dim3{2, 1, 1}));
  EXPECT_TRUE(i0.block == (hw::Dim3{64, 1, 1}));
  EXPECT_EQ(i0.nregs, 16u);
  EXPECT_EQ(i0.shmem_bytes, 1024u);
  EXPECT_EQ(i0.shmem_base, 0u);
  std::vector<test::DrainedCta> c0 = test::drain(*k0);
  ASSERT_EQ(c0.size(), 2u);
  EXPECT_TRUE(c0[0].id == (hw::Dim3{0, 0, 0}));
  EXPECT_TRUE(c0[1].id == (hw::Dim3{1, 0, 0}));
  ASSERT_EQ(c0[0].warps.size(), 2u);
  ASSERT_EQ(c0[1].warps.size(), 2u);
  expect_warp(i0, c0[0].warps[0],
              {{InstrClass::Load, MemSpace::Global, 4, "LDG.E", lanes(A, 4)},
               {InstrClass::Store, MemSpace::Global, 4, "STG.E", lanes(B, 4)}},
              "k0 cta0 warp0");
  expect_warp(i0, c0[0].warps[1], {{InstrClass::Load, MemSpace::Shared, 16, "LDS.U.128", lanes(0x100, 16, 0xFFFF)}},
              "k0 cta0 warp1");
  expect_warp(i0, c0[1].warps[0], {{InstrClass::Load, MemSpace::Global, 1, "LDG.E.U8", lanes(A + 4096, 1)}},
              "k0 cta1 warp0");
  expect_warp(i0, c0[1].warps[1],
              {{InstrClass::Load, MemSpace::Global, 4, "LDG.E", lanes(A + 4096 + 128, 4)},
               {InstrClass::Store, MemSpace::Global, 8, "STG.E.64", lanes(B + 8192, 8, 0x80000001)}},
              "k0 cta1 warp1");

  auto k1 = t.open_kernel(1);
  const hw::KernelInfo& i1 = k1->info();
  EXPECT_EQ(i1.name, "reduce");
  std::vector<test::DrainedCta> c1 = test::drain(*k1);
  ASSERT_EQ(c1.size(), 1u);
  ASSERT_EQ(c1[0].warps.size(), 1u);
  expect_warp(i1, c1[0].warps[0],
              {{InstrClass::Atomic, MemSpace::Global, 4, "ATOMG.E.ADD.STRONG.GPU", lanes(C, 0, 0x1)},
               {InstrClass::Load, MemSpace::Local, 8, "LDL.64", lanes(0xfffcd0, 8)},
               {InstrClass::Atomic, MemSpace::Global, 8, "RED.E.ADD.F64.RN.STRONG.GPU", lanes(C, 0)},
               {InstrClass::Store, MemSpace::Global, 16, "ST.E.128", lanes(C + 64, 16)},
               {InstrClass::Load, MemSpace::Shared, 16, "LDSM.16.M88.4", lanes(0x0, 16, 0xFFFFFFFE)}},
              "k1 warp0");
  EXPECT_THROW(t.open_kernel(2), hw::SourceError);
}

TEST_F(NvbitTraceTest, OldStyleWithoutLaunchLinesInfersTheShape) {
  std::string text = test::old_rec_line({2, 1, 0}, 3, "LDG.E", lanes(0x1000, 4)) +
                     test::old_rec_line({0, 0, 0}, 0, "STS", lanes(0x20, 4, 0xF)) +
                     test::old_rec_line({2, 1, 0}, 3, "STG.E", lanes(0x2000, 4));
  NvbitTrace t(file(text));
  ASSERT_EQ(t.kernel_count(), 1u);
  EXPECT_EQ(t.program().commands[0].line, 1u);
  auto k = t.open_kernel(0);
  EXPECT_EQ(k->info().name, "kernel");
  EXPECT_TRUE(k->info().grid == (hw::Dim3{3, 2, 1}));
  EXPECT_TRUE(k->info().block == (hw::Dim3{128, 1, 1}));
  std::vector<test::DrainedCta> c = test::drain(*k);
  ASSERT_EQ(c.size(), 6u);  // every CTA of the grid, in dispatch order
  EXPECT_TRUE(c[1].id == (hw::Dim3{1, 0, 0}));
  EXPECT_TRUE(c[3].id == (hw::Dim3{0, 1, 0}));
  for (const auto& cta : c) ASSERT_EQ(cta.warps.size(), 4u);
  expect_warp(k->info(), c[0].warps[0], {{InstrClass::Store, MemSpace::Shared, 4, "STS", lanes(0x20, 4, 0xF)}}, "cta0");
  expect_warp(k->info(), c[5].warps[3],
              {{InstrClass::Load, MemSpace::Global, 4, "LDG.E", lanes(0x1000, 4)},
               {InstrClass::Store, MemSpace::Global, 4, "STG.E", lanes(0x2000, 4)}},
              "cta5");
  size_t instrs = 0;
  for (const auto& cta : c)
    for (const auto& w : cta.warps) instrs += w.size();
  EXPECT_EQ(instrs, 3u);
}

TEST_F(NvbitTraceTest, OldStyleKernelLinesSeparateKernels) {
  std::string text = test::old_kernel_line("first", {1, 1, 1}, {64, 1, 1}) +
                     test::old_rec_line({0, 0, 0}, 1, "LDG.E", lanes(0x1000, 4)) +
                     test::old_kernel_line("second(int)", {2, 1, 1}, {32, 1, 1}) +
                     test::old_rec_line({1, 0, 0}, 0, "ATOM.E.ADD", lanes(0x3000, 4)) +
                     test::old_rec_line({0, 0, 0}, 0, "LD.E", lanes(0x4000, 4));
  NvbitTrace t(file(text));
  ASSERT_EQ(t.kernel_count(), 2u);
  auto a = t.open_kernel(0);
  EXPECT_EQ(a->info().name, "first");
  std::vector<test::DrainedCta> ca = test::drain(*a);
  ASSERT_EQ(ca.size(), 1u);
  EXPECT_TRUE(ca[0].warps[0].empty());
  expect_warp(a->info(), ca[0].warps[1], {{InstrClass::Load, MemSpace::Global, 4, "LDG.E", lanes(0x1000, 4)}}, "a");
  auto b = t.open_kernel(1);
  EXPECT_EQ(b->info().name, "second(int)");
  std::vector<test::DrainedCta> cb = test::drain(*b);
  ASSERT_EQ(cb.size(), 2u);
  expect_warp(b->info(), cb[0].warps[0], {{InstrClass::Load, MemSpace::Global, 4, "LD.E", lanes(0x4000, 4)}}, "b0");
  expect_warp(b->info(), cb[1].warps[0], {{InstrClass::Atomic, MemSpace::Global, 4, "ATOM.E.ADD", lanes(0x3000, 4)}},
              "b1");
}

TEST_F(NvbitTraceTest, Nvbit15LaunchIdsOneAboveTheirRecords) {
  // NVBit 1.5.x printed the LAUNCH line after incrementing the id.
  std::string text = launch_line(1, "a", {1, 1, 1}, {32, 1, 1}) +
                     rec_line(0, {0, 0, 0}, 0, "LDG.E", lanes(0x1000, 4)) +
                     launch_line(2, "b", {1, 1, 1}, {32, 1, 1}) +
                     rec_line(1, {0, 0, 0}, 0, "STG.E", lanes(0x2000, 4)) +
                     rec_line(1, {0, 0, 0}, 0, "STG.E", lanes(0x2080, 4));
  NvbitTrace t(file(text));
  ASSERT_EQ(t.kernel_count(), 2u);
  auto a = t.open_kernel(0);
  EXPECT_EQ(a->info().name, "a");
  EXPECT_EQ(test::drain(*a)[0].warps[0].size(), 1u);
  auto b = t.open_kernel(1);
  EXPECT_EQ(test::drain(*b)[0].warps[0].size(), 2u);
}

TEST_F(NvbitTraceTest, HardwareWarpSlotsAreRenumberedPerCta) {
  // %warpid is the SM's warp slot: a 2-warp CTA may print warps 4 and 5.
  std::string text = launch_line(0, "k", {2, 1, 1}, {64, 1, 1}) +
                     rec_line(0, {0, 0, 0}, 5, "LDG.E", lanes(0x5000, 4)) +
                     rec_line(0, {0, 0, 0}, 4, "LDG.E", lanes(0x4000, 4)) +
                     rec_line(0, {1, 0, 0}, 1, "LDG.E", lanes(0x1000, 4));  // fits: kept as is
  NvbitTrace t(file(text));
  auto k = t.open_kernel(0);
  std::vector<test::DrainedCta> c = test::drain(*k);
  ASSERT_EQ(c.size(), 2u);
  expect_warp(k->info(), c[0].warps[0], {{InstrClass::Load, MemSpace::Global, 4, "LDG.E", lanes(0x4000, 4)}}, "0.0");
  expect_warp(k->info(), c[0].warps[1], {{InstrClass::Load, MemSpace::Global, 4, "LDG.E", lanes(0x5000, 4)}}, "0.1");
  EXPECT_TRUE(c[1].warps[0].empty());
  EXPECT_EQ(c[1].warps[1].size(), 1u);
}

TEST_F(NvbitTraceTest, ShortLaunchLineAndVerboseOutput) {
  // TOOL_VERBOSE prints extra MEMTRACE lines; some tools print LAUNCH
  // without sizes.
  std::string text =
      "MEMTRACE: STARTING CONTEXT 0x5555e0c3a7d0\n"
      "MEMTRACE: CTX 0x5555e0c3a7d0, Inspecting CUfunction 0x5555e0f0 name k at address 0x7f5c8e000d00\n"
      "MEMTRACE: CTX 0x00005555e0c3a7d0 - LAUNCH - Kernel pc 0x00007f5c8e000d00 - Kernel name k - grid launch id 0\n" +
      rec_line(0, {1, 0, 0}, 2, "LDG.E.128", lanes(0x1000, 16)) + "MEMTRACE: TERMINATING CONTEXT 0x5555e0c3a7d0\n";
  NvbitTrace t(file(text));
  auto k = t.open_kernel(0);
  EXPECT_TRUE(k->info().grid == (hw::Dim3{2, 1, 1}));
  EXPECT_TRUE(k->info().block == (hw::Dim3{96, 1, 1}));
  std::vector<test::DrainedCta> c = test::drain(*k);
  ASSERT_EQ(c.size(), 2u);
  expect_warp(k->info(), c[1].warps[2], {{InstrClass::Load, MemSpace::Global, 16, "LDG.E.128", lanes(0x1000, 16)}}, "");
}

TEST_F(NvbitTraceTest, ManyInterleavedRecordsKeepPerWarpOrder) {
  // 3x2 CTAs of 4 warps, 40 records each, in a shuffled global order that
  // keeps each warp's own order (as the GPU's channel does).
  const hw::Dim3 grid{3, 2, 1};
  const unsigned warps = 4, per = 40;
  std::vector<std::pair<unsigned, unsigned>> order;  // (warp key, record index)
  for (unsigned w = 0; w < grid.count() * warps; ++w)
    for (unsigned i = 0; i < per; ++i) order.push_back({w, 0});
  std::mt19937 rng(5);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<unsigned> next(grid.count() * warps, 0);
  auto addr_of = [](unsigned key, unsigned i) { return 0x7f0000000000ull + (uint64_t(key) << 24) + i * 256; };
  std::string text = launch_line(0, "big", grid, {128, 1, 1});
  for (auto& o : order) {
    unsigned key = o.first, i = next[key]++;
    unsigned cta = key / warps;
    hw::Dim3 id{cta % grid.x, cta / grid.x, 0};
    const char* op = i % 3 == 0 ? "STG.E" : "LDG.E";
    text += rec_line(0, id, key % warps, op, lanes(addr_of(key, i), 4, i % 5 ? 0xFFFFFFFFu : 0x00FF00FFu));
  }
  NvbitTrace t(file(text));
  auto k = t.open_kernel(0);
  std::vector<test::DrainedCta> c = test::drain(*k);
  ASSERT_EQ(c.size(), grid.count());
  for (unsigned cta = 0; cta < grid.count(); ++cta) {
    ASSERT_EQ(c[cta].warps.size(), warps);
    for (unsigned w = 0; w < warps; ++w) {
      unsigned key = cta * warps + w;
      std::vector<Expect> want;
      for (unsigned i = 0; i < per; ++i)
        want.push_back({i % 3 == 0 ? InstrClass::Store : InstrClass::Load, MemSpace::Global, 4,
                        i % 3 == 0 ? "STG.E" : "LDG.E", lanes(addr_of(key, i), 4, i % 5 ? 0xFFFFFFFFu : 0x00FF00FFu)});
      expect_warp(k->info(), c[cta].warps[w], want, "cta " + std::to_string(cta) + " warp " + std::to_string(w));
    }
  }
}

TEST(NvbitOpcodes, ClassSpaceAndWidth) {
  struct Case {
    const char* op;
    InstrClass cls;
    MemSpace space;
    uint8_t width;
  } cases[] = {
      {"LDG.E", InstrClass::Load, MemSpace::Global, 4},        {"LDG.E.64.SYS", InstrClass::Load, MemSpace::Global, 8},
      {"LDG.E.S16", InstrClass::Load, MemSpace::Global, 2},    {"LDG.E.128.CONSTANT", InstrClass::Load, MemSpace::Global, 16},
      {"STG.E.U8", InstrClass::Store, MemSpace::Global, 1},    {"STG.E.8", InstrClass::Store, MemSpace::Global, 1},
      {"STS.16", InstrClass::Store, MemSpace::Shared, 2},      {"LDS.U.32", InstrClass::Load, MemSpace::Shared, 4},
      {"ATOMS.CAS.64", InstrClass::Atomic, MemSpace::Shared, 8}, {"ATOM.E.ADD", InstrClass::Atomic, MemSpace::Global, 4},
      {"RED.E.ADD", InstrClass::Atomic, MemSpace::Global, 4},  {"STL.128", InstrClass::Store, MemSpace::Local, 16},
      {"LDL", InstrClass::Load, MemSpace::Local, 4},           {"ST.E.S8", InstrClass::Store, MemSpace::Global, 1},
      {"LDC.64", InstrClass::Load, MemSpace::Const, 8},
  };
  for (const Case& c : cases) {
    nvbit::OpcodeInfo oi;
    ASSERT_TRUE(nvbit::classify_opcode(c.op, oi)) << c.op;
    EXPECT_EQ(oi.cls, c.cls) << c.op;
    EXPECT_EQ(oi.space, c.space) << c.op;
    EXPECT_EQ(oi.width, c.width) << c.op;
  }
  nvbit::OpcodeInfo oi;
  EXPECT_FALSE(nvbit::classify_opcode("FADD", oi));
  EXPECT_FALSE(nvbit::classify_opcode("LDGX.E", oi));
}

}  // namespace
}  // namespace hmmsim::workload
