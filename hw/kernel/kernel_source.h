#pragma once
// Where a kernel's work comes from. The GPU pulls thread blocks (CTAs) in
// dispatch order and each warp pulls its instructions one at a time, so
// memory is bounded by the warps in flight, never by the length of the
// kernel. Implementations (synthetic kernels, trace readers) live in
// workload/ and are chosen by name from the config.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "hw/kernel/warp_instr.h"

namespace hmmsim::hw {

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
  uint64_t count() const { return uint64_t(x) * y * z; }
  bool operator==(const Dim3& o) const { return x == o.x && y == o.y && z == o.z; }
};

struct KernelInfo {
  std::string name;
  Dim3 grid, block;
  uint32_t shmem_bytes = 0, nregs = 0;
  // Windows of generic LD/ST: [base, base + 16 MiB) is shared or local
  // memory (NVBit's nvbit_get_shmem_base_addr); 0 = not given.
  uint64_t shmem_base = 0, local_base = 0;
  // Opcode names, indexed by WarpInstr::opcode; entry 0 is "".
  std::vector<std::string> opcodes{""};
  unsigned warps_per_cta() const { return static_cast<unsigned>((block.count() + 31) / 32); }
};

// Bad input found while reading a source: `what()` names the file and the
// line (or byte offset) and what was expected. The run exits 2.
struct SourceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class IWarpStream {
 public:
  virtual ~IWarpStream() = default;
  // Fills `out` with the warp's next instruction; false when the warp has
  // no more. Throws SourceError on malformed input.
  virtual bool next(WarpInstr& out) = 0;
};

struct CtaWork {
  Dim3 id;                                         // blockIdx
  std::vector<std::unique_ptr<IWarpStream>> warps;  // warp 0 first
};

class IKernelSource {
 public:
  virtual ~IKernelSource() = default;
  virtual const KernelInfo& info() const = 0;
  // The next CTA in dispatch order; false once the grid is exhausted.
  // Throws SourceError on malformed input.
  virtual bool next_cta(CtaWork& out) = 0;
};

}  // namespace hmmsim::hw
