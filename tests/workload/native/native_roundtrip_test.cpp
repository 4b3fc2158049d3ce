// Native trace: writing and reading back, streaming, text form, size.
#include <random>

#include "native_test_util.h"

namespace hmmsim::workload {
namespace {

using hw::InstrClass;
using hw::MemSpace;
using hw::WarpInstr;
using test::mem_instr;

// Every class, space and width; full, partial, single-lane and empty masks;
// registers; store values; negative and huge strides; wild address jumps.
std::vector<WarpInstr> varied_warp(uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<WarpInstr> v;
  const uint8_t widths[] = {0, 1, 2, 4, 8, 16, 3, 32, 255};
  const uint32_t masks[] = {0xFFFFFFFFu, 0x0000FFFFu, 0x80000001u, 0x00000400u, 0u, 0xAAAAAAAAu, 0xFFFFFFFEu};
  uint32_t pc = 0x100;
  for (unsigned i = 0; i < 200; ++i) {
    auto cls = static_cast<InstrClass>(i % 4);
    auto space = static_cast<MemSpace>((i / 4) % 4);
    uint8_t width = widths[i % 9];
    uint32_t mask = masks[(i / 3) % 7];
    uint64_t base;
    switch (i % 5) {
      case 0: base = 0x7f0000000000ull + i * 128; break;
      case 1: base = rng(); break;                 // anywhere in 64 bits
      case 2: base = 0; break;
      case 3: base = 0xFFFFFFFFFFFFFF00ull; break;  // wraps around
      default: base = 0x1000; break;
    }
    int64_t stride = (i % 7 == 0) ? -4 : (i % 7 == 1) ? 0 : (i % 7 == 2) ? 8 : (i % 7 == 3) ? -(int64_t(1) << 40) : 4;
    pc += (i % 6 == 0) ? 0x10 : (i % 6 == 1) ? static_cast<uint32_t>(-0x80) : 0x10;
    WarpInstr in = mem_instr(cls, space, width, mask, base, stride, pc, static_cast<uint16_t>(i % 5));
    if (cls == InstrClass::Compute) std::fill(std::begin(in.addr), std::end(in.addr), 0);
    if (i % 4 == 1 && mask != 0) {
      // scattered lanes: no uniform stride
      for (unsigned l = 0; l < hw::kWarpSize; ++l)
        if (mask >> l & 1) in.addr[l] = rng() >> (i % 40);
    }
    if (i % 3 == 0) {
      in.ndst = static_cast<uint8_t>(i % 5);
      in.nsrc = static_cast<uint8_t>(i % 7);
      for (unsigned k = 0; k < in.ndst; ++k) in.dst[k] = static_cast<uint16_t>((i * 7 + k) % hw::kRegCount);
      for (unsigned k = 0; k < in.nsrc; ++k) in.src[k] = static_cast<uint16_t>(hw::kRegCount - 1 - (i + k) % 100);
    }
    if (i % 8 == 2) {
      in.has_value = true;
      in.value = static_cast<uint32_t>(rng());
      in.stride = (i % 16 == 2) ? static_cast<uint32_t>(-3) : 1;
    }
    v.push_back(in);
  }
  return v;
}

hw::KernelInfo kernel_info(const std::string& name, hw::Dim3 grid, hw::Dim3 block) {
  hw::KernelInfo k;
  k.name = name;
  k.grid = grid;
  k.block = block;
  k.shmem_bytes = 4096;
  k.nregs = 40;
  k.shmem_base = 0x7ff000000000ull;
  k.local_base = 0x7ffe00000000ull;
  k.opcodes = {"", "LDG.E", "STG.E.64", "ATOMS.ADD", "LD.E\tweird \\name"};
  return k;
}

struct Program {
  std::vector<hw::KernelInfo> infos;
  std::vector<std::vector<test::DrainedCta>> kernels;
};

// memcpy, kernel A (2 CTAs x 3 warps, one warp empty), memcpy, kernel B.
Program write_program(const std::string& path, size_t cta_buffer = size_t(1) << 20) {
  Program p;
  p.infos = {kernel_info("kernelA(float*, int)", {2, 1, 1}, {96, 1, 1}), kernel_info("", {1, 2, 1}, {32, 1, 1})};
  p.kernels.resize(2);
  for (unsigned c = 0; c < 2; ++c)
    p.kernels[0].push_back({hw::Dim3{c, 0, 0}, {varied_warp(c * 3), {}, varied_warp(c * 3 + 2)}});
  for (unsigned c = 0; c < 2; ++c) p.kernels[1].push_back({hw::Dim3{0, c, 0}, {varied_warp(100 + c)}});
  NativeWriter w(path, cta_buffer);
  w.memcpy_htod(0x7f0000000000ull, 1 << 20);
  for (size_t k = 0; k < 2; ++k) {
    w.begin_kernel(p.infos[k], p.kernels[k].size());
    for (const test::DrainedCta& c : p.kernels[k]) w.write_cta(c.id, c.warps);
    w.end_kernel();
    if (k == 0) w.memcpy_htod(0x1000, 0);
  }
  w.close();
  return p;
}

void expect_same_kernel(const std::vector<test::DrainedCta>& want, const std::vector<test::DrainedCta>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t c = 0; c < want.size(); ++c) {
    EXPECT_TRUE(want[c].id == got[c].id);
    ASSERT_EQ(want[c].warps.size(), got[c].warps.size());
    for (size_t w = 0; w < want[c].warps.size(); ++w) {
      ASSERT_EQ(want[c].warps[w].size(), got[c].warps[w].size()) << "cta " << c << " warp " << w;
      for (size_t i = 0; i < want[c].warps[w].size(); ++i)
        EXPECT_TRUE(test::same_instr(want[c].warps[w][i], got[c].warps[w][i]))
            << "cta " << c << " warp " << w << " instr " << i;
    }
  }
}

TEST(NativeTrace, RoundTripsAProgram) {
  test::ScratchDir dir;
  std::string path = dir.path("prog.hmt");
  Program p = write_program(path);

  NativeTrace t(path);
  const TraceProgram& prog = t.program();
  ASSERT_EQ(prog.commands.size(), 4u);
  EXPECT_EQ(prog.commands[0].kind, TraceCommand::Kind::MemcpyHtoD);
  EXPECT_EQ(prog.commands[0].dst, 0x7f0000000000ull);
  EXPECT_EQ(prog.commands[0].bytes, 1u << 20);
  EXPECT_EQ(prog.commands[1].kind, TraceCommand::Kind::Kernel);
  EXPECT_EQ(prog.commands[1].kernel_path, path);
  EXPECT_EQ(prog.commands[2].kind, TraceCommand::Kind::MemcpyHtoD);
  EXPECT_EQ(prog.commands[2].dst, 0x1000u);
  EXPECT_EQ(prog.commands[3].kind, TraceCommand::Kind::Kernel);
  ASSERT_EQ(t.kernel_count(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    auto src = t.open_kernel(k);
    const hw::KernelInfo& got = src->info();
    EXPECT_EQ(got.name, p.infos[k].name);
    EXPECT_TRUE(got.grid == p.infos[k].grid);
    EXPECT_TRUE(got.block == p.infos[k].block);
    EXPECT_EQ(got.shmem_bytes, p.infos[k].shmem_bytes);
    EXPECT_EQ(got.nregs, p.infos[k].nregs);
    EXPECT_EQ(got.shmem_base, p.infos[k].shmem_base);
    EXPECT_EQ(got.local_base, p.infos[k].local_base);
    EXPECT_EQ(got.opcodes, p.infos[k].opcodes);
    expect_same_kernel(p.kernels[k], test::drain(*src));
  }
  EXPECT_THROW(t.open_kernel(2), hw::SourceError);

  // The one-shot helpers agree.
  EXPECT_EQ(load_native_program(path).commands.size(), 4u);
  expect_same_kernel(p.kernels[1], test::drain(*open_native_kernel(path, 1)));
}

TEST(NativeTrace, StreamingSpillingAndWholeCtaWritesAreIdentical) {
  test::ScratchDir dir;
  write_program(dir.path("a.hmt"));
  write_program(dir.path("b.hmt"), 64);  // spills every CTA to the temporary file
  EXPECT_EQ(test::read_bytes(dir.path("a.hmt")), test::read_bytes(dir.path("b.hmt")));

  // Streamed with add(), skipping the empty warp.
  Program p = write_program(dir.path("c.hmt"));
  {
    NativeWriter w(dir.path("d.hmt"), 100);
    w.memcpy_htod(0x7f0000000000ull, 1 << 20);
    for (size_t k = 0; k < 2; ++k) {
      w.begin_kernel(p.infos[k], p.kernels[k].size());
      for (const test::DrainedCta& c : p.kernels[k]) {
        w.begin_cta(c.id, static_cast<unsigned>(c.warps.size()));
        for (unsigned i = 0; i < c.warps.size(); ++i)
          for (const WarpInstr& in : c.warps[i]) w.add(i, in);
        w.end_cta();
      }
      w.end_kernel();
      if (k == 0) w.memcpy_htod(0x1000, 0);
    }
    w.close();
  }
  EXPECT_EQ(test::read_bytes(dir.path("c.hmt")), test::read_bytes(dir.path("d.hmt")));
}

TEST(NativeTrace, TextFormRoundTripsToIdenticalBytes) {
  test::ScratchDir dir;
  write_program(dir.path("p.hmt"));
  write_native_text(dir.path("p.hmt"), dir.path("p.txt"));
  write_native_binary(dir.path("p.txt"), dir.path("q.hmt"));
  EXPECT_EQ(test::read_bytes(dir.path("p.hmt")), test::read_bytes(dir.path("q.hmt")));
  // And text -> binary -> text is stable too.
  write_native_text(dir.path("q.hmt"), dir.path("q.txt"));
  EXPECT_EQ(test::read_bytes(dir.path("p.txt")), test::read_bytes(dir.path("q.txt")));

  std::string text = test::read_bytes(dir.path("p.txt"));
  EXPECT_EQ(text.rfind("hmmtrace 1\nmemcpy_htod 0x7f0000000000 1048576\nkernel ctas=2 grid=2,1,1 block=96,1,1 ", 0), 0u);
  EXPECT_NE(text.find("\nname kernelA(float*, int)\n"), std::string::npos);
  EXPECT_NE(text.find("\nopcode 4 LD.E\\x09weird \\\\name\n"), std::string::npos);
  EXPECT_NE(text.find("\nwarp 1 instrs=0\n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 4), "end\n");
}

TEST(NativeTrace, TextFormIsReadableAndAcceptsHandWrittenInput) {
  test::ScratchDir dir;
  std::string path = dir.path("hand.txt");
  test::write_bytes(path,
                    "hmmtrace 1\n"
                    "# a comment\n"
                    "kernel ctas=1 grid=1,1,1 block=64,1,1 shmem=0 nregs=8 shmem_base=0x0 local_base=0x0 opcodes=2\n"
                    "name k\n"
                    "opcode 0\n"
                    "opcode 1 LDG.E\n"
                    "\n"
                    "cta 0,0,0 warps=2\n"
                    "warp 0 instrs=2\n"
                    "load global w4 pc=0x10 op=1 mask=0xffffffff dst=R2 src=R4,UR1 addr=0x1000+4\n"
                    "store shared w8 mask=0x5 pc=0x20 op=1 addr=0x40,0x10 value=0x7:0xffffffff\n"
                    "warp 1 instrs=1\n"
                    "compute global w0 pc=0x30 op=0 mask=0x1\n"
                    "end\n");
  write_native_binary(path, dir.path("hand.hmt"));
  auto src = open_native_kernel(dir.path("hand.hmt"), 0);
  std::vector<test::DrainedCta> k = test::drain(*src);
  ASSERT_EQ(k.size(), 1u);
  ASSERT_EQ(k[0].warps.size(), 2u);
  ASSERT_EQ(k[0].warps[0].size(), 2u);
  const WarpInstr& a = k[0].warps[0][0];
  EXPECT_EQ(a.cls, InstrClass::Load);
  EXPECT_EQ(a.addr[31], 0x1000u + 31 * 4);
  EXPECT_EQ(a.ndst, 1);
  EXPECT_EQ(a.src[1], hw::kUniformRegBase + 1);
  const WarpInstr& b = k[0].warps[0][1];
  EXPECT_EQ(b.space, MemSpace::Shared);
  EXPECT_EQ(b.addr[0], 0x40u);
  EXPECT_EQ(b.addr[2], 0x10u);
  EXPECT_TRUE(b.has_value);
  EXPECT_EQ(b.stride, 0xFFFFFFFFu);
  EXPECT_EQ(k[0].warps[1][0].pc, 0x30u);

  write_native_text(dir.path("hand.hmt"), dir.path("back.txt"));
  std::string text = test::read_bytes(dir.path("back.txt"));
  EXPECT_NE(text.find("\nload global w4 pc=0x10 op=1 mask=0xffffffff dst=R2 src=R4,UR1 addr=0x1000+4\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nstore shared w8 pc=0x20 op=1 mask=0x00000005 value=0x7:0xffffffff addr=0x40-24\n"),
            std::string::npos)
      << text;
}

TEST(NativeTrace, WarpsOfSeveralCtasAndKernelsReadConcurrently) {
  test::ScratchDir dir;
  std::string path = dir.path("p.hmt");
  Program p = write_program(path);
  NativeTrace t(path);
  auto k0 = t.open_kernel(0);
  auto k1 = t.open_kernel(1);
  hw::CtaWork a, b, c;
  ASSERT_TRUE(k0->next_cta(a));
  ASSERT_TRUE(k0->next_cta(b));  // CTA 1 before CTA 0's warps are read
  ASSERT_TRUE(k1->next_cta(c));
  std::vector<hw::IWarpStream*> streams = {a.warps[0].get(), a.warps[2].get(), b.warps[0].get(),
                                           b.warps[2].get(), c.warps[0].get()};
  std::vector<const std::vector<WarpInstr>*> want = {&p.kernels[0][0].warps[0], &p.kernels[0][0].warps[2],
                                                     &p.kernels[0][1].warps[0], &p.kernels[0][1].warps[2],
                                                     &p.kernels[1][0].warps[0]};
  std::vector<size_t> pos(streams.size(), 0);
  // Round robin, one instruction at a time.
  for (bool more = true; more;) {
    more = false;
    for (size_t s = 0; s < streams.size(); ++s) {
      WarpInstr in;
      bool got = streams[s]->next(in);
      ASSERT_EQ(got, pos[s] < want[s]->size()) << "stream " << s;
      if (!got) continue;
      EXPECT_TRUE(test::same_instr(in, (*want[s])[pos[s]])) << "stream " << s << " instr " << pos[s];
      ++pos[s];
      more = true;
    }
  }
  WarpInstr in;
  EXPECT_FALSE(a.warps[1]->next(in));  // the empty warp
}

// A kernel source over instructions held in memory.
class VectorSource : public hw::IKernelSource {
 public:
  VectorSource(hw::KernelInfo info, std::vector<test::DrainedCta> ctas) : m_info(std::move(info)), m_ctas(std::move(ctas)) {}
  const hw::KernelInfo& info() const override { return m_info; }
  bool next_cta(hw::CtaWork& out) override {
    if (m_next == m_ctas.size()) return false;
    const test::DrainedCta& c = m_ctas[m_next++];
    out.id = c.id;
    out.warps.clear();
    for (const auto& w : c.warps) out.warps.push_back(std::make_unique<Stream>(w));
    return true;
  }

 private:
  struct Stream : hw::IWarpStream {
    explicit Stream(const std::vector<WarpInstr>& v) : v(v) {}
    bool next(WarpInstr& out) override {
      if (i == v.size()) return false;
      out = v[i++];
      return true;
    }
    const std::vector<WarpInstr>& v;
    size_t i = 0;
  };
  hw::KernelInfo m_info;
  std::vector<test::DrainedCta> m_ctas;
  size_t m_next = 0;
};

TEST(NativeTrace, ConvertsAnyKernelSource) {
  test::ScratchDir dir;
  hw::KernelInfo info = kernel_info("conv", {3, 1, 1}, {64, 1, 1});
  std::vector<test::DrainedCta> ctas;
  for (unsigned c = 0; c < 3; ++c) ctas.push_back({hw::Dim3{c, 0, 0}, {varied_warp(c + 7), varied_warp(c + 9)}});
  VectorSource src(info, ctas);
  NativeWriter w(dir.path("conv.hmt"));
  w.memcpy_htod(0x2000, 64);
  write_kernel(w, src);
  w.close();
  expect_same_kernel(ctas, test::drain(*open_native_kernel(dir.path("conv.hmt"), 0)));

  // A source whose CTA count disagrees with its grid is rejected.
  info.grid.x = 4;
  VectorSource short_src(info, ctas);
  NativeWriter w2(dir.path("short.hmt"));
  test::expect_source_error([&] { write_kernel(w2, short_src); }, "source produced 3 CTAs, its grid has 4");
}

// Bytes per instruction in a kernel of one warp with `n` copies built by `make`.
template <class F>
double bytes_per_instr(const std::string& path, unsigned n, F make) {
  hw::KernelInfo info = kernel_info("size", {1, 1, 1}, {32, 1, 1});
  auto size_with = [&](unsigned count) {
    NativeWriter w(path);
    w.begin_kernel(info, 1);
    std::vector<std::vector<WarpInstr>> warps(1);
    for (unsigned i = 0; i < count; ++i) warps[0].push_back(make(i));
    w.write_cta({0, 0, 0}, warps);
    w.end_kernel();
    w.close();
    return test::read_bytes(path).size();
  };
  return double(size_with(n) - size_with(0)) / n;
}

TEST(NativeTrace, IsCompact) {
  test::ScratchDir dir;
  std::string path = dir.path("size.hmt");
  // Fully coalesced 4-byte loads marching through an array, alternating
  // with a store: the shape of a streaming kernel.
  double coalesced = bytes_per_instr(path, 4096, [](unsigned i) {
    bool st = i % 2;
    WarpInstr in = mem_instr(st ? InstrClass::Store : InstrClass::Load, MemSpace::Global, 4, 0xFFFFFFFFu,
                             (st ? 0x7f0100000000ull : 0x7f0000000000ull) + (i / 2) * 128, 4, 0x100 + 16 * i,
                             st ? 2 : 1);
    return in;
  });
  double with_regs = bytes_per_instr(path, 4096, [](unsigned i) {
    WarpInstr in = mem_instr(InstrClass::Load, MemSpace::Global, 4, 0xFFFFFFFFu, 0x7f0000000000ull + i * 128, 4,
                             0x100 + 16 * i, 1);
    in.ndst = 1;
    in.dst[0] = 4;
    in.nsrc = 1;
    in.src[0] = 2;
    return in;
  });
  std::mt19937_64 rng(1);
  double random = bytes_per_instr(path, 4096, [&](unsigned i) {
    WarpInstr in = mem_instr(InstrClass::Load, MemSpace::Global, 4, 0xFFFFFFFFu, 0, 0, 0x100 + 16 * i, 1);
    for (uint64_t& a : in.addr) a = 0x7f0000000000ull + (rng() % (uint64_t(1) << 30)) * 4;  // a 4 GiB buffer
    return in;
  });
  std::cout << "bytes/instr: coalesced " << coalesced << ", coalesced with 2 registers " << with_regs
            << ", 32-lane random in 4 GiB " << random << "\n";
  EXPECT_LE(coalesced, 4.1);   // header 2, opcode 1, stride 1; the address repeats its delta
  EXPECT_LE(with_regs, 6.1);   // + register counts and two registers
  EXPECT_LE(random, 32 * 5 + 3);  // 30-bit lane deltas: 5 bytes each
}

}  // namespace
}  // namespace hmmsim::workload
