// Accel-Sim `.traceg` reader: header, address modes, optional fields by
// tracer version, registers, opcode table, classification, block layout.
#include <gtest/gtest.h>

#include "traceg_text.h"
#include "workload/accelsim/traceg.h"

namespace hmmsim::workload::accelsim {
namespace {

using hmmsim::testing::block;
using hmmsim::testing::drain;
using hmmsim::testing::header;
using hmmsim::testing::HeaderOpts;
using hmmsim::testing::kLocalBase;
using hmmsim::testing::kShmemBase;
using hmmsim::testing::TempDir;
using hw::InstrClass;
using hw::MemSpace;
using hw::WarpInstr;

const uint64_t G = 0x7f0000001000;

// One warp of `lines` in a one-warp kernel; returns its instructions.
std::vector<WarpInstr> one_warp(TempDir& dir, const HeaderOpts& o, const std::vector<std::string>& lines,
                                std::vector<std::string>* opcodes = nullptr) {
  std::string p = dir.write("k" + std::to_string(lines.size()) + ".traceg", header(o) + block("0,0,0", {{0, lines}}));
  TracegKernel k(p);
  auto d = drain(k);
  EXPECT_EQ(d.ctas.size(), 1u);
  if (opcodes) *opcodes = k.info().opcodes;
  return d.ctas.at(0).at(0);
}

TEST(Traceg, HeaderFillsKernelInfo) {
  TempDir dir;
  std::string p = dir.write("h.traceg", header({5, false, true, "(3,2,1)", "(16,4,2)"}));
  TracegKernel k(p);
  const hw::KernelInfo& i = k.info();
  EXPECT_EQ(i.name, "_Z6kernelPf");
  EXPECT_EQ(i.grid, (hw::Dim3{3, 2, 1}));
  EXPECT_EQ(i.block, (hw::Dim3{16, 4, 2}));
  EXPECT_EQ(i.warps_per_cta(), 4u);
  EXPECT_EQ(i.shmem_bytes, 1024u);
  EXPECT_EQ(i.nregs, 40u);
  EXPECT_EQ(i.shmem_base, kShmemBase);
  EXPECT_EQ(i.local_base, kLocalBase);
  ASSERT_EQ(i.opcodes.size(), 1u);
  EXPECT_EQ(i.opcodes[0], "");
  const TracegHeader& h = k.header();
  EXPECT_EQ(h.kernel_id, 7u);
  EXPECT_EQ(h.binary_version, 86u);
  EXPECT_EQ(h.nvbit_version, "1.7");
  EXPECT_EQ(h.tracer_version, 5u);
  EXPECT_FALSE(h.lineinfo);
  EXPECT_TRUE(h.immediate);
}

TEST(Traceg, AddressModes) {
  TempDir dir;
  std::vector<std::string> ops;
  auto v = one_warp(dir, {},
                    {
                        "0000 ffffffff 1 R1 MOV 0 0 0 ",
                        // mode 0: one address per active lane, with or without 0x
                        "0010 0000000f 1 R4 LDG.E.64 1 R2 8 0 0x7f0000001000 0x7f0000001010 0x7f0000001008 "
                        "7f0000001000 0 ",
                        "0020 ffffffff 0 STG.E 2 R2 R5 4 1 0x7f0000002000 4 0 ",      // stride +4
                        "0030 0000ff00 1 R6 LDG.E 1 R2 4 1 0x7f0000003000 -4 0 ",     // stride -4, lanes 8..15
                        "0040 f0000000 1 R6 LDG.E 1 R2 4 1 0x7f0000003000 0 0 ",      // stride 0, lanes 28..31
                        "0050 80000005 0 ATOMG.E.ADD.STRONG.GPU 2 R2 R7 4 2 0x7f0000004000 -16 4096 12 ",
                        "0060 00000100 0 RED.E.ADD 2 R2 R7 4 2 0x7f0000005000 0 ",   // one lane: no deltas
                        "0070 00000003 1 R8 LDG.E.128 1 R2 16 1 0x7f0000006000 16 -7 ",
                    },
                    &ops);
  ASSERT_EQ(v.size(), 8u);
  EXPECT_EQ(v[0].cls, InstrClass::Compute);
  EXPECT_EQ(v[0].mask, 0xffffffffu);
  EXPECT_EQ(v[0].width, 0u);

  EXPECT_EQ(v[1].cls, InstrClass::Load);
  EXPECT_EQ(v[1].space, MemSpace::Global);
  EXPECT_EQ(v[1].width, 8u);
  EXPECT_EQ(v[1].pc, 0x10u);
  EXPECT_EQ(v[1].addr[0], G);
  EXPECT_EQ(v[1].addr[1], G + 0x10);
  EXPECT_EQ(v[1].addr[2], G + 0x8);
  EXPECT_EQ(v[1].addr[3], G);
  EXPECT_EQ(v[1].addr[4], 0u);  // inactive lanes stay 0

  EXPECT_EQ(v[2].cls, InstrClass::Store);
  for (unsigned l = 0; l < 32; ++l) EXPECT_EQ(v[2].addr[l], 0x7f0000002000 + 4 * l);

  for (unsigned l = 8; l < 16; ++l) EXPECT_EQ(v[3].addr[l], 0x7f0000003000 - 4 * (l - 8)) << l;
  EXPECT_EQ(v[3].addr[7], 0u);
  for (unsigned l = 28; l < 32; ++l) EXPECT_EQ(v[4].addr[l], 0x7f0000003000u);

  EXPECT_EQ(v[5].cls, InstrClass::Atomic);
  EXPECT_EQ(v[5].space, MemSpace::Global);
  EXPECT_EQ(v[5].addr[0], 0x7f0000004000u);
  EXPECT_EQ(v[5].addr[2], 0x7f0000004000u - 16);
  EXPECT_EQ(v[5].addr[31], 0x7f0000004000u - 16 + 4096);

  EXPECT_EQ(v[6].cls, InstrClass::Atomic);
  EXPECT_EQ(v[6].addr[8], 0x7f0000005000u);

  EXPECT_EQ(v[7].width, 16u);
  EXPECT_EQ(v[7].addr[1], 0x7f0000006010u);

  EXPECT_EQ(ops, (std::vector<std::string>{"", "MOV", "LDG.E.64", "STG.E", "LDG.E", "ATOMG.E.ADD.STRONG.GPU",
                                           "RED.E.ADD", "LDG.E.128"}));
  EXPECT_EQ(v[0].opcode, 1u);
  EXPECT_EQ(v[3].opcode, 4u);
  EXPECT_EQ(v[4].opcode, 4u);
}

// The same three instructions in each layout the tracers wrote.
struct Layout {
  HeaderOpts opts;
  std::vector<std::string> lines;
};

TEST(Traceg, OptionalFieldsFollowTheHeaderNotTheVersion) {
  const std::vector<Layout> layouts = {
      // v3: no line numbers, no immediate
      {{3, false, false},
       {"0000 ffffffff 1 R1 MOV 0 0 ", "0010 ffffffff 1 R4 LDG.E 1 R2 4 1 0x7f0000001000 4 ",
        "0020 00000003 0 STG.E 2 R2 R4 4 2 0x7f0000002000 -8 "}},
      // v4 without lineinfo and without immediate (sm_61 traces)
      {{4, false, false},
       {"0000 ffffffff 1 R1 MOV 0 0 ", "0010 ffffffff 1 R4 LDG.E 1 R2 4 1 0x7f0000001000 4 ",
        "0020 00000003 0 STG.E 2 R2 R4 4 2 0x7f0000002000 -8 "}},
      // late v4: immediate, without lineinfo
      {{4, false, true},
       {"0000 ffffffff 1 R1 MOV 0 0 0 ", "0010 ffffffff 1 R4 LDG.E 1 R2 4 1 0x7f0000001000 4 0 ",
        "0020 00000003 0 STG.E 2 R2 R4 4 2 0x7f0000002000 -8 -3 "}},
      // v4 with lineinfo, no immediate
      {{4, true, false},
       {"11 0000 ffffffff 1 R1 MOV 0 0 ", "12 0010 ffffffff 1 R4 LDG.E 1 R2 4 1 0x7f0000001000 4 ",
        "13 0020 00000003 0 STG.E 2 R2 R4 4 2 0x7f0000002000 -8 "}},
      // v5 with both
      {{5, true, true},
       {"11 0000 ffffffff 1 R1 MOV 0 0 0 ", "12 0010 ffffffff 1 R4 LDG.E 1 R2 4 1 0x7f0000001000 4 0 ",
        "13 0020 00000003 0 STG.E 2 R2 R4 4 2 0x7f0000002000 -8 255 "}},
  };
  for (const Layout& lay : layouts) {
    SCOPED_TRACE("v" + std::to_string(lay.opts.version) + " lineinfo " + std::to_string(lay.opts.lineinfo) +
                 " immediate " + std::to_string(lay.opts.immediate));
    TempDir dir;
    auto v = one_warp(dir, lay.opts, lay.lines);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].cls, InstrClass::Compute);
    EXPECT_EQ(v[0].ndst, 1u);
    EXPECT_EQ(v[0].dst[0], 1u);
    EXPECT_EQ(v[1].cls, InstrClass::Load);
    EXPECT_EQ(v[1].pc, 0x10u);
    EXPECT_EQ(v[1].addr[31], 0x7f0000001000u + 31 * 4);
    EXPECT_EQ(v[2].cls, InstrClass::Store);
    EXPECT_EQ(v[2].mask, 3u);
    EXPECT_EQ(v[2].addr[0], 0x7f0000002000u);
    EXPECT_EQ(v[2].addr[1], 0x7f0000002000u - 8);
  }
}

