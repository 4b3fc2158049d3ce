// Host programs (workload.kind: program) end to end: the example configs,
// data modes, CPU threads beside kernels, and several kernels with host
// steps between them.
#include <gtest/gtest.h>

#include <filesystem>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

// Keys of stats.json as a flat map "a.b.c" -> value, for whole-file comparisons.
void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, nlohmann::json>& out) {
  if (!j.is_object()) {
    out[prefix] = j;
    return;
  }
  for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
}

std::map<std::string, nlohmann::json> flat(const nlohmann::json& j) {
  std::map<std::string, nlohmann::json> m;
  flatten(j, "", m);
  return m;
}

// Sum over kernels.k0, k1, ... of one of their counters.
int64_t kernel_sum(const nlohmann::json& s, const std::string& key, size_t* kernels = nullptr) {
  int64_t t = 0;
  size_t n = 0;
  for (;; ++n) {
    const std::string label = "k" + std::to_string(n);
    if (!s["kernels"].contains(label)) break;
    t += stat(s["kernels"][label], key);
  }
  if (kernels) *kernels = n;
  return t;
}

}  // namespace

// ---- the ready-to-run examples: each runs clean

class ProgramExample : public ::testing::TestWithParam<const char*> {};

TEST_P(ProgramExample, RunsCleanWithPerKernelFigures) {
  const std::string rel = GetParam();
  const std::string name = std::filesystem::path(rel).stem().string();
  const std::string dir = fresh_dir("example_" + name);
  const RunOutput r = run_hmmsim("run " + source(rel) + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = read_stats(dir);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
  EXPECT_GT(stat(s, "oracle.checks"), 0);  // every example checks data (full or tag)
  EXPECT_EQ(stat(s, "driver.faults_fatal"), 0);
  EXPECT_GT(stat(s, "driver.pages_to_vram"), 0);
  size_t kernels = 0;
  for (const char* key : {"gpu.instructions", "gpu.loads", "gpu.stores", "gpu.active_lanes", "gpu.pages"})
    EXPECT_EQ(kernel_sum(s, key, &kernels), stat(s, key)) << key;
  EXPECT_EQ(int64_t(kernels), stat(s, "host.kernels"));
  if (rel.find("configs/synthetic/") == 0) {
    // One kernel, the one the file is named after, and the data read back.
    EXPECT_EQ(kernels, 1u);
    EXPECT_EQ(s["kernels"]["k0"]["name"], name);
    EXPECT_GT(stat(s, "host.pages_read"), 0);
  }
  if (name == "pingpong") {
    // The CPU thread wrote pages the GPU had in VRAM: they came back, and
    // the GPU faulted them in again (8 pages, more migrations).
    EXPECT_GT(stat(s, "host.cpu_threads.t0.migrate_to_ram"), 0);
    EXPECT_GT(stat(s, "driver.pages_to_vram"), 8);
  }
  if (name == "multi_kernel") {
    EXPECT_EQ(kernels, 3u);
    EXPECT_EQ(s["kernels"]["k0"]["name"], "streaming_rw");
    EXPECT_EQ(s["kernels"]["k1"]["name"], "random");
    EXPECT_EQ(s["kernels"]["k2"]["name"], "streaming_read");
    EXPECT_EQ(stat(s, "host.cpu_threads.t0.ops"), 8);
    EXPECT_EQ(stat(s, "host.cpu_threads.t1.ops"), 6);
    EXPECT_EQ(stat(s, "host.cpu_threads.t2.ops"), 3);
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, ProgramExample,
                         ::testing::Values("configs/synthetic/streaming_read.yaml", "configs/synthetic/streaming_rw.yaml",
                                           "configs/synthetic/strided.yaml", "configs/synthetic/random.yaml",
                                           "configs/synthetic/pointer_chase.yaml", "configs/synthetic/stencil2d.yaml",
                                           "configs/synthetic/gemm_tiled.yaml", "configs/synthetic/graph.yaml",
                                           "configs/synthetic/pingpong.yaml", "configs/programs/multi_kernel.yaml"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           return std::filesystem::path(i.param).stem().string();
                         });

// ---- data modes: the bytes kept differ, the simulation does not

TEST(ProgramDataModes, FullTagAndOffSimulateTheSame) {
  // streaming_rw on 32 KiB (in = 16 KiB written by the CPU first), 2
  // passes: 2 x 128 loads, 2 x 128 stores; then a CPU read of 16 pages.
  const std::string cfg = write_config("datamodes",
                                       "workload:\n"
                                       "  kind: program\n"
                                       "  buffers:\n"
                                       "    - {name: vec, bytes: 64KiB}\n"
                                       "  steps:\n"
                                       "    - cpu_write: {buffer: vec, bytes: 16KiB}\n"
                                       "    - kernel: {synthetic: streaming_rw, buffer: vec, footprint: 32KiB, "
                                       "compute_per_access: 2, iterations: 2}\n"
                                       "    - cpu_read: vec\n");
  std::map<std::string, std::map<std::string, nlohmann::json>> runs;
  for (const char* mode : {"full", "tag", "off"}) {
    const std::string dir = fresh_dir(std::string("datamodes_") + mode);
    const RunOutput r = run_hmmsim("run " + cfg + " --set run.data=" + mode + " -q --out " + dir);
    ASSERT_EQ(r.exit_code, 0) << mode << "\n" << r.out;
    const auto s = read_stats(dir);
    EXPECT_EQ(stat(s, "gpu.instructions"), 2 * 128 * 6) << mode;
    EXPECT_EQ(stat(s, "gpu.loads"), 256) << mode;
    EXPECT_EQ(stat(s, "gpu.stores"), 256) << mode;
    // The first batch's faults (4 pages) widen to their 64 KiB big page,
    // all of vec, so no other page faults; the CPU then reads vec back.
    EXPECT_EQ(stat(s, "driver.pages_faulted_in"), 4) << mode;
    EXPECT_EQ(stat(s, "driver.pages_to_vram"), 16) << mode;
    EXPECT_EQ(stat(s, "driver.pages_to_sysmem"), 16) << mode;
    EXPECT_EQ(stat(s, "oracle.mismatches"), 0) << mode;
    // full and tag check every line a GPU load reads (one per load here)
    // and every page the CPU reads; off checks nothing.
    EXPECT_EQ(stat(s, "oracle.checks"), std::string(mode) == "off" ? 0 : 256 + 16) << mode;
    EXPECT_EQ(stat(s, "kernels.k0.oracle.checks"), std::string(mode) == "off" ? 0 : 256) << mode;
    runs[mode] = flat(s);
  }
  // Everything else (instructions, faults, migrations, PCIe bytes, time) is
  // the same in the three modes: the data mode is not part of the timing.
  for (const auto& [key, value] : runs["full"]) {
    if (key.rfind("oracle.", 0) == 0 || key.find(".oracle.") != std::string::npos) continue;
    EXPECT_EQ(runs["tag"][key], value) << key << " (tag vs full)";
    EXPECT_EQ(runs["off"][key], value) << key << " (off vs full)";
  }
  EXPECT_EQ(runs["full"].size(), runs["off"].size());
}

// ---- CPU threads beside a kernel

namespace {
// pingpong on 8 pages, 8 passes: per warp and pass 8 x (load, FFMA, store,
// IADD); 4 CTAs of 256 threads = 32 warps.
constexpr int64_t kPingpongInstr = 32 * 8 * 8 * 4, kPingpongLoads = 32 * 8 * 8;
// Without prefetch or thrashing responses: each page faults on its own, so
// the kernel runs long enough for the CPU threads to meet it.
const char* kPingpongProgram =
    "run: {data: full}\n"
    "driver: {prefetch: {impl: none}, thrashing: {impl: none}}\n"
    "workload:\n"
    "  kind: program\n"
    "  buffers:\n"
    "    - {name: data, bytes: 32KiB}\n"
    "  steps:\n"
    "    - cpu_write: data\n"
    "    - kernel: {synthetic: pingpong, buffer: data, iterations: 8}\n"
    "    - cpu_read: data\n";
}  // namespace

TEST(ProgramCpuThreads, ReadingPagesInVramMigratesThemBack) {
  // The kernel starts a few microseconds in and runs for hundreds; the
  // thread reads all 8 pages 10 times meanwhile. Pages the GPU holds come
  // back on each read and fault into VRAM again.
  const std::string cfg = write_config("thread_read", std::string(kPingpongProgram) +
                                                          "  cpu_threads:\n"
                                                          "    - {op: read, buffer: data, start: 20us, interval: 30us, count: 10}\n");
  const std::string dir = fresh_dir("thread_read_out");
  const RunOutput r = run_hmmsim("run " + cfg + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = read_stats(dir);
  EXPECT_EQ(stat(s, "host.cpu_threads.t0.ops"), 10);
  EXPECT_EQ(stat(s, "host.cpu_threads.t0.pages"), 80);
  EXPECT_GT(stat(s, "host.cpu_threads.t0.migrate_to_ram"), 0);
  EXPECT_GT(stat(s, "host.cpu_threads.t0.device_unmaps"), 0);
  EXPECT_GT(stat(s, "driver.pages_to_vram"), 8);
  // All end in system memory (the final read): every trip to VRAM came back.
  EXPECT_EQ(stat(s, "driver.pages_to_sysmem"), stat(s, "driver.pages_to_vram"));
  // The GPU's work is the same as without the thread, and the data intact:
  // every GPU load (one line each), step read and thread read was checked.
  EXPECT_EQ(stat(s, "gpu.instructions"), kPingpongInstr);
  EXPECT_EQ(stat(s, "gpu.loads"), kPingpongLoads);
  EXPECT_EQ(stat(s, "gpu.stores"), kPingpongLoads);
  EXPECT_EQ(stat(s, "oracle.checks"), kPingpongLoads + 8 + 80);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
}

TEST(ProgramCpuThreads, MadviseDontneedWhileTheKernelRuns) {
  // DONTNEED drops the pages (device copies included): the GPU's mappings
  // go, its next accesses fault in fresh zero pages, and the oracle (which
  // forgets discarded data) still finds nothing wrong.
  const std::string cfg = write_config("thread_madvise", std::string(kPingpongProgram) +
                                                             "  cpu_threads:\n"
                                                             "    - {op: madvise, advice: dontneed, buffer: data, "
                                                             "start: 50us, interval: 100us, count: 4}\n");
  const std::string dir = fresh_dir("thread_madvise_out");
  const RunOutput r = run_hmmsim("run " + cfg + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = read_stats(dir);
  EXPECT_EQ(stat(s, "host.cpu_threads.t0.ops"), 4);
  EXPECT_EQ(stat(s, "host.cpu_threads.t0.pages"), 0);
  EXPECT_GT(stat(s, "host.cpu_threads.t0.device_unmaps"), 0);
  EXPECT_GT(stat(s, "driver.pages_to_vram"), 8);  // discarded pages faulted in again
  EXPECT_EQ(stat(s, "driver.pages_to_sysmem"), 8);  // only the final read takes pages back
  EXPECT_EQ(stat(s, "gpu.instructions"), kPingpongInstr);
  EXPECT_EQ(stat(s, "oracle.checks"), kPingpongLoads + 8);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
}

// ---- several kernels with host steps between them

TEST(ProgramMultiKernel, EachKernelHasItsOwnCounts) {
  // k0 streaming_read of a (64 KiB, block 128, 2 passes): 512 warps x 4
  //    instructions, 1024 loads; 16 pages to VRAM.
  // k1 streaming_rw of b (32 KiB, 2 computes): 128 warps x 6, 128 loads +
  //    128 stores; 8 pages.
  // k2 streaming_read of c after mprotect read-only (16 KiB, block 128, 1
  //    pass): 4096 elements = 32 CTAs, 128 warps x 2; 128 loads; 4 pages.
  // k3 pingpong on the first 16 KiB of a (brought home by the CPU read
  //    after k0), 3 passes: 32 warps x 48, 384 loads + 384 stores; 4 pages.
  const std::string cfg = write_config("multi_kernel",
                                       "run: {data: tag}\n"
                                       "workload:\n"
                                       "  kind: program\n"
                                       "  buffers:\n"
                                       "    - {name: a, bytes: 64KiB}\n"
                                       "    - {name: b, bytes: 32KiB}\n"
                                       "    - {name: c, bytes: 16KiB}\n"
                                       "  steps:\n"
                                       "    - cpu_write: a\n"
                                       "    - kernel: {synthetic: streaming_read, buffer: a, block: 128, iterations: 2}\n"
                                       "    - cpu_read: a\n"
                                       "    - cpu_write: {buffer: b, bytes: 16KiB}\n"
                                       "    - kernel: {synthetic: streaming_rw, buffer: b, compute_per_access: 2}\n"
                                       "    - cpu_read: {buffer: b, offset: 16KiB}\n"
                                       "    - cpu_write: c\n"
                                       "    - mprotect: {buffer: c, prot: r}\n"
                                       "    - kernel: {synthetic: streaming_read, buffer: c, block: 128}\n"
                                       "    - idle: 10us\n"
                                       "    - kernel: {synthetic: pingpong, buffer: a, footprint: 16KiB, iterations: 3}\n"
                                       "    - cpu_read: {}\n"
                                       "    - munmap: {}\n");
  const std::string dir = fresh_dir("multi_kernel_out");
  const RunOutput r = run_hmmsim("run " + cfg + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = read_stats(dir);
  struct K {
    const char* name;
    int64_t instructions, loads, stores, warps, pages_to_vram;
  };
  const K want[] = {{"streaming_read", 2048, 1024, 0, 512, 16},
                    {"streaming_rw", 768, 128, 128, 128, 8},
                    {"streaming_read", 256, 128, 0, 128, 4},
                    {"pingpong", 1536, 384, 384, 32, 16}};  // 4 pages fault, their 64 KiB big page comes
  for (size_t k = 0; k < 4; ++k) {
    const std::string p = "kernels.k" + std::to_string(k) + ".";
    EXPECT_EQ(s["kernels"]["k" + std::to_string(k)]["name"], want[k].name) << k;
    EXPECT_EQ(stat(s, p + "gpu.instructions"), want[k].instructions) << k;
    EXPECT_EQ(stat(s, p + "gpu.loads"), want[k].loads) << k;
    EXPECT_EQ(stat(s, p + "gpu.stores"), want[k].stores) << k;
    EXPECT_EQ(stat(s, p + "gpu.warps"), want[k].warps) << k;
    EXPECT_EQ(stat(s, p + "gpu.active_lanes"), 32 * (want[k].loads + want[k].stores)) << k;
    EXPECT_EQ(stat(s, p + "driver.pages_to_vram"), want[k].pages_to_vram) << k;
    EXPECT_EQ(stat(s, p + "oracle.checks"), want[k].loads) << k;
    EXPECT_EQ(stat(s, p + "oracle.mismatches"), 0) << k;
    EXPECT_GT(stat(s, p + "time_ns"), 0) << k;
  }
  EXPECT_FALSE(s["kernels"].contains("k4"));
  // Kernels run one after another, in program order.
  for (size_t k = 1; k < 4; ++k)
    EXPECT_GE(stat(s, "kernels.k" + std::to_string(k) + ".start_ns"),
              stat(s, "kernels.k" + std::to_string(k - 1) + ".start_ns") +
                  stat(s, "kernels.k" + std::to_string(k - 1) + ".time_ns"));
  size_t kernels = 0;
  for (const char* key : {"gpu.instructions", "gpu.loads", "gpu.stores", "gpu.active_lanes", "gpu.lines",
                          "gpu.pages", "gpu.warps", "driver.pages_to_vram"})
    EXPECT_EQ(kernel_sum(s, key, &kernels), stat(s, key)) << key;
  EXPECT_EQ(kernels, 4u);
  EXPECT_EQ(stat(s, "gpu.instructions"), 2048 + 768 + 256 + 1536);
  EXPECT_EQ(stat(s, "host.kernels"), 4);
  // 13 steps in the file; `cpu_read: {}` and `munmap: {}` are one step per buffer.
  EXPECT_EQ(stat(s, "host.steps"), 11 + 3 + 3);
  // Pages written: a 16, b 4, c 4; read: a 16, b's out 4, then all 28.
  // Checked: every GPU load (one line each) and every page read.
  EXPECT_EQ(stat(s, "host.pages_written"), 24);
  EXPECT_EQ(stat(s, "host.pages_read"), 16 + 4 + 28);
  EXPECT_EQ(stat(s, "oracle.checks"), 1024 + 128 + 128 + 384 + 48);
  EXPECT_EQ(stat(s, "driver.faults_fatal"), 0);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
}

TEST(ProgramMultiKernel, StoresToAReadOnlyBufferAreFatal) {
  // After mprotect(read-only) the GPU may read the buffer (above), but a
  // kernel that stores to it is cancelled: a fatal fault, exit 1.
  const std::string cfg = write_config("readonly_store",
                                       "run: {data: tag}\n"
                                       "workload:\n"
                                       "  kind: program\n"
                                       "  buffers:\n"
                                       "    - {name: t, bytes: 16KiB}\n"
                                       "  steps:\n"
                                       "    - cpu_write: t\n"
                                       "    - mprotect: {buffer: t, prot: r}\n"
                                       "    - kernel: {synthetic: pingpong, buffer: t}\n"
                                       "    - cpu_read: t\n");
  const std::string dir = fresh_dir("readonly_store_out");
  const RunOutput r = run_hmmsim("run " + cfg + " --out " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("fatal fault at va 0x7f0000000000"), std::string::npos) << r.out;
  const auto s = read_stats(dir);
  EXPECT_GE(stat(s, "driver.faults_fatal"), 1);
  EXPECT_EQ(stat(s, "gpu.stores"), 0);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
}

TEST(ProgramCpuThreads, CpuAndGpuSharingHostPagesAgreeWithTheOracle) {
  // The GPU reads and writes host-resident pages (mapped over PCIe) while
  // two CPU threads write and read them: the oracle must see each CPU
  // access the moment it happens, not after the CPU's access time, or GPU
  // loads in between look stale (a bug found in review: 880 mismatches).
  const std::string cfg = write_config("pp_race",
                                       "run: {data: tag}\n"
                                       "workload:\n"
                                       "  kind: program\n"
                                       "  buffers:\n"
                                       "    - {name: shared, bytes: 32KiB, placement: host}\n"
                                       "  steps:\n"
                                       "    - cpu_write: shared\n"
                                       "    - kernel: {synthetic: pingpong, buffer: shared, iterations: 64}\n"
                                       "    - cpu_read: shared\n"
                                       "  cpu_threads:\n"
                                       "    - {op: write, buffer: shared, start: 5us, interval: 3us, count: 200}\n"
                                       "    - {op: read, buffer: shared, start: 6us, interval: 3us, count: 200}\n");
  const std::string dir = fresh_dir("pp_race_out");
  const RunOutput r = run_hmmsim("run " + cfg + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = read_stats(dir);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
  EXPECT_GT(stat(s, "oracle.checks"), 10000);
  EXPECT_EQ(stat(s, "host.cpu_threads.t0.ops"), 200);
  EXPECT_EQ(stat(s, "host.cpu_threads.t1.ops"), 200);
  EXPECT_EQ(stat(s, "driver.pages_to_vram"), 0);  // host placement: never migrated
}
