// The real vectorAdd trace (Accel-Sim tracer v5, NVBit 1.7, sm_80, mode-1
// addresses), read through the program loader, the kernel reader and
// scan_kernel, checked against an independent count of the file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "workload/accelsim/kernelslist.h"
#include "workload/accelsim/traceg.h"
#include "workload/io/kernel_scan.h"

namespace hmmsim::workload::accelsim {
namespace {

const std::string kDir = HMMSIM_SOURCE_DIR "/../shared/traces/accelsim-vectoradd";

// Counted the simple way: every LDG/STG line's mask and mode-1 base+stride.
struct Independent {
  uint64_t loads = 0, stores = 0, lanes = 0, ctas = 0, lines = 0;
  std::set<uint64_t> pages, regions;
};

Independent count_by_hand(const std::string& path) {
  Independent c;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("#BEGIN_TB", 0) == 0) ++c.ctas;
    std::istringstream ss(line);
    std::vector<std::string> f;
    for (std::string t; ss >> t;) f.push_back(t);
    if (f.size() < 4 || !std::isxdigit(static_cast<unsigned char>(f[0][0])) || f[1].size() != 8) continue;
    ++c.lines;
    const size_t op = 3 + std::stoul(f[2]);
    const bool ld = f[op].rfind("LDG", 0) == 0, st = f[op].rfind("STG", 0) == 0;
    if (!ld && !st) continue;
    (ld ? c.loads : c.stores)++;
    const uint32_t mask = static_cast<uint32_t>(std::stoul(f[1], nullptr, 16));
    const size_t width_at = op + 2 + std::stoul(f[op + 1]);
    const uint64_t width = std::stoull(f[width_at]);
    EXPECT_EQ(f[width_at + 1], "1") << line;  // this trace uses base+stride only
    const uint64_t base = std::stoull(f[width_at + 2], nullptr, 16);
    const int64_t stride = std::stoll(f[width_at + 3]);
    const int n = __builtin_popcount(mask);
    c.lanes += n;
    for (int i = 0; i < n; ++i) {
      const uint64_t a = base + uint64_t(i) * uint64_t(stride);
      c.pages.insert(a >> 12);
      c.pages.insert((a + width - 1) >> 12);
      c.regions.insert((a >> 21) << 21);
    }
  }
  return c;
}

TEST(VectorAdd, RealTraceMatchesAnIndependentCount) {
  struct stat st {};
  if (::stat(kDir.c_str(), &st) != 0) GTEST_SKIP() << "../shared/traces not present: " << kDir;

  TraceProgram prog = load_program(kDir + "/kernelslist.g");
  ASSERT_EQ(prog.commands.size(), 3u);
  EXPECT_EQ(prog.commands[0].kind, TraceCommand::Kind::MemcpyHtoD);
  EXPECT_EQ(prog.commands[0].dst, 0x00007fb0fc400000u);
  EXPECT_EQ(prog.commands[0].bytes, 200000u);
  EXPECT_EQ(prog.commands[1].dst, 0x00007fb0fc430e00u);
  EXPECT_EQ(prog.commands[1].bytes, 200000u);
  ASSERT_EQ(prog.commands[2].kind, TraceCommand::Kind::Kernel);
  EXPECT_EQ(prog.commands[2].kernel_path, kDir + "/kernel-1.traceg");

  TracegKernel k(prog.commands[2].kernel_path);
  EXPECT_EQ(k.info().name, "_Z9vectorAddPKfS0_Pfi");
  EXPECT_EQ(k.info().grid, (hw::Dim3{196, 1, 1}));
  EXPECT_EQ(k.info().block, (hw::Dim3{256, 1, 1}));
  EXPECT_EQ(k.info().nregs, 12u);
  EXPECT_EQ(k.info().shmem_base, 0x00007fb139000000u);
  EXPECT_EQ(k.info().local_base, 0x00007fb137000000u);
  EXPECT_EQ(k.header().tracer_version, 5u);
  EXPECT_TRUE(k.header().immediate);
  EXPECT_FALSE(k.header().lineinfo);

  KernelSummary s = scan_kernel(k);
  Independent c = count_by_hand(prog.commands[2].kernel_path);
  std::vector<uint64_t> regions(c.regions.begin(), c.regions.end());

  EXPECT_EQ(s.ctas, 196u);
  EXPECT_EQ(s.ctas, c.ctas);
  EXPECT_EQ(s.warps, 196u * 8);
  EXPECT_EQ(s.instructions, c.lines);
  EXPECT_EQ(s.global_loads, c.loads);
  EXPECT_EQ(s.global_stores, c.stores);
  EXPECT_EQ(s.global_atomics, 0u);
  EXPECT_EQ(s.global_lanes, c.lanes);
  EXPECT_EQ(s.global_bytes, c.lanes * 4);
  EXPECT_EQ(s.pages_4k, c.pages.size());
  EXPECT_EQ(s.regions_2m, regions);
  EXPECT_EQ(s.shared + s.local + s.constant, 0u);
  // vectorAdd with n = 50000: each element is read twice and written once.
  EXPECT_EQ(s.global_lanes, 150000u);

  std::printf("[ vectorAdd ] ctas %llu warps %llu instructions %llu (compute %llu)\n"
              "[ vectorAdd ] global loads %llu stores %llu atomics %llu, lane addresses %llu, bytes %llu\n"
              "[ vectorAdd ] distinct 4 KiB pages %llu, 2 MiB regions %zu:",
              (unsigned long long)s.ctas, (unsigned long long)s.warps, (unsigned long long)s.instructions,
              (unsigned long long)s.compute, (unsigned long long)s.global_loads,
              (unsigned long long)s.global_stores, (unsigned long long)s.global_atomics,
              (unsigned long long)s.global_lanes, (unsigned long long)s.global_bytes,
              (unsigned long long)s.pages_4k, s.regions_2m.size());
  for (uint64_t r : s.regions_2m) std::printf(" 0x%llx", (unsigned long long)r);
  std::printf("\n");
}

}  // namespace
}  // namespace hmmsim::workload::accelsim
