// NativeWriter: appends records through a small buffer and back-patches a
// kernel's body length when it ends. A streamed CTA is encoded into memory
// (spilling to a temporary file past `cta_buffer` bytes) because its table
// of stream lengths precedes the streams.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "workload/native/native_trace.h"

namespace hmmsim::workload {

using namespace native;

namespace {
constexpr size_t kFlushBytes = 64 * 1024;
}

NativeWriter::NativeWriter(const std::string& path, size_t cta_buffer)
    : m_path(path), m_cta_buffer(cta_buffer) {
  m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (m_fd < 0) io_fail(std::string("cannot create: ") + std::strerror(errno));
  std::string head(kMagic, sizeof kMagic);
  put_u16le(head, kVersion);
  put_u16le(head, 0);
  put(head);
}

NativeWriter::~NativeWriter() {
  if (m_fd >= 0) ::close(m_fd);
  if (m_spill_fd >= 0) ::close(m_spill_fd);
}

void NativeWriter::io_fail(const std::string& what) const { throw hw::SourceError(m_path + ": " + what); }

void NativeWriter::require(State s, const char* call) const {
  if (m_state != s) throw std::logic_error(std::string("NativeWriter::") + call + " called out of order");
}

void NativeWriter::pwrite_all(const char* p, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t k = ::pwrite(m_fd, p, n, static_cast<off_t>(off));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) io_fail(std::string("cannot write: ") + std::strerror(errno));
    p += k;
    n -= static_cast<size_t>(k);
    off += static_cast<uint64_t>(k);
  }
}

void NativeWriter::flush() {
  if (m_out.empty()) return;
  pwrite_all(m_out.data(), m_out.size(), m_pos - m_out.size());
  m_out.clear();
}

void NativeWriter::put(const std::string& bytes) {
  m_out += bytes;
  m_pos += bytes.size();
  if (m_out.size() >= kFlushBytes) flush();
}

void NativeWriter::memcpy_htod(uint64_t dst, uint64_t bytes) {
  require(State::Top, "memcpy_htod");
  std::string r(1, static_cast<char>(kTagMemcpy));
  put_varint(r, dst);
  put_varint(r, bytes);
  put(r);
}

void NativeWriter::begin_kernel(const hw::KernelInfo& info, uint64_t ctas) {
  require(State::Top, "begin_kernel");
  std::string bad = check_kernel_info(info);
  if (!bad.empty()) throw std::invalid_argument("kernel " + info.name + ": " + bad);
  std::string r(1, static_cast<char>(kTagKernel));
  put(r);
  m_body_len_at = m_pos;
  r.clear();
  put_u64le(r, 0);  // body length, patched by end_kernel
  encode_kernel_meta(info, ctas, r);
  put(r);
  m_ctas = ctas;
  m_ctas_done = 0;
  m_opcodes = info.opcodes.size();
  m_max_warps = info.warps_per_cta();
  m_state = State::Kernel;
}

void NativeWriter::write_cta(const hw::Dim3& id, const std::vector<std::vector<hw::WarpInstr>>& warps) {
  if (warps.size() > m_max_warps) throw std::invalid_argument("CTA has more warps than its block");
  begin_cta(id, static_cast<unsigned>(warps.size()));
  for (unsigned w = 0; w < warps.size(); ++w)
    for (const hw::WarpInstr& in : warps[w]) add(w, in);
  end_cta();
}

void NativeWriter::begin_cta(const hw::Dim3& id, unsigned warps) {
  require(State::Kernel, "begin_cta");
  if (m_ctas_done == m_ctas) throw std::logic_error("NativeWriter: more CTAs than begin_kernel declared");
  if (warps > m_max_warps)
    throw std::invalid_argument("CTA has " + std::to_string(warps) + " warps, its block only " +
                                std::to_string(m_max_warps));
  m_cta_id = id;
  m_ext.assign(warps, WarpExtent{});
  m_warp = 0;
  m_codec = WarpCodec{};
  m_cta_buf.clear();
  m_spilled = 0;
  m_state = State::Cta;
}

void NativeWriter::spill() {
  if (m_spill_fd < 0) {
    const char* env = std::getenv("TMPDIR");
    std::string name = std::string(env && *env ? env : "/tmp") + "/hmmsim-native-XXXXXX";
    m_spill_fd = ::mkstemp(name.data());
    if (m_spill_fd < 0) io_fail("cannot create a temporary file for a large CTA: " + std::string(std::strerror(errno)));
    ::unlink(name.c_str());
  }
  const char* p = m_cta_buf.data();
  size_t n = m_cta_buf.size();
  while (n > 0) {
    ssize_t k = ::pwrite(m_spill_fd, p, n, static_cast<off_t>(m_spilled));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) io_fail("cannot write a temporary file: " + std::string(std::strerror(errno)));
    p += k;
    n -= static_cast<size_t>(k);
    m_spilled += static_cast<uint64_t>(k);
  }
  m_cta_buf.clear();
}

