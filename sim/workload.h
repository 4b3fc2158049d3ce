#pragma once
// Synthetic workloads: what the host process does with its memory and what
// each warp executes. The plan is data only; the CPU process and the SMs
// carry it out in simulated time.
#include <cstdint>
#include <vector>

#include "hw/access_observer.h"
#include "sim/config.h"

namespace hmmsim::sim {

struct Buffer {
  const char* name;
  uint64_t va, bytes;
  uint64_t cpu_init_bytes;  // prefix the CPU writes before launch
  bool prefer_host;         // placement hint: keep in host memory
};

struct WorkloadPlan {
  std::vector<Buffer> buffers;
  // Value of the 32-bit word at byte offset `off` of buffer `b` as the CPU initialises it.
  static uint32_t init_word(const Buffer& b, uint64_t off);
  std::vector<std::vector<std::vector<hw::WarpOp>>> warps;  // [sm][warp] -> ops
  uint64_t gpu_loads = 0, gpu_stores = 0;
};

WorkloadPlan plan_workload(const WorkloadSpec& w, unsigned sms);

}  // namespace hmmsim::sim
