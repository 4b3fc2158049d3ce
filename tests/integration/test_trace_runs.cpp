// Traces end to end: the real Accel-Sim vectorAdd trace against an
// independent count of its file, record and replay, and `hmmsim trace`.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>
#include <vector>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

const std::string kVectorAddDir = HMMSIM_SOURCE_DIR "/../shared/traces/accelsim-vectoradd";

#define SKIP_WITHOUT_VECTORADD()                                                                  \
  if (!std::filesystem::exists(kVectorAddDir + "/kernel-1.traceg"))                               \
  GTEST_SKIP() << "the shared Accel-Sim vectorAdd trace is not here (" << kVectorAddDir           \
               << "): the ../shared checkout is absent"

// A plain count of a .traceg file, independent of hmmsim's reader: the
// trace has no line numbers (-enable lineinfo = 0), so an instruction line
// is  PC mask ndst dst* opcode nsrc src* width [mode addresses...] imm,
// and vectorAdd's global accesses all use mode 1 (base, stride): the k-th
// active lane reads base + k * stride.
struct FileCount {
  int64_t ctas = 0, warps = 0, instructions = 0, memory = 0, loads = 0, stores = 0;
  int64_t lanes = 0, sectors = 0, lines = 0, pages = 0;
  std::set<uint64_t> distinct_pages;
  bool lineinfo = true;
};

FileCount count_traceg(const std::string& path) {
  FileCount c;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (line == "-enable lineinfo = 0") c.lineinfo = false;
    if (line.rfind("#BEGIN_TB", 0) == 0) ++c.ctas;
    if (line.rfind("warp = ", 0) == 0) ++c.warps;
    if (line.empty() || !std::isxdigit(static_cast<unsigned char>(line[0]))) continue;
    std::istringstream is(line);
    std::vector<std::string> t;
    for (std::string w; is >> w;) t.push_back(w);
    ++c.instructions;
    const uint32_t mask = static_cast<uint32_t>(std::stoul(t.at(1), nullptr, 16));
    const size_t ndst = std::stoul(t.at(2));
    const std::string opcode = t.at(3 + ndst);
    const size_t nsrc = std::stoul(t.at(4 + ndst));
    const size_t w = 5 + ndst + nsrc;
    const unsigned width = static_cast<unsigned>(std::stoul(t.at(w)));
    if (width == 0) continue;
    ++c.memory;
    const bool load = opcode.rfind("LDG", 0) == 0, store = opcode.rfind("STG", 0) == 0;
    if (!load && !store) continue;
    ++(load ? c.loads : c.stores);
    EXPECT_EQ(t.at(w + 1), "1") << "not base+stride: " << line;
    const uint64_t base = std::stoull(t.at(w + 2), nullptr, 16);
    const int64_t stride = std::stoll(t.at(w + 3));
    std::set<uint64_t> sectors, lines, pages;
    int64_t k = 0;
    for (unsigned lane = 0; lane < 32; ++lane) {
      if (!(mask >> lane & 1)) continue;
      const uint64_t a = base + uint64_t(k++ * stride);
      sectors.insert(a / 32);
      lines.insert(a / 128);
      pages.insert(a / 4096);
    }
    c.lanes += k;
    c.sectors += int64_t(sectors.size());
    c.lines += int64_t(lines.size());
    c.pages += int64_t(pages.size());
    c.distinct_pages.insert(pages.begin(), pages.end());
  }
  return c;
}

}  // namespace

// ---- vectorAdd