TEST(Traceg, Registers) {
  TempDir dir;
  auto v = one_warp(dir, {},
                    {
                        "0000 ffffffff 1 R255 MOV 2 R255 R3 0 0 ",
                        "0010 ffffffff 1 R4 IADD3 9 R1 UR5 URZ UR63 P0 R254 R7 R8 R9 0 0 ",
                        "0020 ffffffff 1 UR6 UMOV 1 UR62 0 0 ",
                        "0030 ffffffff 5 R1 R2 R3 R4 R5 HMMA.16816 0 0 0 ",
                    });
  EXPECT_EQ(v[0].ndst, 0u);
  ASSERT_EQ(v[0].nsrc, 1u);
  EXPECT_EQ(v[0].src[0], 3u);
  // R1, UR5 -> 261, R254, R7, R8, R9 (URZ, UR63, P0 carry nothing); 6 kept
  ASSERT_EQ(v[1].nsrc, 6u);
  EXPECT_EQ(v[1].src[0], 1u);
  EXPECT_EQ(v[1].src[1], 261u);
  EXPECT_EQ(v[1].src[2], 254u);
  EXPECT_EQ(v[1].src[5], 9u);
  ASSERT_EQ(v[2].ndst, 1u);
  EXPECT_EQ(v[2].dst[0], 262u);
  EXPECT_EQ(v[2].src[0], 318u);
  EXPECT_EQ(v[3].ndst, hw::kMaxDst);  // extras ignored
  EXPECT_EQ(v[3].dst[3], 4u);
}

