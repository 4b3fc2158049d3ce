#pragma once
// The sources behind NativeTrace::open_kernel (internal: the text writer
// also needs the declared CTA and instruction counts).
#include <memory>

#include "workload/native/native_codec.h"

namespace hmmsim::workload::native {

class NativeWarpStream : public hw::IWarpStream {
 public:
  NativeWarpStream(std::shared_ptr<const TraceFile> f, uint64_t off, const WarpExtent& e, size_t opcodes);
  bool next(hw::WarpInstr& out) override;
  uint64_t count() const { return m_count; }  // instructions declared in the CTA table

 private:
  ByteCursor m_cur;
  uint64_t m_count, m_done = 0;
  size_t m_opcodes;
  WarpCodec m_codec;
};

class NativeKernelSource : public hw::IKernelSource {
 public:
  // `meta` is the offset of the kernel's metadata, `end` of its last byte + 1.
  NativeKernelSource(std::shared_ptr<const TraceFile> file, uint64_t meta, uint64_t end);
  const hw::KernelInfo& info() const override { return m_info; }
  bool next_cta(hw::CtaWork& out) override;
  uint64_t cta_count() const { return m_ctas; }

 private:
  hw::KernelInfo m_info;
  ByteCursor m_cur;  // at the next CTA's header
  uint64_t m_ctas = 0, m_done = 0;
};

}  // namespace hmmsim::workload::native
