// Reading native traces: the program scan (records, kernels skipped by
// their body length) and the per-kernel, per-warp sources.
#include <algorithm>
#include <cstring>

#include "workload/native/native_source.h"
#include "workload/native/native_trace.h"

namespace hmmsim::workload {

using namespace native;

namespace {

constexpr size_t kScanBuffer = 4096;
constexpr size_t kWarpBuffer = 1024;  // per warp in flight

}  // namespace

namespace native {

NativeWarpStream::NativeWarpStream(std::shared_ptr<const TraceFile> f, uint64_t off, const WarpExtent& e,
                                   size_t opcodes)
    : m_cur(std::move(f), off, off + e.bytes, static_cast<size_t>(std::min<uint64_t>(e.bytes, kWarpBuffer)),
            "warp stream (" + std::to_string(e.instrs) + " instructions declared)"),
      m_count(e.instrs), m_opcodes(opcodes) {}

bool NativeWarpStream::next(hw::WarpInstr& out) {
  if (m_done == m_count) {
    if (m_cur.left() > 0)
      m_cur.fail(m_cur.offset(), std::to_string(m_cur.left()) + " bytes left in the warp stream after its " +
                                     std::to_string(m_count) + " instructions");
    return false;
  }
  decode_instr(m_codec, m_cur, m_opcodes, out);
  ++m_done;
  return true;
}

NativeKernelSource::NativeKernelSource(std::shared_ptr<const TraceFile> file, uint64_t meta, uint64_t end)
    : m_cur(std::move(file), meta, end, kScanBuffer, "kernel") {
  decode_kernel_meta(m_cur, m_info, m_ctas);
}

bool NativeKernelSource::next_cta(hw::CtaWork& out) {
  if (m_done == m_ctas) {
    if (m_cur.left() > 0)
      m_cur.fail(m_cur.offset(), std::to_string(m_cur.left()) + " bytes left in the kernel after its " +
                                     std::to_string(m_ctas) + " CTAs");
    return false;
  }
  uint64_t at = m_cur.offset();
  out.id.x = m_cur.varint32("CTA id");
  out.id.y = m_cur.varint32("CTA id");
  out.id.z = m_cur.varint32("CTA id");
  uint64_t warps_at = m_cur.offset();
  uint64_t n = m_cur.varint("warp count");
  if (n > m_info.warps_per_cta())
    m_cur.fail(warps_at, "CTA has " + std::to_string(n) + " warps, its block only " +
                             std::to_string(m_info.warps_per_cta()));
  if (n > m_cur.left() / 2)  // each table entry takes at least 2 bytes
    m_cur.fail(warps_at, "warp count " + std::to_string(n) + " exceeds the kernel's remaining bytes");
  std::vector<WarpExtent> ext(static_cast<size_t>(n));
  for (WarpExtent& e : ext) {
    e.instrs = m_cur.varint("warp instruction count");
    e.bytes = m_cur.varint("warp stream length");
    // An instruction takes at least its 2-byte header.
    if (e.instrs > e.bytes / 2)
      m_cur.fail(m_cur.offset() - varint_size(e.bytes),
                 "warp stream of " + std::to_string(e.bytes) + " bytes cannot hold " + std::to_string(e.instrs) +
                     " instructions");
  }
  uint64_t off = m_cur.offset(), total = 0;
  for (const WarpExtent& e : ext) {
    if (e.bytes > m_cur.end() - off - total)
      m_cur.fail(at, "CTA's warp streams run past the end of the kernel");
    total += e.bytes;
  }
  out.warps.clear();
  out.warps.reserve(ext.size());
  for (const WarpExtent& e : ext) {
    out.warps.push_back(std::make_unique<NativeWarpStream>(m_cur.file_ptr(), off, e, m_info.opcodes.size()));
    off += e.bytes;
  }
  m_cur.seek(off);
  ++m_done;
  return true;
}

}  // namespace native

NativeTrace::NativeTrace(const std::string& path) : NativeTrace(TraceFile::open(path)) {}

NativeTrace::NativeTrace(std::shared_ptr<const TraceFile> file) : m_file(std::move(file)) {
  m_program.file = m_file->path();
  scan();
}

void NativeTrace::scan() {
  ByteCursor c(m_file, 0, m_file->size(), kScanBuffer, "file");
  char magic[sizeof kMagic];
  for (char& ch : magic) ch = static_cast<char>(c.byte("the HMMTRACE magic"));
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) c.fail(0, "expected the HMMTRACE magic: not a native hmmsim trace");
  uint16_t version = c.u16le("format version");
  if (version != kVersion)
    c.fail(8, "unsupported format version " + std::to_string(version) + " (this build reads version " +
                  std::to_string(kVersion) + ")");
  uint16_t flags = c.u16le("format flags");
  if (flags != 0) c.fail(10, "unsupported format flags " + hex(flags));
  for (;;) {
    uint64_t at = c.offset();
    uint8_t tag = c.byte("a record ('M', 'K' or 'E')");
    if (tag == kTagEnd) {
      if (c.left() > 0) c.fail(c.offset(), std::to_string(c.left()) + " bytes after the end record");
      return;
    }
    TraceCommand cmd;
    if (tag == kTagMemcpy) {
      cmd.kind = TraceCommand::Kind::MemcpyHtoD;
      cmd.dst = c.varint("memcpy destination");
      cmd.bytes = c.varint("memcpy length");
    } else if (tag == kTagKernel) {
      uint64_t len = c.u64le("kernel body length");
      if (len > c.left())
        c.fail(at + 1, "kernel body of " + std::to_string(len) + " bytes runs past the end of the file (" +
                           std::to_string(c.left()) + " bytes left)");
      m_kernels.push_back(Kernel{c.offset(), c.offset() + len});
      cmd.kind = TraceCommand::Kind::Kernel;
      cmd.kernel_path = m_file->path();
      c.seek(c.offset() + len);
    } else {
      c.fail(at, "expected a record ('M', 'K' or 'E'), found byte " + hex(tag));
    }
    m_program.commands.push_back(std::move(cmd));
  }
}

std::unique_ptr<hw::IKernelSource> NativeTrace::open_kernel(size_t index) const {
  if (index >= m_kernels.size())
    throw hw::SourceError(m_file->path() + ": no kernel " + std::to_string(index) + " (the trace has " +
                          std::to_string(m_kernels.size()) + ")");
  const Kernel& k = m_kernels[index];
  return std::make_unique<NativeKernelSource>(m_file, k.meta, k.end);
}

TraceProgram load_native_program(const std::string& path) { return NativeTrace(path).program(); }

std::unique_ptr<hw::IKernelSource> open_native_kernel(const std::string& path, size_t kernel_index) {
  return NativeTrace(path).open_kernel(kernel_index);
}

}  // namespace hmmsim::workload