TEST(Traceg, ClassificationBySpaceAndWindows) {
  TempDir dir;
  const std::string S = "0x7f1000000100", L = "0x7f2000000040";
  auto v = one_warp(dir, {},
                    {
                        "0000 00000001 1 R1 LD.E 1 R2 4 2 " + S + " 0 ",             // 0 generic: shared window
                        "0010 00000001 0 ST.E.64 2 R2 R4 8 2 " + L + " 0 ",         // 1 generic: local window
                        "0020 00000001 1 R1 ATOM.E.ADD 2 R2 R4 4 2 0x7f0000001000 0 ",  // 2 generic: global
                        "0030 ffffffff 1 R1 LDS.U.128 1 R2 16 1 0x100 16 0 ",       // 3
                        "0040 ffffffff 0 STS 2 R2 R4 4 1 0x0 4 0 ",                 // 4
                        "0050 ffffffff 1 R1 LDL 1 R2 4 1 " + L + " 4 0 ",           // 5
                        "0060 ffffffff 0 STL.64 2 R2 R4 8 1 " + L + " 8 0 ",        // 6
                        "0070 ffffffff 1 R1 LDC 1 R2 4 1 0x0 0 0 ",                 // 7 const load
                        "0080 ffffffff 0 ULDC.64 0 0 0 ",                           // 8 no address: compute
                        "0090 ffffffff 0 LDGSTS.E.BYPASS.LTC128B.128 2 R2 R4 16 1 0x200 16 0 ",  // 9 shared half
                        "0090 ffffffff 0 LDGSTS.E.BYPASS.LTC128B.128 2 R2 R4 16 1 0x7f0000001000 16 0 ",  // 10
                        "00a0 ffffffff 1 R1 LDSM.16.M88.4 1 R2 2 1 0x400 2 0 ",     // 11
                        "00b0 ffffffff 1 R1 ATOMS.ADD 2 R2 R4 4 1 0x400 4 0 ",      // 12
                        "00c0 ffffffff 1 R8 LDG.E.ENL2.256 1 R2 32 1 0x7f0000001000 32 0 ",  // 13
                        "00d0 ffffffff 0 LDGDEPBAR 0 0 0 ",                         // 14
                        "00e0 00000000 1 R1 LDG.E 1 R2 4 1 0x0 0 0 ",               // 15 mask 0
                        "00f0 00000000 1 R1 LDG.E 1 R2 4 0 0 ",                     // 16 mask 0, no addresses
                        "0100 00000001 1 R1 SULD.D.BA.1D 1 R2 4 2 0x7f0000001000 0 ",  // 17 unknown: by letters
                    });
  ASSERT_EQ(v.size(), 18u);
  auto is = [&](size_t i, InstrClass c, MemSpace s) {
    EXPECT_EQ(v[i].cls, c) << i;
    EXPECT_EQ(v[i].space, s) << i;
  };
  is(0, InstrClass::Load, MemSpace::Shared);
  is(1, InstrClass::Store, MemSpace::Local);
  is(2, InstrClass::Atomic, MemSpace::Global);
  is(3, InstrClass::Load, MemSpace::Shared);
  is(4, InstrClass::Store, MemSpace::Shared);
  is(5, InstrClass::Load, MemSpace::Local);
  is(6, InstrClass::Store, MemSpace::Local);
  is(7, InstrClass::Load, MemSpace::Const);
  EXPECT_EQ(v[8].cls, InstrClass::Compute);
  is(9, InstrClass::Store, MemSpace::Shared);
  is(10, InstrClass::Load, MemSpace::Global);
  is(11, InstrClass::Load, MemSpace::Shared);
  EXPECT_EQ(v[11].width, 2u);
  is(12, InstrClass::Atomic, MemSpace::Shared);
  is(13, InstrClass::Load, MemSpace::Global);
  EXPECT_EQ(v[13].width, 32u);
  EXPECT_EQ(v[14].cls, InstrClass::Compute);
  is(15, InstrClass::Load, MemSpace::Global);
  EXPECT_EQ(v[15].mask, 0u);
  is(16, InstrClass::Load, MemSpace::Global);
  is(17, InstrClass::Load, MemSpace::Global);
  EXPECT_TRUE(v[13].is_global());
  EXPECT_FALSE(v[3].is_global());
}