TEST(TraceVectorAdd, ReplaysWithTheCountsOfTheFile) {
  SKIP_WITHOUT_VECTORADD();
  // The file, counted simply: 196 CTAs of 8 warps; 50000 threads do work
  // (1562 full warps and one of 16 lanes: two loads and a store each), the
  // 5 warps past the end only compute and exit.
  const FileCount f = count_traceg(kVectorAddDir + "/kernel-1.traceg");
  ASSERT_FALSE(f.lineinfo);
  EXPECT_EQ(f.ctas, 196);
  EXPECT_EQ(f.warps, 1568);
  EXPECT_EQ(f.instructions, 1563 * 17 + 5 * 6);
  EXPECT_EQ(f.loads, 3126);
  EXPECT_EQ(f.stores, 1563);
  EXPECT_EQ(f.memory, f.loads + f.stores);  // no other memory instruction
  EXPECT_EQ(f.lanes, 150000);
  // a, b, c: 200000 bytes each at 0x...400000, +200192, +400384: pages 0-48,
  // 48-97 and 97-146 of the region.
  EXPECT_EQ(f.distinct_pages.size(), 147u);

  const std::string dir = fresh_dir("vectoradd");
  const RunOutput r = run_hmmsim("run " + source("configs/traces/vectoradd.yaml") + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = read_stats(dir);
  EXPECT_EQ(stat(s, "gpu.ctas"), f.ctas);
  EXPECT_EQ(stat(s, "gpu.warps"), f.warps);
  EXPECT_EQ(stat(s, "gpu.instructions"), f.instructions);
  EXPECT_EQ(stat(s, "gpu.loads"), f.loads);
  EXPECT_EQ(stat(s, "gpu.stores"), f.stores);
  EXPECT_EQ(stat(s, "gpu.atomics"), 0);
  EXPECT_EQ(stat(s, "gpu.active_lanes"), f.lanes);
  EXPECT_EQ(stat(s, "gpu.bytes"), 4 * f.lanes);
  EXPECT_EQ(stat(s, "gpu.sectors"), f.sectors);
  EXPECT_EQ(stat(s, "gpu.lines"), f.lines);
  EXPECT_EQ(stat(s, "gpu.pages"), f.pages);
  // First touch migrates every distinct page once (64 MiB of VRAM); the
  // prefetcher brings some before they fault, and more of their neighbours.
  const int64_t moved = stat(s, "driver.pages_to_vram");
  EXPECT_EQ(moved, stat(s, "driver.pages_faulted_in") + stat(s, "driver.pages_prefetcher"));
  EXPECT_GE(moved, int64_t(f.distinct_pages.size()));
  EXPECT_LE(stat(s, "driver.pages_faulted_in"), int64_t(f.distinct_pages.size()));
  EXPECT_EQ(stat(s, "kernels.k0.gpu.loads"), f.loads);
  EXPECT_EQ(stat(s, "kernels.k0.gpu.stores"), f.stores);
  EXPECT_EQ(stat(s, "kernels.k0.driver.pages_to_vram"), moved);
  EXPECT_EQ(s["kernels"]["k0"]["name"], "_Z9vectorAddPKfS0_Pfi");
  // The two MemcpyHtoD wrote a and b (49 + 50 page pieces); the final read
  // covers the derived buffer, the whole 2 MiB region.
  EXPECT_EQ(stat(s, "host.pages_written"), 99);
  EXPECT_EQ(stat(s, "host.pages_read"), 512);
  EXPECT_EQ(stat(s, "host.buffer_bytes"), 2 << 20);
  // Tag mode: every load (one line each) and page read checked, none differed.
  EXPECT_EQ(stat(s, "oracle.checks"), f.loads + 512);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
}

// ---- record and replay

namespace {
// Two kernels with host steps between them and a CPU thread reading while
// the first runs: the recording must carry what each warp executed.
const char* kTwoKernels =
    "run: {data: tag}\n"
    "workload:\n"
    "  kind: program\n"
    "  buffers:\n"
    "    - {name: data, bytes: 64KiB}\n"
    "  steps:\n"
    "    - cpu_write: {buffer: data, bytes: 16KiB}\n"
    "    - kernel: {synthetic: streaming_rw, buffer: data, footprint: 32KiB, compute_per_access: 2}\n"
    "    - cpu_read: data\n"
    "    - kernel: {synthetic: random, buffer: data, write_ratio: 0.25, seed: 7}\n"
    "    - cpu_read: data\n"
    "  cpu_threads:\n"
    "    - {op: read, buffer: data, bytes: 16KiB, start: 10us, interval: 10us, count: 5}\n";

// The stats of `args`, run into a fresh folder; asserts exit 0.
std::string stats_bytes(const std::string& name, const std::string& args) {
  const std::string dir = fresh_dir(name);
  const RunOutput r = run_hmmsim(args + " -q --out " + dir);
  EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.out;
  return read_file(dir + "/stats.json");
}
}  // namespace

TEST(RecordReplay, SyntheticProgramReplaysToTheSameStats) {
  const std::string cfg = write_config("rr_synthetic", kTwoKernels);
  const std::string rec = fresh_dir("rr_synthetic_rec") + ".hmt";
  const std::string plain = stats_bytes("rr_syn_plain", "run " + cfg);
  const std::string recorded = stats_bytes("rr_syn_record", "run " + cfg + " --record " + rec);
  const std::string replayed = stats_bytes("rr_syn_replay", "run " + cfg + " --replay " + rec);
  ASSERT_FALSE(plain.empty());
  EXPECT_EQ(recorded, plain);  // recording does not change the run
  EXPECT_EQ(replayed, recorded);
  // The recording holds both kernels as they ran.
  const RunOutput info = run_hmmsim("trace info " + rec);
  ASSERT_EQ(info.exit_code, 0) << info.out;
  EXPECT_NE(info.out.find("kernel 0: streaming_rw"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("kernel 1: random"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("global loads 128, stores 128, atomics 0; lane addresses 8192"), std::string::npos)
      << info.out;
  // A recording of another program does not fit: bad input, not a guess.
  const std::string one = write_config("rr_one_kernel",
                                       "workload:\n  kind: program\n  steps:\n"
                                       "    - kernel: {synthetic: streaming_read, footprint: 16KiB}\n");
  const RunOutput r = run_hmmsim("run " + one + " -q --replay " + rec + " --out " + fresh_dir("rr_mismatch"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("the recording holds 2 kernels, this program launches 1"), std::string::npos) << r.out;
}

TEST(RecordReplay, VectorAddReplaysToTheSameStats) {
  SKIP_WITHOUT_VECTORADD();
  const std::string cfg = source("configs/traces/vectoradd.yaml");
  const std::string rec = fresh_dir("rr_vectoradd_rec") + ".hmt";
  const std::string recorded = stats_bytes("rr_va_record", "run " + cfg + " --record " + rec);
  const std::string replayed = stats_bytes("rr_va_replay", "run " + cfg + " --replay " + rec);
  ASSERT_FALSE(recorded.empty());
  EXPECT_EQ(replayed, recorded);
  // The recording is itself a trace (with the two MemcpyHtoD): run as one
  // in an otherwise identical program, it gives the same run.
  const std::string as_trace = write_config("rr_va_as_trace", "run: {data: tag}\n"
                                                              "workload:\n"
                                                              "  kind: program\n"
                                                              "  steps:\n"
                                                              "    - trace: {path: " + rec + "}\n"
                                                              "    - cpu_read: {}\n");
  const auto a = nlohmann::json::parse(recorded);
  const std::string dir = fresh_dir("rr_va_as_trace_out");
  const RunOutput r = run_hmmsim("run " + as_trace + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto b = read_stats(dir);
  for (const char* key : {"gpu.instructions", "gpu.loads", "gpu.stores", "gpu.active_lanes", "gpu.sectors",
                          "gpu.lines", "gpu.pages", "gpu.ctas", "gpu.warps", "gpu.gmmu.faults", "gpu.fault_stalls",
                          "driver.faults_serviced", "driver.pages_to_vram", "driver.pages_to_sysmem",
                          "host.pages_written", "oracle.checks", "oracle.mismatches"})
    EXPECT_EQ(stat(b, key), stat(a, key)) << key;
  EXPECT_EQ(stat(b, "gpu.loads"), 3126);
}

TEST(RecordReplay, RecordingRunsAsATrace) {
  // One kernel on a 2 MiB buffer (a trace's buffers are whole 2 MiB
  // regions: the explicit buffer covers the one the recording touches).
  const std::string head =
      "run: {data: tag}\n"
      "workload:\n"
      "  kind: program\n"
      "  buffers:\n"
      "    - {name: data, bytes: 2MiB}\n"
      "  steps:\n"
      "    - cpu_write: {buffer: data, bytes: 32KiB}\n";
  const std::string tail = "    - cpu_read: {buffer: data, bytes: 64KiB}\n";
  const std::string cfg = write_config(
      "rr_trace_src", head + "    - kernel: {synthetic: stencil2d, buffer: data, footprint: 64KiB, iterations: 2}\n" + tail);
  const std::string rec = fresh_dir("rr_trace_rec") + ".hmt";
  const std::string dir_a = fresh_dir("rr_trace_a"), dir_b = fresh_dir("rr_trace_b");
  RunOutput r = run_hmmsim("run " + cfg + " -q --record " + rec + " --out " + dir_a);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string as_trace = write_config("rr_trace_dst", head + "    - trace: {path: " + rec + "}\n" + tail);
  r = run_hmmsim("run " + as_trace + " -q --out " + dir_b);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto a = read_stats(dir_a), b = read_stats(dir_b);
  // stencil2d on 64 KiB: nx 64, ny 128; 256 warps x 6 accesses x 2 passes.
  EXPECT_EQ(stat(a, "gpu.loads"), 2 * 256 * 5);
  EXPECT_EQ(stat(a, "gpu.stores"), 2 * 256);
  for (const char* key : {"gpu.instructions", "gpu.loads", "gpu.stores", "gpu.active_lanes", "gpu.sectors",
                          "gpu.lines", "gpu.pages", "gpu.ctas", "gpu.warps", "gpu.tlb.l1.hits", "gpu.tlb.l1.misses",
                          "gpu.gmmu.faults", "driver.pages_to_vram", "driver.pages_to_sysmem", "oracle.checks",
                          "oracle.mismatches", "kernels.k0.gpu.instructions"})
    EXPECT_EQ(stat(b, key), stat(a, key)) << key;
  EXPECT_EQ(b["kernels"]["k0"]["name"], "stencil2d");
}

// ---- hmmsim trace info | head | convert

namespace {
const char* const kVectorAddCounts[] = {
    "kernel 0: _Z9vectorAddPKfS0_Pfi  grid (196,1,1) block (256,1,1)",
    "ctas 196, warps 1568, instructions 26601",
    "global loads 3126, stores 1563, atomics 0; lane addresses 150000, bytes 600000",
    "distinct 4 KiB pages 147, 2 MiB regions 1: 0x7fb0fc400000",
    "MemcpyHtoD 0x7fb0fc400000 200000 bytes",
    "MemcpyHtoD 0x7fb0fc430e00 200000 bytes"};
}  // namespace

TEST(TraceCli, InfoConvertAndHeadOnVectorAdd) {
  SKIP_WITHOUT_VECTORADD();
  const RunOutput info = run_hmmsim("trace info " + kVectorAddDir + "/kernelslist.g");
  ASSERT_EQ(info.exit_code, 0) << info.out;
  EXPECT_NE(info.out.find("accelsim trace, 3 commands"), std::string::npos) << info.out;
  for (const char* want : kVectorAddCounts) EXPECT_NE(info.out.find(want), std::string::npos) << want << "\n" << info.out;

  // To native and back to info: the same counts.
  const std::string native = fresh_dir("cli_vectoradd") + ".hmt";
  RunOutput r = run_hmmsim("trace convert " + kVectorAddDir + "/kernelslist.g " + native);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("native binary"), std::string::npos) << r.out;
  const RunOutput ninfo = run_hmmsim("trace info " + native);
  ASSERT_EQ(ninfo.exit_code, 0) << ninfo.out;
  EXPECT_NE(ninfo.out.find("native trace, 3 commands"), std::string::npos) << ninfo.out;
  for (const char* want : kVectorAddCounts)
    EXPECT_NE(ninfo.out.find(want), std::string::npos) << want << "\n" << ninfo.out;
  // Everything after the first line (file and format) is identical.
  EXPECT_EQ(info.out.substr(info.out.find('\n')), ninfo.out.substr(ninfo.out.find('\n')));

  // A .txt output is the text form.
  const std::string text = fresh_dir("cli_vectoradd_text") + ".txt";
  r = run_hmmsim("trace convert " + kVectorAddDir + " " + text);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("native text"), std::string::npos) << r.out;
  const std::string t = read_file(text);
  EXPECT_EQ(t.rfind("hmmtrace 1\nmemcpy_htod 0x7fb0fc400000 200000\nmemcpy_htod 0x7fb0fc430e00 200000\n", 0), 0u)
      << t.substr(0, 200);
  EXPECT_NE(t.find("name _Z9vectorAddPKfS0_Pfi"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(text + ".tmp.hmt"));
  std::filesystem::remove(text);  // 1.6 MB

  // head -n 5: the first five instructions of CTA 0, warp 0, in order.
  r = run_hmmsim("trace head -n 5 " + kVectorAddDir + "/kernelslist.g");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::istringstream is(r.out);
  std::vector<std::string> instrs;
  for (std::string line; std::getline(is, line);)
    if (line.rfind("cta ", 0) == 0) instrs.push_back(line);
  ASSERT_EQ(instrs.size(), 5u) << r.out;
  const char* ops[] = {"  MOV  ", "  S2R  ", "  S2R  ", "  IMAD  ", "  ISETP.GE.AND  "};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(instrs[i].rfind("cta (0,0,0) warp 0 ", 0), 0u) << instrs[i];
    EXPECT_NE(instrs[i].find(ops[i]), std::string::npos) << instrs[i];
  }
}