void NativeWriter::add(unsigned warp, const hw::WarpInstr& in) {
  require(State::Cta, "add");
  if (warp >= m_ext.size() || warp < m_warp)
    throw std::logic_error("NativeWriter::add: warp " + std::to_string(warp) + " out of order or range");
  std::string bad = check_instr(in, m_opcodes);
  if (!bad.empty()) throw std::invalid_argument("warp instruction: " + bad);
  if (warp != m_warp) {
    m_warp = warp;
    m_codec = WarpCodec{};  // each stream decodes on its own
  }
  size_t before = m_cta_buf.size();
  encode_instr(m_codec, in, m_cta_buf);
  m_ext[warp].instrs++;
  m_ext[warp].bytes += m_cta_buf.size() - before;
  if (m_cta_buf.size() >= m_cta_buffer) spill();
}

void NativeWriter::end_cta() {
  require(State::Cta, "end_cta");
  std::string head;
  encode_cta_header(m_cta_id, m_ext, head);
  put(head);
  if (m_spilled > 0) {
    flush();
    std::string chunk(kFlushBytes, '\0');
    for (uint64_t off = 0; off < m_spilled;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), m_spilled - off));
      ssize_t k = ::pread(m_spill_fd, chunk.data(), want, static_cast<off_t>(off));
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) io_fail("cannot read back a temporary file: " + std::string(std::strerror(errno)));
      pwrite_all(chunk.data(), static_cast<size_t>(k), m_pos);
      m_pos += static_cast<uint64_t>(k);
      off += static_cast<uint64_t>(k);
    }
    if (::ftruncate(m_spill_fd, 0) != 0) io_fail("cannot truncate a temporary file");
    m_spilled = 0;
  }
  put(m_cta_buf);
  m_cta_buf.clear();
  if (m_cta_buf.capacity() > m_cta_buffer * 2) m_cta_buf.shrink_to_fit();
  ++m_ctas_done;
  m_state = State::Kernel;
}

uint64_t NativeWriter::reserve_cta(const hw::Dim3& id, const std::vector<WarpExtent>& warps) {
  require(State::Kernel, "reserve_cta");
  if (m_ctas_done == m_ctas) throw std::logic_error("NativeWriter: more CTAs than begin_kernel declared");
  if (warps.size() > m_max_warps) throw std::invalid_argument("CTA has more warps than its block");
  std::string head;
  encode_cta_header(id, warps, head);
  put(head);
  flush();
  uint64_t start = m_pos;
  for (const WarpExtent& w : warps) m_pos += w.bytes;  // a hole until write_at fills it
  ++m_ctas_done;
  return start;
}

void NativeWriter::write_at(uint64_t off, const std::string& bytes) {
  if (m_fd < 0 || off + bytes.size() > m_pos - m_out.size())
    throw std::logic_error("NativeWriter::write_at outside the reserved streams");
  pwrite_all(bytes.data(), bytes.size(), off);
}

void NativeWriter::append_encoded_cta(const std::string& part, bool last) {
  require(State::Kernel, "append_encoded_cta");
  if (m_ctas_done == m_ctas) throw std::logic_error("NativeWriter: more CTAs than begin_kernel declared");
  put(part);
  if (last) ++m_ctas_done;
}

void NativeWriter::end_kernel() {
  require(State::Kernel, "end_kernel");
  if (m_ctas_done != m_ctas)
    throw std::logic_error("NativeWriter: kernel declared " + std::to_string(m_ctas) + " CTAs, got " +
                           std::to_string(m_ctas_done));
  flush();
  std::string len;
  put_u64le(len, m_pos - (m_body_len_at + 8));
  pwrite_all(len.data(), len.size(), m_body_len_at);
  m_state = State::Top;
}

void NativeWriter::close() {
  require(State::Top, "close");
  put(std::string(1, static_cast<char>(kTagEnd)));
  flush();
  // The end record sits at the last byte even after a trailing hole.
  if (::ftruncate(m_fd, static_cast<off_t>(m_pos)) != 0) io_fail("cannot set the file size");
  if (::close(m_fd) != 0) {
    m_fd = -1;
    io_fail(std::string("cannot close: ") + std::strerror(errno));
  }
  m_fd = -1;
  m_state = State::Closed;
}

void write_kernel(NativeWriter& w, hw::IKernelSource& src) {
  const hw::KernelInfo& info = src.info();
  uint64_t ctas = info.grid.count();
  w.begin_kernel(info, ctas);
  hw::CtaWork cta;
  hw::WarpInstr in;
  for (uint64_t n = 0;; ++n) {
    cta.warps.clear();
    if (!src.next_cta(cta)) {
      if (n != ctas)
        throw hw::SourceError("kernel " + info.name + ": source produced " + std::to_string(n) +
                              " CTAs, its grid has " + std::to_string(ctas));
      break;
    }
    if (n == ctas) throw hw::SourceError("kernel " + info.name + ": source produced more CTAs than its grid");
    w.begin_cta(cta.id, static_cast<unsigned>(cta.warps.size()));
    for (unsigned i = 0; i < cta.warps.size(); ++i)
      while (cta.warps[i]->next(in)) w.add(i, in);
    w.end_cta();
  }
  w.end_kernel();
}

}  // namespace hmmsim::workload
