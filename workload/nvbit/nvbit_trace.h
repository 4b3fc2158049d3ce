#pragma once
// NVBit mem_trace output as a kernel source. mem_trace prints one line per
// warp-level memory instruction, interleaved across warps, CTAs and (when
// output lags) launches, while the simulator pulls each warp's
// instructions in order. So the whole text is converted once, when the
// trace is opened, into hmmsim's native format in an unlinked temporary
// file, which then serves the kernels with bounded memory.
//
// Conversion of a launch is an external group-by in two passes over the
// lines spanning its records: pass 1 counts each (CTA, warp)'s
// instructions and their encoded bytes, which fixes where every warp's
// stream goes; pass 2 encodes each record again and writes it at its
// warp's next offset. Memory is bounded by the number of distinct
// (CTA, warp) pairs of one launch (at most grid CTAs x warps per CTA, about
// 150 bytes each) plus the opcode names, never by the number of records.
//
// What the text does not say is inferred:
//  - inactive lanes print address 0, so lane i is active iff its address
//    is non-zero;
//  - only memory instructions appear (no compute), without pc (0 here);
//  - `warp` is the hardware warp slot (%warpid), not the warp's index in
//    its CTA: if all of a CTA's printed ids fit its block they are used as
//    is, otherwise the CTA's distinct ids are numbered in increasing order;
//  - without grid and block sizes (old-style output, or a LAUNCH line
//    without them), grid = max CTA id + 1 per dimension and block =
//    (max warp + 1) * 32 threads in x;
//  - NVBit 1.5.x printed each LAUNCH line's id after incrementing it, one
//    above its records' grid_launch_id; if records only match that way,
//    ids are shifted by one;
//  - CTAs of the grid without records are kept, with empty warps.
// Generic LD/ST/ATOM count as global (no shared/local windows printed).
#include <memory>
#include <string>

#include "workload/native/native_trace.h"

namespace hmmsim::workload {

class NvbitTrace {
 public:
  // Converts the whole file; throws hw::SourceError "<file>:<line>: ..." on
  // bad input.
  explicit NvbitTrace(const std::string& path);
  ~NvbitTrace();
  // One Kernel command per launch, in launch order; `line` is the LAUNCH
  // line (or the first record of an old-style kernel without one).
  const TraceProgram& program() const { return m_program; }
  size_t kernel_count() const;
  std::unique_ptr<hw::IKernelSource> open_kernel(size_t index) const;

 private:
  TraceProgram m_program;
  std::unique_ptr<NativeTrace> m_native;
};

}  // namespace hmmsim::workload
