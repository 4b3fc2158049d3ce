#include "workload/native/native_recorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "workload/native/native_codec.h"
#include "workload/native/native_trace.h"

namespace hmmsim::workload {

using namespace native;

struct NativeRecorder::KernelRec {
  hw::IKernelSource* src = nullptr;
  hw::KernelInfo info;
  std::map<std::string, uint16_t> op_ids;
  std::vector<std::string> ops{""};
  struct Warp {
    WarpCodec codec;
    std::string bytes;
    uint64_t instrs = 0;
  };
  struct Cta {
    hw::Dim3 id;
    std::vector<Warp> warps;
    size_t live = 0;
  };
  std::map<uint64_t, Cta> pending;  // dispatch index -> CTA in flight
  uint64_t dispatched = 0, written = 0;
  int tmp = -1;  // finished CTAs, encoded, in order
  uint64_t tmp_size = 0;
  std::vector<uint64_t> cta_bytes;

  ~KernelRec() {
    if (tmp >= 0) ::close(tmp);
  }

  uint16_t opcode(uint16_t src_id) {
    const std::string& name = src->info().opcodes.at(src_id);  // interned by the time it is pulled
    auto [it, fresh] = op_ids.emplace(name, static_cast<uint16_t>(ops.size()));
    if (fresh) ops.push_back(name);
    return it->second;
  }

  void spill(const std::string& s) {
    if (tmp < 0) {
      const char* env = std::getenv("TMPDIR");
      std::string name = std::string(env && *env ? env : "/tmp") + "/hmmsim-record-XXXXXX";
      tmp = ::mkstemp(name.data());
      if (tmp < 0) throw hw::SourceError("--record: cannot create a temporary file: " + std::string(std::strerror(errno)));
      ::unlink(name.c_str());
    }
    for (size_t done = 0; done < s.size();) {
      const ssize_t k = ::pwrite(tmp, s.data() + done, s.size() - done, static_cast<off_t>(tmp_size + done));
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) throw hw::SourceError("--record: cannot write a temporary file: " + std::string(std::strerror(errno)));
      done += static_cast<size_t>(k);
    }
    tmp_size += s.size();
    cta_bytes.push_back(s.size());
  }

  // Finished CTAs go out in dispatch order; `all`: the kernel ended, take
  // what there is (a run stopped mid-kernel).
  void flush(bool all) {
    for (auto it = pending.begin(); it != pending.end() && it->first == written && (all || it->second.live == 0);
         it = pending.erase(it), ++written) {
      Cta& c = it->second;
      std::vector<WarpExtent> ext;
      for (const Warp& w : c.warps) ext.push_back({w.instrs, w.bytes.size()});
      std::string blob;
      encode_cta_header(c.id, ext, blob);
      for (const Warp& w : c.warps) blob += w.bytes;
      spill(blob);
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
    auto& w = m_k->pending.at(m_cta).warps[m_warp];
    encode_instr(w.codec, rec, w.bytes);
    ++w.instrs;
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
  m_out->begin_kernel(info, k->cta_bytes.size());
  uint64_t off = 0;
  std::string blob;
  for (uint64_t n : k->cta_bytes) {
    blob.resize(n);
    for (size_t done = 0; done < n;) {
      const ssize_t r = ::pread(k->tmp, blob.data() + done, n - done, static_cast<off_t>(off + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw hw::SourceError("--record: cannot read back a temporary file");
      done += static_cast<size_t>(r);
    }
    m_out->append_encoded_cta(blob);
    off += n;
  }
  m_out->end_kernel();
  ++m_kernels;
}

void NativeRecorder::close() {
  end_kernel();
  m_out->close();
}

}  // namespace hmmsim::workload
