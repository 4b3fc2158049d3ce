#include "workload/native/native_recorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "workload/native/native_codec.h"
#include "workload/native/native_trace.h"

namespace hmmsim::workload {

using namespace native;

namespace {

constexpr size_t kTailBytes = 4096;   // a warp's encoded bytes kept in memory before they spill
constexpr size_t kCopyBytes = 65536;  // pieces in which spilled bytes move

// An unlinked temporary file written at its end and read anywhere.
class SpillFile {
 public:
  ~SpillFile() {
    if (m_fd >= 0) ::close(m_fd);
  }
  uint64_t size() const { return m_size; }
  uint64_t append(const char* p, size_t n) {
    if (m_fd < 0) open();
    const uint64_t at = m_size;
    for (size_t done = 0; done < n;) {
      const ssize_t k = ::pwrite(m_fd, p + done, n - done, static_cast<off_t>(at + done));
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) fail("cannot write");
      done += static_cast<size_t>(k);
    }
    m_size += n;
    return at;
  }
  void read(uint64_t off, size_t n, std::string& out) const {
    out.resize(n);
    for (size_t done = 0; done < n;) {
      const ssize_t k = ::pread(m_fd, out.data() + done, n - done, static_cast<off_t>(off + done));
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) fail("cannot read back");
      done += static_cast<size_t>(k);
    }
  }

 private:
  void open() {
    const char* env = std::getenv("TMPDIR");
    std::string name = std::string(env && *env ? env : "/tmp") + "/hmmsim-record-XXXXXX";
    m_fd = ::mkstemp(name.data());
    if (m_fd < 0) fail("cannot create");
    ::unlink(name.c_str());
  }
  [[noreturn]] static void fail(const char* what) {
    throw hw::SourceError(std::string("--record: ") + what + " a temporary file: " + std::strerror(errno));
  }
  int m_fd = -1;
  uint64_t m_size = 0;
};

}  // namespace

struct NativeRecorder::KernelRec {
  hw::IKernelSource* src = nullptr;
  std::map<std::string, uint16_t> op_ids;
  std::vector<std::string> ops{""};
  struct Warp {
    WarpCodec codec;
    std::string tail;                                 // encoded, not yet spilled
    std::vector<std::pair<uint64_t, size_t>> spilled;  // earlier parts in `streams`
    uint64_t instrs = 0, bytes = 0;
  };
  struct Cta {
    hw::Dim3 id;
    std::vector<Warp> warps;
    size_t live = 0;
  };
  std::map<uint64_t, Cta> pending;  // dispatch index -> CTA in flight
  uint64_t dispatched = 0, written = 0;
  SpillFile streams;                // warps' spilled parts
  SpillFile ctas;                   // finished CTAs, encoded, in order
  std::vector<std::pair<uint64_t, uint64_t>> cta_at;  // offset, length in `ctas`

  uint16_t opcode(uint16_t src_id) {
    const std::string& name = src->info().opcodes.at(src_id);  // interned by the time it is pulled
    auto [it, fresh] = op_ids.emplace(name, static_cast<uint16_t>(ops.size()));
    if (fresh) ops.push_back(name);
    return it->second;
  }

  void add(Warp& w, const hw::WarpInstr& in) {
    const size_t before = w.tail.size();
    encode_instr(w.codec, in, w.tail);
    w.bytes += w.tail.size() - before;
    ++w.instrs;
    if (w.tail.size() >= kTailBytes) {  // long-lived warps must not grow memory
      w.spilled.push_back({streams.append(w.tail.data(), w.tail.size()), w.tail.size()});
      w.tail.clear();
    }
  }

