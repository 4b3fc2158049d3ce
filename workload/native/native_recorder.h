#pragma once
// Recording a run (`hmmsim run --record FILE`): the instructions each warp
// actually pulled, in hmmsim's native format, so that running the same
// config with `--replay FILE` (or the file as a trace) executes the same
// streams. Warps of a CTA run interleaved, so each warp's stream is encoded
// as it goes, its bytes spilling to a temporary file every 4 KiB; a
// finished CTA goes to a second temporary file in dispatch order, and the
// kernel record is written when the kernel ends (its opcode table and CTA
// count are known only then). Memory: at most 4 KiB per warp in flight,
// plus a 16-byte note per spilled 4 KiB.
#include <cstdint>
#include <memory>
#include <string>

#include "hw/kernel/kernel_source.h"

namespace hmmsim::workload {

class NativeWriter;

class NativeRecorder {
 public:
  // Creates `path` at once, so a bad path is reported before the run.
  explicit NativeRecorder(const std::string& path);
  ~NativeRecorder();
  NativeRecorder(const NativeRecorder&) = delete;
  NativeRecorder& operator=(const NativeRecorder&) = delete;

  void memcpy_htod(uint64_t dst, uint64_t bytes);
  // The source to run instead of `src`: the same CTAs and instructions,
  // recorded as warps pull them. One kernel at a time; `src` must outlive it.
  std::unique_ptr<hw::IKernelSource> record(hw::IKernelSource& src);
  // After the kernel completed (or the run stopped in it).
  void end_kernel();
  void close();
  uint64_t kernels() const { return m_kernels; }

  struct KernelRec;

 private:
  std::unique_ptr<NativeWriter> m_out;
  std::shared_ptr<KernelRec> m_cur;
  uint64_t m_kernels = 0;
};

}  // namespace hmmsim::workload
