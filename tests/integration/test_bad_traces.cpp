// Bad traces and bad program configs: exit 2 with a message that names the
// file and the line (or byte offset) and says what was expected; never a
// crash, a hang or a silent partial run. Each trace is written by the test
// into a folder of its own and run through a program's `trace:` step.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

const char* kHeader =
    "-kernel name = _Z3badPf\n"
    "-kernel id = 1\n"
    "-grid dim = (1,1,1)\n"
    "-block dim = (32,1,1)\n"
    "-shmem = 0\n"
    "-nregs = 8\n"
    "-binary version = 80\n"
    "-cuda stream id = 0\n"
    "-shmem base_addr = 0x00007f1000000000\n"
    "-local mem base_addr = 0x00007f2000000000\n"
    "-nvbit version = 1.7\n"
    "-accelsim tracer version = 5\n"
    "-enable lineinfo = 0\n"
    "\n"
    "#traces format = [line_num] PC mask dest_num [reg_dests] opcode src_num [reg_srcs] mem_width "
    "[adrrescompress?] [mem_addresses] immediate\n"
    "\n";

// A warp that loads a word per lane of one page and stores to the next.
const char* kLoad = "0000 ffffffff 1 R4 LDG.E 1 R2 4 1 0x7f5000000000 4 0";
const char* kAdd = "0010 ffffffff 1 R5 FADD 2 R4 R4 0 0";
const char* kStore = "0020 ffffffff 0 STG.E 2 R2 R5 4 1 0x7f5000001000 4 0";

std::string kernel(const std::vector<std::string>& lines) {
  std::string k = std::string(kHeader) + "#BEGIN_TB\n\nthread block = 0,0,0\n\nwarp = 0\ninsts = " +
                  std::to_string(lines.size()) + "\n";
  for (const auto& l : lines) k += l + "\n";
  return k + "\n#END_TB\n";
}

// 1-based number of the first line of `text` that contains `needle`.
int line_of(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + int(std::count(text.begin(), text.begin() + std::min(at, text.size()), '\n'));
}

struct TraceDir {
  std::string dir, list, traceg;
};

// kernelslist.g (a MemcpyHtoD of the loaded page, then kernel-1.traceg)
// and the kernel's text, in a fresh folder.
TraceDir write_trace(const std::string& name, const std::string& traceg,
                     const std::string& list = "MemcpyHtoD,0x00007f5000000000,4096\nkernel-1.traceg\n") {
  TraceDir t;
  t.dir = fresh_dir(name);
  std::filesystem::create_directories(t.dir);
  t.list = t.dir + "/kernelslist.g";
  t.traceg = t.dir + "/kernel-1.traceg";
  std::ofstream(t.list) << list;
  std::ofstream(t.traceg) << traceg;
  return t;
}

std::string trace_program(const std::string& path, const std::string& extra = "") {
  return "run: {data: tag}\nworkload:\n  kind: program\n  steps:\n    - trace: {path: " + path + extra +
         "}\n    - cpu_read: {}\n";
}

RunOutput run_trace(const std::string& name, const std::string& path, const std::string& extra = "") {
  const std::string cfg = write_config(name + "_cfg", trace_program(path, extra));
  return run_hmmsim("run " + cfg + " -q --out " + fresh_dir(name + "_out"));
}

// Every failure is exit 2 and says "bad input: <where>: <what>".
void expect_bad(const RunOutput& r, const std::string& where, const std::string& what) {
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("hmmsim: bad input: " + where), std::string::npos) << "want: " << where << "\n" << r.out;
  EXPECT_NE(r.out.find(what), std::string::npos) << "want: " << what << "\n" << r.out;
}

}  // namespace