  // Finished CTAs go out in dispatch order; `all`: the kernel ended, take
  // what there is (a run stopped mid-kernel).
  void flush(bool all) {
    std::string part;
    for (auto it = pending.begin(); it != pending.end() && it->first == written && (all || it->second.live == 0);
         it = pending.erase(it), ++written) {
      Cta& c = it->second;
      std::vector<WarpExtent> ext;
      for (const Warp& w : c.warps) ext.push_back({w.instrs, w.bytes});
      std::string head;
      encode_cta_header(c.id, ext, head);
      const uint64_t at = ctas.append(head.data(), head.size());
      for (Warp& w : c.warps) {
        for (auto [off, n] : w.spilled) {
          streams.read(off, n, part);
          ctas.append(part.data(), part.size());
        }
        ctas.append(w.tail.data(), w.tail.size());
      }
      cta_at.push_back({at, ctas.size() - at});
    }
  }
};

namespace {

class RecordingWarp : public hw::IWarpStream {
 public:
  RecordingWarp(std::shared_ptr<NativeRecorder::KernelRec> k, uint64_t cta, size_t warp,
                std::unique_ptr<hw::IWarpStream> inner)
      : m_k(std::move(k)), m_cta(cta), m_warp(warp), m_inner(std::move(inner)) {}
  ~RecordingWarp() override { done(); }

  bool next(hw::WarpInstr& out) override {
    if (m_done || !m_inner->next(out)) {
      done();
      return false;
    }
    hw::WarpInstr rec = out;
    rec.opcode = m_k->opcode(out.opcode);
    m_k->add(m_k->pending.at(m_cta).warps[m_warp], rec);
    return true;
  }

 private:
  void done() {
    if (m_done) return;
    m_done = true;
    auto it = m_k->pending.find(m_cta);
    if (it != m_k->pending.end() && --it->second.live == 0) m_k->flush(false);
  }
  std::shared_ptr<NativeRecorder::KernelRec> m_k;
  uint64_t m_cta;
  size_t m_warp;
  std::unique_ptr<hw::IWarpStream> m_inner;
  bool m_done = false;
};

class RecordingSource : public hw::IKernelSource {
 public:
  explicit RecordingSource(std::shared_ptr<NativeRecorder::KernelRec> k) : m_k(std::move(k)) {}
  const hw::KernelInfo& info() const override { return m_k->src->info(); }
  bool next_cta(hw::CtaWork& out) override {
    hw::CtaWork in;
    if (!m_k->src->next_cta(in)) return false;
    const uint64_t index = m_k->dispatched++;
    auto& c = m_k->pending[index];
    c.id = in.id;
    c.warps.resize(in.warps.size());
    c.live = in.warps.size();
    out.id = in.id;
    out.warps.clear();
    for (size_t w = 0; w < in.warps.size(); ++w)
      out.warps.push_back(std::make_unique<RecordingWarp>(m_k, index, w, std::move(in.warps[w])));
    if (c.live == 0) m_k->flush(false);
    return true;
  }

 private:
  std::shared_ptr<NativeRecorder::KernelRec> m_k;
};

}  // namespace

NativeRecorder::NativeRecorder(const std::string& path) : m_out(std::make_unique<NativeWriter>(path)) {}
NativeRecorder::~NativeRecorder() = default;

void NativeRecorder::memcpy_htod(uint64_t dst, uint64_t bytes) { m_out->memcpy_htod(dst, bytes); }

std::unique_ptr<hw::IKernelSource> NativeRecorder::record(hw::IKernelSource& src) {
  if (m_cur) end_kernel();
  m_cur = std::make_shared<KernelRec>();
  m_cur->src = &src;
  return std::make_unique<RecordingSource>(m_cur);
}

void NativeRecorder::end_kernel() {
  if (!m_cur) return;
  std::shared_ptr<KernelRec> k = std::move(m_cur);
  k->flush(true);
  hw::KernelInfo info = k->src->info();
  info.opcodes = k->ops;
  m_out->begin_kernel(info, k->cta_at.size());
  std::string part;
  for (auto [off, len] : k->cta_at)
    for (uint64_t done = 0; done < len;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kCopyBytes, len - done));
      k->ctas.read(off + done, n, part);
      done += n;
      m_out->append_encoded_cta(part, done == len);
    }
  m_out->end_kernel();
  ++m_kernels;
}

void NativeRecorder::close() {
  end_kernel();
  m_out->close();
}

}  // namespace hmmsim::workload
