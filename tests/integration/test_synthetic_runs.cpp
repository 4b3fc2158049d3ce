// Every synthetic kernel end to end: a one-kernel program (the kernel on a
// buffer of its own, then a CPU read of everything) run by the hmmsim
// binary, with exact counts.
//
// Each test states the counts worked out by hand from the kernel's
// definition (workload/synthetic/*.cpp; the same shapes as the library's
// unit tests in tests/workload/synthetic/, which establish them for the
// generator alone), checks them against a drain of the generator in this
// process (so hand, generator and simulator agree), and against stats.json.
// Kernels whose addresses are random (random, pointer_chase, graph) take
// the counts that depend on the draw (lines, pages, stores) from the drain.
//
// gpu.* counts are per completed warp instruction (sim/platform_stats.cpp):
// lines and pages are the distinct 128-byte lines and 4 KiB pages of one
// global instruction, summed. With 64 MiB of VRAM every distinct page the
// kernel touches migrates exactly once (first touch), and the final CPU
// read brings each of them back once.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "run_hmmsim.h"
#include "workload/synthetic/synthetic.h"

using namespace hmmsim::testing;
using hmmsim::workload::SyntheticSpec;

namespace {

constexpr uint64_t kBaseVa = 0x7f0000000000ull;  // the program's first buffer (workload.base_va)

struct Counts {
  int64_t ctas = 0, warps = 0, instructions = 0, loads = 0, stores = 0, shared = 0;
  int64_t active_lanes = 0, sectors = 0, lines = 0, pages = 0, distinct_pages = 0;
  int64_t load_lines = 0;  // lines of loads: what the oracle checks on the GPU side
};

// What the generator emits, counted the way the SMs count it.
Counts drain(const SyntheticSpec& spec) {
  auto src = hmmsim::workload::make_synthetic(spec);
  Counts c;
  std::set<uint64_t> all_pages;
  hmmsim::hw::CtaWork cta;
  while (src->next_cta(cta)) {
    ++c.ctas;
    for (auto& w : cta.warps) {
      ++c.warps;
      hmmsim::hw::WarpInstr in;
      while (w->next(in)) {
        ++c.instructions;
        if (!in.is_memory()) continue;
        if (in.space == hmmsim::hw::MemSpace::Shared) {
          ++c.shared;
          continue;
        }
        ++(in.writes_memory() ? c.stores : c.loads);
        std::set<uint64_t> sectors, lines, pages;
        for (unsigned i = 0; i < 32; ++i) {
          if (!(in.mask >> i & 1)) continue;
          ++c.active_lanes;
          sectors.insert(in.addr[i] / 32);
          lines.insert(in.addr[i] / 128);
          pages.insert(in.addr[i] / 4096);
        }
        c.sectors += int64_t(sectors.size());
        c.lines += int64_t(lines.size());
        if (!in.writes_memory()) c.load_lines += int64_t(lines.size());
        c.pages += int64_t(pages.size());
        all_pages.insert(pages.begin(), pages.end());
      }
    }
  }
  c.distinct_pages = int64_t(all_pages.size());
  return c;
}

std::string dim(const hmmsim::hw::Dim3& d) {
  return "[" + std::to_string(d.x) + ", " + std::to_string(d.y) + ", " + std::to_string(d.z) + "]";
}

// The program: the kernel on a buffer of its own (named k0, exactly the
// footprint, at workload.base_va), then a CPU read of every page.
std::string program_yaml(const SyntheticSpec& s, const std::string& data) {
  std::ostringstream y;
  y << "run: {data: " << data << "}\n"
    << "workload:\n  kind: program\n  steps:\n"
    << "    - kernel:\n"
    << "        synthetic: " << s.kernel << "\n"
    << "        footprint: " << s.footprint << "\n"
    << "        iterations: " << s.iterations << "\n"
    << "        width: " << s.width << "\n"
    << "        write_ratio: " << s.write_ratio << "\n"
    << "        grid: " << dim(s.grid) << "\n"
    << "        block: " << dim(s.block) << "\n"
    << "        seed: " << s.seed << "\n"
    << "        compute_per_access: " << s.compute_per_access << "\n"
    << "        stride: " << s.stride << "\n"
    << "        zipf_alpha: " << s.zipf_alpha << "\n"
    << "        tile: " << s.tile << "\n"
    << "    - cpu_read: {}\n";
  return y.str();
}

SyntheticSpec spec(const std::string& kernel, uint64_t footprint) {
  SyntheticSpec s;
  s.kernel = kernel;
  s.base_va = kBaseVa;
  s.footprint = footprint;
  return s;
}

// Runs the program and checks stats.json against `want` (hand counts,
// already compared with the drain by the caller).
void run_and_check(const std::string& name, const SyntheticSpec& s, const std::string& data, const Counts& want) {
  const std::string cfg = write_config(name, program_yaml(s, data));
  const std::string dir = fresh_dir(name + "_out");
  const RunOutput r = run_hmmsim("run " + cfg + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto st = read_stats(dir);
  const std::pair<const char*, int64_t> gpu[] = {
      {"gpu.ctas", want.ctas},           {"gpu.warps", want.warps},       {"gpu.instructions", want.instructions},
      {"gpu.loads", want.loads},         {"gpu.stores", want.stores},     {"gpu.atomics", 0},
      {"gpu.shared_accesses", want.shared}, {"gpu.active_lanes", want.active_lanes},
      {"gpu.sectors", want.sectors},     {"gpu.lines", want.lines},       {"gpu.pages", want.pages},
      {"gpu.bytes", want.active_lanes * int64_t(s.width)},
      {"gpu.compute_instructions", want.instructions - want.loads - want.stores - want.shared},
      {"driver.pages_to_vram", want.distinct_pages}};
  for (const auto& [key, value] : gpu) {
    EXPECT_EQ(stat(st, key), value) << key;
    // One kernel: its own figures are the run's.
    EXPECT_EQ(stat(st, std::string("kernels.k0.") + key), value) << "kernels.k0." << key;
  }
  EXPECT_EQ(stat(st, "gpu.accesses"), want.loads + want.stores);
  EXPECT_EQ(st["kernels"]["k0"]["name"], s.kernel);
  EXPECT_EQ(stat(st, "host.kernels"), 1);
  EXPECT_EQ(stat(st, "driver.faults_fatal"), 0);
  // The CPU read takes every migrated page back, one CPU fault each.
  const int64_t buffer_pages = int64_t(s.footprint / 4096);
  EXPECT_EQ(stat(st, "host.pages_read"), buffer_pages);
  EXPECT_EQ(stat(st, "driver.pages_to_sysmem"), want.distinct_pages);
  EXPECT_EQ(stat(st, "host.migrate_to_ram"), want.distinct_pages);
  // The oracle checks every line a GPU load reads and every page the CPU
  // reads; none differed.
  EXPECT_EQ(stat(st, "oracle.checks"), want.load_lines + buffer_pages);
  EXPECT_EQ(stat(st, "oracle.mismatches"), 0);
}

// Hand counts must match the generator before the simulator is judged.
void expect_generated(const SyntheticSpec& s, const Counts& hand) {
  const Counts g = drain(s);
  EXPECT_EQ(g.ctas, hand.ctas);
  EXPECT_EQ(g.warps, hand.warps);
  EXPECT_EQ(g.instructions, hand.instructions);
  EXPECT_EQ(g.loads, hand.loads);
  EXPECT_EQ(g.stores, hand.stores);
  EXPECT_EQ(g.shared, hand.shared);
  EXPECT_EQ(g.active_lanes, hand.active_lanes);
  EXPECT_EQ(g.sectors, hand.sectors);
  EXPECT_EQ(g.lines, hand.lines);
  EXPECT_EQ(g.pages, hand.pages);
  EXPECT_EQ(g.distinct_pages, hand.distinct_pages);
  EXPECT_EQ(g.load_lines, hand.load_lines);
}

}  // namespace

TEST(SyntheticEndToEnd, StreamingRead) {
  // 64 KiB of 4-byte elements = 16384; block 128 -> 128 CTAs x 4 warps, one
  // element per thread per pass. 2 passes x (load + FFMA) = 4 instructions
  // per warp. Each load: 32 consecutive words = one aligned 128-byte line,
  // 4 sectors, 1 page.
  SyntheticSpec s = spec("streaming_read", 64 << 10);
  s.block = {128, 1, 1};
  s.iterations = 2;
  Counts c;
  c.ctas = 128, c.warps = 512, c.instructions = 2048, c.loads = 1024, c.stores = 0;
  c.active_lanes = 1024 * 32, c.sectors = 1024 * 4, c.lines = 1024, c.pages = 1024, c.distinct_pages = 16;
  c.load_lines = 1024;
  expect_generated(s, c);
  run_and_check("syn_streaming_read", s, "full", c);
}

TEST(SyntheticEndToEnd, StreamingRw) {
  // 32 KiB: in and out of 16 KiB (4096 elements each); block 256 -> 16
  // CTAs, 128 warps, one element per thread: load, 2 FFMA, store, 2 IADD.
  SyntheticSpec s = spec("streaming_rw", 32 << 10);
  s.compute_per_access = 2;
  Counts c;
  c.ctas = 16, c.warps = 128, c.instructions = 128 * 6, c.loads = 128, c.stores = 128;
  c.active_lanes = 256 * 32, c.sectors = 256 * 4, c.lines = 256, c.pages = 256, c.distinct_pages = 8;
  c.load_lines = 128;
  expect_generated(s, c);
  run_and_check("syn_streaming_rw", s, "tag", c);
}

TEST(SyntheticEndToEnd, StridedAcrossPages) {
  // 64 KiB as 16 rows of 4 KiB; thread u reads row u % 16, element u / 16.
  // 16384 elements, block 128: 128 CTAs, 512 warps, one load each (no
  // compute). A warp covers the 16 rows twice (columns 2j, 2j + 1 in the
  // same line): 16 lines on 16 pages, 2 lanes (8 bytes) per line = 1 sector.
  SyntheticSpec s = spec("strided", 64 << 10);
  s.block = {128, 1, 1};
  s.compute_per_access = 0;
  Counts c;
  c.ctas = 128, c.warps = 512, c.instructions = 512, c.loads = 512, c.stores = 0;
  c.active_lanes = 16384, c.sectors = 512 * 16, c.lines = 512 * 16, c.pages = 512 * 16, c.distinct_pages = 16;
  c.load_lines = 512 * 16;
  expect_generated(s, c);
  run_and_check("syn_strided", s, "full", c);
}

TEST(SyntheticEndToEnd, StridedStores) {
  // stride 256, 8-byte elements, 8 KiB: 32 rows of 32 elements. A warp is
  // rows 0..31 at one column: 32 lines (one sector each) on 2 pages. 1024
  // elements, grid 2 x block 64 = 128 threads, 8 steps per warp, 2 passes:
  // 4 warps x 16 stores (write_ratio 1), each followed by one IADD.
  SyntheticSpec s = spec("strided", 8 << 10);
  s.width = 8;
  s.stride = 256;
  s.grid = {2, 1, 1};
  s.block = {64, 1, 1};
  s.iterations = 2;
  s.write_ratio = 1;
  Counts c;
  c.ctas = 2, c.warps = 4, c.instructions = 128, c.loads = 0, c.stores = 64;
  c.active_lanes = 2048, c.sectors = 64 * 32, c.lines = 64 * 32, c.pages = 64 * 2, c.distinct_pages = 2;
  c.load_lines = 0;
  expect_generated(s, c);
  run_and_check("syn_strided_stores", s, "tag", c);
}

TEST(SyntheticEndToEnd, Random) {
  // 64 KiB of 4-byte elements; block 256 -> 64 CTAs, 512 warps, one access
  // per thread per pass, 2 passes with one compute after each: 2048
  // instructions, 1024 memory ones with all 32 lanes. A quarter store (the
  // split is drawn per instruction, so the exact number comes from the
  // generator), as do lines and pages: uniform lanes over 16 pages.
  SyntheticSpec s = spec("random", 64 << 10);
  s.iterations = 2;
  s.write_ratio = 0.25;
  s.seed = 7;
  const Counts g = drain(s);
  EXPECT_EQ(g.ctas, 64);
  EXPECT_EQ(g.warps, 512);
  EXPECT_EQ(g.instructions, 2048);
  EXPECT_EQ(g.loads + g.stores, 1024);
  EXPECT_EQ(g.active_lanes, 32768);
  EXPECT_EQ(g.distinct_pages, 16);
  EXPECT_GT(g.stores, 200);  // Binomial(1024, 0.25)
  EXPECT_LT(g.stores, 312);
  EXPECT_GT(g.lines, 1024 * 28);  // almost every lane on a line of its own
  EXPECT_GT(g.pages, 1024 * 12);  // 32 lanes over 16 pages
  run_and_check("syn_random", s, "full", g);
}

TEST(SyntheticEndToEnd, PointerChase) {
  // 64 KiB of 8-byte pointers = 8192 elements; automatic grid: one thread
  // per 32 elements = 256 threads = 4 CTAs of 64 (8 warps). Each thread
  // walks 32 consecutive cycle positions: 32 dependent loads per warp, one
  // FFMA after each; every element is read once. Lines and pages of a load
  // depend on the seeded permutation.
  SyntheticSpec s = spec("pointer_chase", 64 << 10);
  s.width = 8;
  s.block = {64, 1, 1};
  const Counts g = drain(s);
  EXPECT_EQ(g.ctas, 4);
  EXPECT_EQ(g.warps, 8);
  EXPECT_EQ(g.instructions, 512);
  EXPECT_EQ(g.loads, 256);
  EXPECT_EQ(g.stores, 0);
  EXPECT_EQ(g.active_lanes, 8192);
  EXPECT_EQ(g.distinct_pages, 16);
  EXPECT_GT(g.pages, 256 * 8);  // 32 pseudo-random lanes over 16 pages
  run_and_check("syn_pointer_chase", s, "tag", g);
}

TEST(SyntheticEndToEnd, Stencil2d) {
  // 8 KiB: in and out of 4 KiB = 1024 cells; nx = ny = 32. Block 256 -> 4
  // CTAs, 32 warps; warp w is row w. Per warp 5 loads (C, N, S, E, W, each
  // inside the row's 128-byte line, edges clamped) + 1 store, each followed
  // by one compute: 12. Every access is one line (4 sectors) in one page.
  SyntheticSpec s = spec("stencil2d", 8 << 10);
  Counts c;
  c.ctas = 4, c.warps = 32, c.instructions = 384, c.loads = 160, c.stores = 32;
  c.active_lanes = 192 * 32, c.sectors = 192 * 4, c.lines = 192, c.pages = 192, c.distinct_pages = 2;
  c.load_lines = 160;
  expect_generated(s, c);
  run_and_check("syn_stencil2d", s, "full", c);
}

TEST(SyntheticEndToEnd, GemmTiled) {
  // 48 KiB = A, B, C of 64 x 64 floats; tile 32 -> 2 x 2 CTAs of 32 x 8
  // threads (8 warps). Per warp and k-tile (2): 4 + 4 LDG, 4 + 4 STS, then
  // 32 x (5 LDS + 4 FFMA); then 4 STG: 2 x (16 + 288) + 4 = 612. Global:
  // 32 warps x (2 x 8 LDG + 4 STG), each a 128-byte row segment in one
  // page. Shared: 32 x 2 x (8 STS + 32 x 5 LDS) = 10752.
  SyntheticSpec s = spec("gemm_tiled", 48 << 10);
  Counts c;
  c.ctas = 4, c.warps = 32, c.instructions = 32 * 612, c.loads = 512, c.stores = 128, c.shared = 10752;
  c.active_lanes = 640 * 32, c.sectors = 640 * 4, c.lines = 640, c.pages = 640, c.distinct_pages = 12;
  c.load_lines = 512;
  expect_generated(s, c);
  run_and_check("syn_gemm_tiled", s, "tag", c);
}

TEST(SyntheticEndToEnd, Graph) {
  // 64 KiB = 16 pages: edges = 4 pages (4096 4-byte edges), vertices = 12.
  // Block 256 -> 16 CTAs, 128 warps, one edge per thread: a coalesced edge
  // load (1 line, 4 sectors, 1 page) then a gather from a Zipf-drawn vertex
  // page (a quarter of them stores; lines and pages from the generator).
  SyntheticSpec s = spec("graph", 64 << 10);
  s.zipf_alpha = 1.2;
  s.write_ratio = 0.25;
  s.seed = 3;
  s.compute_per_access = 0;
  const Counts g = drain(s);
  EXPECT_EQ(g.ctas, 16);
  EXPECT_EQ(g.warps, 128);
  EXPECT_EQ(g.instructions, 256);
  EXPECT_EQ(g.loads + g.stores, 256);
  EXPECT_EQ(g.active_lanes, 8192);
  EXPECT_GT(g.stores, 0);
  EXPECT_LT(g.stores, 128);  // only gathers store
  EXPECT_GE(g.lines, 128 + 128);
  EXPECT_GE(g.distinct_pages, 4 + 1);
  EXPECT_LE(g.distinct_pages, 16);
  run_and_check("syn_graph", s, "full", g);
}

TEST(SyntheticEndToEnd, Pingpong) {
  // 4 pages; automatic grid: one thread per word of a page = 4 CTAs of 256
  // (32 warps). Per warp and pass: load + store per page, each followed by
  // one compute: 3 passes x 4 pages x 2 x 2 = 48. Each access: the warp's
  // 32 words of one page = one line.
  SyntheticSpec s = spec("pingpong", 16 << 10);
  s.iterations = 3;
  Counts c;
  c.ctas = 4, c.warps = 32, c.instructions = 32 * 48, c.loads = 32 * 12, c.stores = 32 * 12;
  c.active_lanes = 768 * 32, c.sectors = 768 * 4, c.lines = 768, c.pages = 768, c.distinct_pages = 4;
  c.load_lines = 384;
  expect_generated(s, c);
  run_and_check("syn_pingpong", s, "tag", c);
}