TEST(BadTraceInput, TheGoodTraceRuns) {
  // The base every bad case below breaks: it runs clean.
  const TraceDir t = write_trace("bt_good", kernel({kLoad, kAdd, kStore}));
  const std::string dir = fresh_dir("bt_good_out");
  const RunOutput r = run_hmmsim("run " + write_config("bt_good_cfg", trace_program(t.list)) + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = read_stats(dir);
  EXPECT_EQ(stat(s, "gpu.loads"), 1);
  EXPECT_EQ(stat(s, "gpu.stores"), 1);
  EXPECT_EQ(stat(s, "gpu.active_lanes"), 64);
  // The load's page faults; the store's comes with its 64 KiB big page.
  EXPECT_EQ(stat(s, "driver.pages_faulted_in"), 1);
  EXPECT_GE(stat(s, "driver.pages_to_vram"), 2);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
}

TEST(BadTraceInput, TruncatedMidWarp) {
  // The warp declares 3 instructions; the file ends after the first.
  const std::string full = kernel({kLoad, kAdd, kStore});
  const std::string cut = full.substr(0, full.find(kAdd));
  const TraceDir t = write_trace("bt_truncated", cut);
  const int last = line_of(cut, kLoad);
  const RunOutput r = run_trace("bt_truncated", t.list);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  // The position is the last line there is (or the one that is missing).
  const bool at_last = r.out.find(t.traceg + ":" + std::to_string(last) + ": ") != std::string::npos;
  const bool at_next = r.out.find(t.traceg + ":" + std::to_string(last + 1) + ": ") != std::string::npos;
  EXPECT_TRUE(at_last || at_next) << r.out;
  EXPECT_NE(r.out.find("insts = 3 but the file ends"), std::string::npos) << r.out;
}

TEST(BadTraceInput, GarbageInAnAddress) {
  const std::string bad = "0000 ffffffff 1 R4 LDG.E 1 R2 4 1 0x7f50zz000000 4 0";
  const std::string text = kernel({bad, kAdd, kStore});
  const TraceDir t = write_trace("bt_garbage", text);
  expect_bad(run_trace("bt_garbage", t.list), t.traceg + ":" + std::to_string(line_of(text, bad)) + ": ",
             "expected a hex address, found '0x7f50zz000000'");
}

TEST(BadTraceInput, UnknownAddressMode) {
  const std::string bad = "0000 ffffffff 1 R4 LDG.E 1 R2 4 7 0x7f5000000000 4 0";
  const std::string text = kernel({bad, kAdd, kStore});
  const TraceDir t = write_trace("bt_mode7", text);
  expect_bad(run_trace("bt_mode7", t.list), t.traceg + ":" + std::to_string(line_of(text, bad)) + ": ",
             "address mode '7'");
}

TEST(BadTraceInput, WrongNumberOfAddressesForTheMask) {
  // Mode 0 lists one address per active lane: mask 0xf needs 4, there are 3.
  const std::string bad = "0000 0000000f 1 R4 LDG.E 1 R2 4 0 0x7f5000000000 0x7f5000000004 0x7f5000000008 0";
  const std::string text = kernel({bad, kAdd, kStore});
  const TraceDir t = write_trace("bt_count", text);
  expect_bad(run_trace("bt_count", t.list), t.traceg + ":" + std::to_string(line_of(text, bad)) + ": ",
             "expected 4 addresses for mask 0000000f, found 3");
}

TEST(BadTraceInput, MissingKernelFile) {
  const TraceDir t = write_trace("bt_missing", kernel({kLoad, kAdd, kStore}),
                                 "MemcpyHtoD,0x00007f5000000000,4096\nkernel-1.traceg\nkernel-2.traceg\n");
  expect_bad(run_trace("bt_missing", t.list), t.list + ":3: ", "kernel file " + t.dir + "/kernel-2.traceg");
}

TEST(BadTraceInput, KernelThatAddressesNothing) {
  const TraceDir t = write_trace("bt_nothing", kernel({kAdd, "0030 ffffffff 0 EXIT 0 0 0"}));
  expect_bad(run_trace("bt_nothing", t.list), t.traceg + ": ", "kernel _Z3badPf addresses no global memory");
}

TEST(BadTraceInput, TextThatIsNoTrace) {
  const std::string dir = fresh_dir("bt_notrace");
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/notes.txt";
  std::ofstream(path) << "hello world\nthis is not a trace\n";
  // Told nothing, hmmsim cannot tell what it is; told Accel-Sim, line 1 is wrong.
  expect_bad(run_trace("bt_notrace_auto", path), path + ": ", "not a trace hmmsim knows");
  expect_bad(run_trace("bt_notrace_accelsim", path, ", format: accelsim"), path + ":1: ",
             "expected MemcpyHtoD,0x<dst>,<bytes> or a kernel trace name, found 'hello world'");
}

TEST(BadTraceInput, NvbitFileLabelledAccelsim) {
  const std::string dir = fresh_dir("bt_nvbit");
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/mem_trace.txt";
  std::string lanes;
  for (int l = 0; l < 32; ++l) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%016llx ", 0x7f5000000000ull + 4ull * l);
    lanes += b;
  }
  std::ofstream(path) << "MEMTRACE: CTX 0x00005555e0c3a7d0 - LAUNCH - Kernel pc 0x00007f5c8e000d00 - Kernel name "
                         "k - grid launch id 0 - grid size 1,1,1 - block size 32,1,1 - nregs 16 - shmem 0 - cuda "
                         "stream id 0\n"
                         "MEMTRACE: CTX 0x00005555e0c3a7d0 - grid_launch_id 0 - CTA 0,0,0 - warp 0 - LDG.E - "
                      << lanes << "\n";
  // It is a real NVBit trace: as such (auto or nvbit) it runs.
  const RunOutput ok = run_trace("bt_nvbit_auto", path);
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  expect_bad(run_trace("bt_nvbit_accelsim", path, ", format: accelsim"), path + ":1: ",
             "expected MemcpyHtoD,0x<dst>,<bytes> or a kernel trace name, found 'MEMTRACE:");
}