TEST(Traceg, WindowsNotGivenMeansGlobal) {
  TempDir dir;
  std::string h = header();
  for (const char* key : {"-shmem base_addr = 0x00007f1000000000\n", "-local mem base_addr = 0x00007f2000000000\n"})
    h.erase(h.find(key), std::string(key).size());
  std::string p = dir.write("nowin.traceg", h + block("0,0,0", {{0, {"0000 00000001 1 R1 LD.E 1 R2 4 2 0x100 0 "}}}));
  TracegKernel k(p);
  auto d = drain(k);
  EXPECT_EQ(k.info().shmem_base, 0u);
  EXPECT_EQ(d.ctas[0][0][0].space, MemSpace::Global);
}

TEST(Traceg, BlocksAndWarpsInFileOrder) {
  TempDir dir;
  HeaderOpts o;
  o.grid = "(2,2,1)";
  o.block = "(8,4,3)";  // 96 threads: 3 warps
  auto ins = [](unsigned tag) {
    return "0000 ffffffff 0 STG.E 2 R2 R5 4 1 0x" + std::to_string(tag) + "000 4 0 ";
  };
  std::string text = header(o) + block("1,1,0", {{2, {ins(12), ins(13)}}, {0, {ins(10)}}}) +
                     block("0,0,0", {{0, {ins(20)}}, {1, {ins(21)}}, {2, {ins(22)}}}) +
                     block("1,0,0", {{1, {}}}) + block("0,1,0", {});
  std::string p = dir.write("order.traceg", text);
  TracegKernel k(p);
  auto d = drain(k);
  ASSERT_EQ(d.ctas.size(), 4u);
  EXPECT_EQ(d.ids[0], (hw::Dim3{1, 1, 0}));
  EXPECT_EQ(d.ids[1], (hw::Dim3{0, 0, 0}));
  EXPECT_EQ(d.ids[3], (hw::Dim3{0, 1, 0}));
  for (const auto& c : d.ctas) EXPECT_EQ(c.size(), 3u);  // every CTA gets all its warps
  ASSERT_EQ(d.ctas[0][0].size(), 1u);
  EXPECT_EQ(d.ctas[0][0][0].addr[0], 0x10000u);
  EXPECT_TRUE(d.ctas[0][1].empty());  // warp 1 not in the trace
  ASSERT_EQ(d.ctas[0][2].size(), 2u);
  EXPECT_EQ(d.ctas[0][2][1].addr[0], 0x13000u);
  EXPECT_EQ(d.ctas[1][1][0].addr[0], 0x21000u);
  EXPECT_TRUE(d.ctas[2][1].empty());  // insts = 0
  hw::CtaWork again;
  EXPECT_FALSE(k.next_cta(again));
  EXPECT_FALSE(k.next_cta(again));
}

