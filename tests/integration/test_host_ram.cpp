// Simulated host RAM (host.ram) running out: the run stops at the first
// allocation it cannot satisfy, with exit 1 and one message on stderr naming
// what needed the page, and still writes its outputs. Nothing spreads from
// it: no GPU fault is cancelled, no warp killed, no data check fails.
#include <gtest/gtest.h>

#include <sstream>

#include <array>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

const std::string kDefault = HMMSIM_SOURCE_DIR "/configs/default.yaml";

// Like run_hmmsim, but `out` is stderr alone (stdout is dropped), without
// the notes AddressSanitizer prints about SystemC's coroutine stacks when a
// thread unwinds there ("==N==WARNING: ASan is ignoring requested
// __asan_handle_no_return", then two lines, sometimes a blank one): they are the
// sanitizer's, not hmmsim's, and only the ASan build has them.
RunOutput run_stderr(const std::string& args) {
  RunOutput r = run_hmmsim(args, true);
  std::string kept, line;
  std::istringstream in(r.out);
  bool in_note = false;
  while (std::getline(in, line)) {
    if (line.rfind("==", 0) == 0 && line.find("__asan_handle_no_return") != std::string::npos) {
      in_note = true;
      continue;
    }
    // Its two lines of advice, and a blank line if one follows.
    if (in_note && (line.rfind("False positive error reports may follow", 0) == 0 ||
                    line.rfind("For details see https://github.com/google/sanitizers/issues/189", 0) == 0 ||
                    line.empty()))
      continue;
    in_note = false;
    kept += line + "\n";
  }
  r.out = kept;
  return r;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// The message and nothing else on stderr; `what` is how it begins.
void expect_exhausted(const RunOutput& r, const std::string& what, const std::string& ram, uint64_t pages) {
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(starts_with(r.out, "hmmsim: host RAM exhausted: " + what)) << r.out;
  const std::string tail =
      "(host.ram = " + ram + ", " + std::to_string(pages) + " pages in use) \u2014 raise host.ram\n";
  EXPECT_TRUE(r.out.size() >= tail.size() && r.out.compare(r.out.size() - tail.size(), tail.size(), tail) == 0)
      << r.out;
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line only: " << r.out;
}

// Nothing went wrong besides the shortage, and the outputs were written.
void expect_clean_stop(const std::string& dir, bool legacy = true) {
  ASSERT_TRUE(std::filesystem::exists(dir + "/stats.json"));
  const auto s = read_stats(dir);
  EXPECT_GE(stat(s, "host.ram_alloc_failures"), 1);
  EXPECT_EQ(stat(s, "gpu.sm0.fatal_faults") + stat(s, "gpu.sm1.fatal_faults"), 0);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
  if (legacy) {
    EXPECT_EQ(stat(s, "errors.semantic"), 0);
  }
  const std::string summary = read_file(dir + "/summary.txt");
  EXPECT_NE(summary.find("  problem: host RAM exhausted: "), std::string::npos) << summary;
  EXPECT_EQ(summary.find("fatal fault at"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("watchdog"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("ENOMEM"), std::string::npos) << summary;
}

}  // namespace

TEST(HostRam, CpuInitialisationExhaustingRamStopsWithExitOne) {
  // 1024 pages of `in` written by the CPU into 4 MiB (1024 frames, the zero
  // page and the driver's rings among them).
  const std::string dir = fresh_dir("ram_cpu_init");
  const RunOutput r = run_stderr("run " + kDefault +
                                 " --set workload.pages=1024 --set workload.cpu_init_pages=1024"
                                 " --set host.ram=4MiB -q --out " + dir);
  expect_exhausted(r, "workload initialisation, in page ", "4 MiB", 1024);
  EXPECT_NE(r.out.find(": a CPU store at 0x7f0000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" needs a new page "), std::string::npos) << r.out;
  expect_clean_stop(dir);
  const auto s = read_stats(dir);
  EXPECT_LT(stat(s, "host.pages_written"), 1024);
  EXPECT_EQ(stat(s, "gpu.instructions"), 0);  // stopped before the launch
}

TEST(HostRam, MigrationBackFromVramExhaustingRamStopsWithExitOne) {
  // The kernel runs to its end with everything in VRAM; the CPU readback
  // migrates 2 x 1024 pages home into 1024 frames.
  const std::string dir = fresh_dir("ram_readback");
  const RunOutput r =
      run_stderr("run " + kDefault + " --set workload.pages=1024 --set host.ram=4MiB -q --out " + dir);
  expect_exhausted(r, "CPU readback, in page ", "4 MiB", 1024);
  EXPECT_NE(r.out.find(": migrating the page at 0x7f0000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" back from VRAM for a CPU load "), std::string::npos) << r.out;
  expect_clean_stop(dir);
  const auto s = read_stats(dir);
  EXPECT_EQ(stat(s, "gpu.instructions"), 262144);  // the kernel finished
  EXPECT_GT(stat(s, "host.pages_read"), 0);
}

TEST(HostRam, EvictionExhaustingRamStopsBeforeAnyFaultIsCancelled) {
  // 2 x 2048 pages through 4 MiB of VRAM: evicted pages need system pages,
  // and 4 MiB of host RAM cannot take them. Without the stop the driver
  // left them in VRAM, then cancelled faults it could not service and the
  // GPU killed its warps.
  const std::string dir = fresh_dir("ram_evict");
  const RunOutput r = run_stderr("run " + kDefault +
                                 " --set workload.pages=2048 --set gpu.vram.capacity=4MiB --set host.ram=4MiB"
                                 " --set workload.cpu_readback=false -q --out " + dir);
  expect_exhausted(r, "evicting VRAM pages to system memory", "4 MiB", 1024);
  expect_clean_stop(dir);
  const auto s = read_stats(dir);
  EXPECT_GT(stat(s, "driver.evict_no_host_memory"), 0);
  EXPECT_EQ(stat(s, "driver.faults_fatal"), 0);
}

TEST(HostRam, GpuFaultNeedingASystemPageStopsInsteadOfCancelling) {
  // A buffer kept in host memory: each GPU store to an untouched page needs
  // a system page (hmm_range_fault), 2 MiB of them in 1 MiB of RAM.
  const std::string cfg = write_config("ram_gpu_fault",
                                       "host: {ram: 1MiB}\n"
                                       "workload:\n"
                                       "  kind: program\n"
                                       "  buffers:\n"
                                       "    - {name: h, bytes: 2MiB, placement: host}\n"
                                       "  steps:\n"
                                       "    - kernel: {synthetic: streaming_rw, buffer: h}\n");
  const std::string dir = fresh_dir("ram_gpu_fault_out");
  const RunOutput r = run_stderr("run " + cfg + " -q --out " + dir);
  expect_exhausted(r, "servicing a GPU fault: the faulted page needs a system page ", "1 MiB", 256);
  expect_clean_stop(dir, false);
}

TEST(HostRam, DriverRingsThatDoNotFitStopTheRunAtInit) {
  // 65536 fault entries x 32 bytes: a 2 MiB ring in 1 MiB of RAM.
  const std::string dir = fresh_dir("ram_driver_init");
  const RunOutput r = run_stderr("run " + kDefault +
                                 " --set host.ram=1MiB --set driver.fault_buffer_entries=65536 -q --out " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(starts_with(r.out, "hmmsim: host RAM exhausted: the GPU driver's initialisation: 512 contiguous pages"))
      << r.out;
  EXPECT_NE(r.out.find("(host.ram = 1 MiB, "), std::string::npos) << r.out;
  const std::string summary = read_file(dir + "/summary.txt");
  EXPECT_EQ(summary.find("deadlock"), std::string::npos) << summary;  // not a hang
  EXPECT_EQ(summary.find("driver init failed"), std::string::npos) << summary;
}

TEST(HostRam, RamIsNotCheckedAgainstTheBuffersBeforeTheRun) {
  // The default run uses about 50 system pages: 1 MiB (256 frames) is
  // enough (a check of the buffers before the run used to ask for 5 MiB).
  const std::string dir = fresh_dir("ram_small_ok");
  const RunOutput r = run_hmmsim("run " + kDefault + " --set host.ram=1MiB -q --out " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(stat(read_stats(dir), "host.ram_alloc_failures"), 0);
}