namespace {
// The good Accel-Sim trace recorded as a native file.
std::string native_recording(const std::string& name) {
  const TraceDir t = write_trace(name + "_src", kernel({kLoad, kAdd, kStore}));
  const std::string rec = fresh_dir(name) + ".hmt";
  const RunOutput r = run_hmmsim("trace convert " + t.list + " " + rec);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  return rec;
}
}  // namespace

TEST(BadTraceInput, TruncatedNativeFile) {
  const std::string rec = native_recording("bt_native");
  std::string bytes = read_file(rec);
  ASSERT_GT(bytes.size(), 40u);
  const std::string cut = fresh_dir("bt_native_cut") + ".hmt";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 20);
  expect_bad(run_trace("bt_native_cut", cut), cut + ": byte ", "runs past the end of the file");
  const RunOutput info = run_hmmsim("trace info " + cut);
  expect_bad(info, cut + ": byte ", "runs past the end of the file");
  // Without its end record (cut at a record boundary) it is truncated too.
  const std::string no_end = fresh_dir("bt_native_noend") + ".hmt";
  ASSERT_EQ(bytes.back(), 'E');
  std::ofstream(no_end, std::ios::binary) << bytes.substr(0, bytes.size() - 1);
  const RunOutput r = run_trace("bt_native_noend", no_end);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(no_end + ": byte "), std::string::npos) << r.out;
}

TEST(BadTraceInput, BadStreamFoundMidRun) {
  // A program scans its traces before the run, but --replay streams the
  // recording as warps pull it: a corrupt instruction is found while the
  // kernel runs. The store (the last instruction) gets width code 7,
  // which no writer produces: header bits 4-6 (store, global, 4 bytes,
  // full mask = 0xb2 -> 0xf2).
  const std::string rec = native_recording("bt_midrun");
  std::string bytes = read_file(rec);
  const size_t at = bytes.rfind('\xb2');
  ASSERT_NE(at, std::string::npos);
  bytes[at] = '\xf2';
  const std::string bad = fresh_dir("bt_midrun_bad") + ".hmt";
  std::ofstream(bad, std::ios::binary) << bytes;
  const TraceDir t = write_trace("bt_midrun_cfg_src", kernel({kLoad, kAdd, kStore}));
  const std::string cfg = write_config("bt_midrun_cfg", trace_program(t.list));
  const std::string dir = fresh_dir("bt_midrun_out");
  const RunOutput r = run_hmmsim("run " + cfg + " -q --replay " + bad + " --out " + dir);
  expect_bad(r, bad + ": byte " + std::to_string(at) + ": ", "invalid width code 7");
  // The run stopped there (its stats say how far it got): the load ran,
  // the store never did.
  const auto s = read_stats(dir);
  EXPECT_EQ(stat(s, "gpu.loads"), 1);
  EXPECT_EQ(stat(s, "gpu.stores"), 0);
}

// ---- program configs: file:line: key: what

