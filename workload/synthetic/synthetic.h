#pragma once
// Synthetic GPU kernels, chosen by name. Each one generates its warps'
// instructions on demand: a warp's stream holds a few counters, and its
// k-th instruction is a pure function of (spec, CTA, warp, k), so a kernel
// of any length costs no memory and replays identically.
//
// Every kernel works on data in [base_va, base_va + footprint); the arrays
// it lays out there are listed by synthetic_layout() so the program can
// allocate and initialise them. The access patterns are described in
// docs/workloads.md.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hw/kernel/kernel_source.h"

namespace hmmsim::workload {

struct SyntheticSpec {
  std::string kernel;             // registry name (synthetic_kernels())
  uint64_t base_va = 0;           // start of the kernel's data, 2 MiB aligned
  uint64_t footprint = 0;         // bytes of all its arrays together, a multiple of 4 KiB
  uint32_t iterations = 1;        // passes over the data
  uint32_t width = 4;             // bytes per lane access: 1, 2, 4, 8 or 16
  double write_ratio = 0;         // share of memory instructions that store, where the kernel has a choice
  // grid.x == 0: as many CTAs as one element per thread per pass needs,
  // capped at kMaxDefaultCtas (the threads then loop grid-stride).
  hw::Dim3 grid{0, 1, 1}, block{256, 1, 1};
  uint64_t seed = 1;
  uint32_t compute_per_access = 1;  // compute instructions after each memory instruction
  uint64_t stride = 4096;           // strided: bytes between consecutive lanes
  double zipf_alpha = 1.0;          // graph: skew of page popularity (0 = uniform)
  uint32_t tile = 32;               // gemm_tiled: tile edge in elements
  uint64_t accesses = 0;            // random: lanes per pass (0: one per element)
};

// Cap on the CTAs a kernel launches when grid.x is 0.
constexpr uint32_t kMaxDefaultCtas = 1024;

// One array of a kernel's data: [base_va + offset, base_va + offset + bytes).
struct SyntheticArray {
  std::string name;
  uint64_t offset = 0, bytes = 0;
  bool gpu_reads = false, gpu_writes = false;
};

// Throws std::invalid_argument naming the parameter for an unknown kernel
// (the message lists the known ones) or impossible parameters.
std::unique_ptr<hw::IKernelSource> make_synthetic(const SyntheticSpec& spec);

// Registered kernel names, sorted.
const std::vector<std::string>& synthetic_kernels();

// The arrays `spec`'s kernel uses, in address order (offsets are page
// aligned). Validates like make_synthetic.
std::vector<SyntheticArray> synthetic_layout(const SyntheticSpec& spec);

}  // namespace hmmsim::workload
