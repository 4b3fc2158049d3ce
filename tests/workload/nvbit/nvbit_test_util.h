#pragma once
// Builders for hand-written NVBit mem_trace text.
#include <cstdio>
#include <string>
#include <vector>

#include "../native/native_test_util.h"
#include "workload/nvbit/nvbit_trace.h"

namespace hmmsim::workload::test {

// 32 lane addresses: base + lane * stride for lanes in `mask`, 0 elsewhere.
inline std::vector<uint64_t> lanes(uint64_t base, uint64_t stride, uint32_t mask = 0xFFFFFFFFu) {
  std::vector<uint64_t> a(hw::kWarpSize, 0);
  for (unsigned l = 0; l < hw::kWarpSize; ++l)
    if (mask >> l & 1) a[l] = base + l * stride;
  return a;
}

inline std::string addr_text(const std::vector<uint64_t>& a) {
  std::string s;
  char buf[32];
  for (uint64_t v : a) {
    std::snprintf(buf, sizeof buf, "0x%016llx ", static_cast<unsigned long long>(v));
    s += buf;
  }
  return s;
}

inline std::string dims(const hw::Dim3& d) {
  return std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z);
}

// New style, as NVBit >= 1.5 prints them.
inline std::string launch_line(uint64_t id, const std::string& name, hw::Dim3 grid, hw::Dim3 block, unsigned nregs = 16,
                               unsigned shmem = 0) {
  return "MEMTRACE: CTX 0x00005555e0c3a7d0 - LAUNCH - Kernel pc 0x00007f5c8e000d00 - Kernel name " + name +
         " - grid launch id " + std::to_string(id) + " - grid size " + dims(grid) + " - block size " + dims(block) +
         " - nregs " + std::to_string(nregs) + " - shmem " + std::to_string(shmem) + " - cuda stream id 0\n";
}

inline std::string rec_line(uint64_t launch, hw::Dim3 cta, unsigned warp, const std::string& op,
                            const std::vector<uint64_t>& a) {
  return "MEMTRACE: CTX 0x00005555e0c3a7d0 - grid_launch_id " + std::to_string(launch) + " - CTA " + dims(cta) +
         " - warp " + std::to_string(warp) + " - " + op + " - " + addr_text(a) + "\n";
}

// Old style (2019 tools).
inline std::string old_kernel_line(const std::string& name, hw::Dim3 grid, hw::Dim3 block) {
  return "Kernel " + name + " - grid size " + dims(grid) + " - block size " + dims(block) +
         " - nregs 8 - shmem 0 - cuda stream id 0\n";
}

inline std::string old_rec_line(hw::Dim3 cta, unsigned warp, const std::string& op, const std::vector<uint64_t>& a) {
  return "CTA " + dims(cta) + " - warp " + std::to_string(warp) + " - " + op + " - " + addr_text(a) + "\n";
}

}  // namespace hmmsim::workload::test
