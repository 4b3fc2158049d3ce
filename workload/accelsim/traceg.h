#pragma once
// Accel-Sim kernel trace (`kernel-N.traceg`, optionally xz-compressed) as
// an IKernelSource. The header is read when the file is opened; thread
// blocks are read one at a time: next_cta() scans the block once, noting
// where each warp's lines start, and hands out one stream per warp that
// decodes its lines lazily through its own small cursor. Memory is bounded
// by the warps in flight, never by the kernel's length.
//
// Opcode names are interned as lines are decoded, so info().opcodes grows
// during the run: look names up by index each time, keep no references.
// The streams share the open file and the opcode table with the kernel and
// may outlive it.
#include <cstdint>
#include <memory>
#include <string>

#include "hw/kernel/kernel_source.h"
#include "workload/accelsim/traceg_decode.h"
#include "workload/io/trace_file.h"

namespace hmmsim::workload::accelsim {

// The `-key = value` header and the `#traces format` line.
struct TracegHeader {
  std::string kernel_name;
  uint64_t kernel_id = 0;
  hw::Dim3 grid, block;
  uint32_t shmem = 0, nregs = 0, binary_version = 0;
  uint64_t cuda_stream_id = 0;
  uint64_t shmem_base = 0, local_base = 0;
  std::string nvbit_version;
  uint32_t tracer_version = 0;  // 0 = not given
  bool lineinfo = false;        // `-enable lineinfo = 1`
  bool immediate = false;       // the format line's last field is `immediate`
  std::string format;           // the `#traces format = ...` text ("" = none)
};

class TracegKernel : public hw::IKernelSource {
 public:
  // Opens the file and reads its header. Throws hw::SourceError.
  explicit TracegKernel(const std::string& path);
  ~TracegKernel() override;

  const hw::KernelInfo& info() const override;
  bool next_cta(hw::CtaWork& out) override;
  const TracegHeader& header() const { return m_header; }
  const std::string& path() const;

  struct Shared;  // state the warp streams share with the kernel

 private:
  void read_header();
  [[noreturn]] void fail(uint64_t line, const std::string& what) const;

  std::shared_ptr<Shared> m_shared;
  TracegHeader m_header;
  LineCursor m_cur;               // the block scanner's position
  bool m_begin_pending = false;   // the header ended on a #BEGIN_TB line
  bool m_done = false;
  uint64_t m_ctas = 0;            // thread blocks handed out
};

std::unique_ptr<hw::IKernelSource> open_traceg(const std::string& path);

}  // namespace hmmsim::workload::accelsim