namespace {
RunOutput run_program(const std::string& name, const std::string& text, std::string* path) {
  *path = write_config(name, text);
  return run_hmmsim("run " + *path + " -q --out " + fresh_dir(name + "_out"));
}
const char* kBuffers =
    "workload:\n"
    "  kind: program\n"
    "  buffers:\n"
    "    - {name: data, bytes: 64KiB}\n"
    "  steps:\n"
    "    - cpu_write: data\n";
}  // namespace

TEST(BadProgramInput, UnknownStepKind) {
  std::string p;
  const RunOutput r = run_program("bp_step", std::string(kBuffers) + "    - launch: {synthetic: streaming_read}\n", &p);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(p + ":7: workload.steps[1]: a step is exactly one of: cpu_write, cpu_read, kernel, trace"),
            std::string::npos)
      << r.out;
}

TEST(BadProgramInput, UnknownBufferName) {
  std::string p;
  RunOutput r = run_program("bp_buffer", std::string(kBuffers) + "    - cpu_read: {buffer: nope}\n", &p);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(p + ":7: workload.steps[1].cpu_read.buffer: no buffer named 'nope' (defined so far: data)"),
            std::string::npos)
      << r.out;
  r = run_program("bp_kernel_buffer", std::string(kBuffers) + "    - kernel: {synthetic: random, buffer: nope}\n", &p);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(p + ":7: workload.steps[1].kernel: no buffer named 'nope'"), std::string::npos) << r.out;
  r = run_program("bp_thread_buffer", std::string(kBuffers) + "  cpu_threads:\n    - {op: read, buffer: other}\n", &p);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(p + ":8: workload.cpu_threads[0].buffer: no buffer named 'other'"), std::string::npos) << r.out;
}

TEST(BadProgramInput, RangeOutsideItsBuffer) {
  std::string p;
  RunOutput r =
      run_program("bp_range", std::string(kBuffers) + "    - cpu_read: {buffer: data, offset: 32KiB, bytes: 64KiB}\n", &p);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(p + ":7: workload.steps[1].cpu_read.buffer: range [32768, +65536) must be whole pages inside "
                           "'data' (65536 bytes)"),
            std::string::npos)
      << r.out;
  r = run_program("bp_footprint",
                  std::string(kBuffers) + "    - kernel: {synthetic: streaming_read, buffer: data, footprint: 128KiB}\n", &p);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(p + ":7: workload.steps[1].kernel: footprint 131072 exceeds buffer 'data' (65536 bytes)"),
            std::string::npos)
      << r.out;
}

TEST(BadProgramInput, UnknownSyntheticKernel) {
  std::string p;
  const RunOutput r = run_program("bp_synthetic", std::string(kBuffers) + "    - kernel: {synthetic: quicksort, buffer: data}\n", &p);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(p + ":7: workload.steps[1].kernel.synthetic: expected one of [gemm_tiled, graph, pingpong, "
                           "pointer_chase, random, stencil2d, streaming_read, streaming_rw, strided, tlb_chase], got 'quicksort'"),
            std::string::npos)
      << r.out;
}

TEST(BadProgramInput, ExplicitBufferCoveringATraceRegionOnlyInPart) {
  // The trace touches the 2 MiB region at 0x7f5000000000; a 1 MiB buffer
  // there covers it only in part, which would turn accesses past its end
  // into fatal faults: a config error instead.
  const TraceDir t = write_trace("bt_partial", kernel({kLoad, kAdd, kStore}));
  std::string path;
  const RunOutput r = run_program("bp_partial",
                                  "run: {data: tag}\nworkload:\n  kind: program\n"
                                  "  buffers: [{name: half, va: 0x7f5000000000, bytes: 1MiB}]\n"
                                  "  steps:\n    - trace: {path: " + t.list + "}\n",
                                  &path);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("overlaps buffer 'half' only in part"), std::string::npos) << r.out;
  // Covering the whole region is fine.
  const RunOutput ok = run_program("bp_whole",
                                   "run: {data: tag}\nworkload:\n  kind: program\n"
                                   "  buffers: [{name: whole, va: 0x7f5000000000, bytes: 2MiB}]\n"
                                   "  steps:\n    - trace: {path: " + t.list + "}\n",
                                   &path);
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
}