TEST(Traceg, XzCompressedReadsTheSame) {
  TempDir dir;
  HeaderOpts o;
  o.grid = "(3,1,1)";
  o.block = "(64,1,1)";
  std::string text = header(o);
  for (int c = 0; c < 3; ++c) {
    std::vector<std::string> w0, w1;
    for (int i = 0; i < 20; ++i) {
      w0.push_back("0010 ffffffff 1 R4 LDG.E 1 R2 4 1 0x7f00000" + std::to_string(c) + "1000 " + std::to_string(i) +
                   " 0 ");
      std::string deltas = "-8 16";  // 16 lanes: 15 deltas
      for (int k = 0; k < 13; ++k) deltas += " 8";
      w1.push_back("0020 0000ffff 0 STG.E 2 R2 R4 8 2 0x7f0000002000 " + deltas + " " + std::to_string(i) + " ");
    }
    text += block(std::to_string(c) + ",0,0", {{0, w0}, {1, w1}});
  }
  std::string plain = dir.write("p.traceg", text);
  std::string xz = dir.write("p.traceg.xz", hmmsim::testing::xz_compress(text));
  TracegKernel a(plain), b(xz);
  auto da = drain(a), db = drain(b);
  ASSERT_EQ(da.ctas.size(), 3u);
  ASSERT_EQ(db.ctas.size(), 3u);
  for (size_t c = 0; c < 3; ++c)
    for (size_t w = 0; w < 2; ++w) {
      ASSERT_EQ(da.ctas[c][w].size(), 20u);
      ASSERT_EQ(db.ctas[c][w].size(), 20u);
      for (size_t i = 0; i < 20; ++i)
        for (unsigned l = 0; l < 32; ++l) EXPECT_EQ(da.ctas[c][w][i].addr[l], db.ctas[c][w][i].addr[l]);
    }
  EXPECT_EQ(db.ctas[2][0][5].addr[3], 0x7f0000021000u + 3 * 5);
  EXPECT_EQ(db.ctas[0][1][0].addr[2], 0x7f0000002000u - 8 + 16);
  EXPECT_EQ(a.info().opcodes, b.info().opcodes);
}

}  // namespace
}  // namespace hmmsim::workload::accelsim
