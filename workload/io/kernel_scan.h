#pragma once
// Format-independent summary of a kernel: drains an IKernelSource and
// counts what it would do. Used to derive a traced program's buffers and
// for `hmmsim trace info`. Memory is bounded by the kernel's footprint
// (one set entry per 4 KiB page touched), not by its instruction count.
#include <cstdint>
#include <vector>

#include "hw/kernel/kernel_source.h"

namespace hmmsim::workload {

struct KernelSummary {
  uint64_t ctas = 0, warps = 0;          // warps: streams handed out (ctas x warps per CTA)
  uint64_t instructions = 0, compute = 0;  // warp instructions
  // Global memory warp instructions by kind, their active lanes (= lane
  // addresses) and bytes (sum of the lanes' widths).
  uint64_t global_loads = 0, global_stores = 0, global_atomics = 0;
  uint64_t global_lanes = 0, global_bytes = 0;
  uint64_t shared = 0, local = 0, constant = 0;  // warp instructions per space
  // Distinct 4 KiB pages touched by global lanes (a lane access that spans
  // two pages touches both), and the 2 MiB-aligned regions, sorted.
  uint64_t pages_4k = 0;
  std::vector<uint64_t> regions_2m;

  uint64_t global_instructions() const { return global_loads + global_stores + global_atomics; }
};

// Consumes the source (every CTA and every warp, one warp at a time).
// SourceError from the source propagates.
KernelSummary scan_kernel(hw::IKernelSource& src);

}  // namespace hmmsim::workload
