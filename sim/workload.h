#pragma once
// The legacy vector_update workload (workload.kind: vector_update):
// out[k] = in[k] + 1 over two host buffers, plus reads of a small table the
// program keeps in host memory. The plan is data only; its kernel is a
// streaming source like any other (hw::IKernelSource), generated on demand.
#include <cstdint>
#include <memory>
#include <vector>

#include "hw/kernel/kernel_source.h"
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
  WorkloadSpec spec;
  unsigned sms = 1;
  unsigned compute_per_chunk = 1;  // compute instructions between the loads and the store
  uint64_t gpu_loads = 0, gpu_stores = 0;
  uint64_t stray_va = 0;           // never mapped
};

// `compute_cycles`: the SM's cycles per compute instruction, so that
// workload.gap_cycles of compute follow each chunk's loads.
WorkloadPlan plan_workload(const WorkloadSpec& w, unsigned sms, unsigned compute_cycles = 4);

// The grid: one CTA per SM of `warps_per_sm` warps; warp g of G owns the
// g-th contiguous slice of the 128-byte (access_bytes) chunks. Per chunk:
// load in (R1), load lut (R2), compute (R1 -> R3), store out (R3) with
// value in + 1. Warp 0 then issues the stray loads.
std::unique_ptr<hw::IKernelSource> make_vector_update(const WorkloadPlan& plan);

}  // namespace hmmsim::sim
