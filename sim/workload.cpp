#include "sim/workload.h"

#include <algorithm>

namespace hmmsim::sim {

uint32_t WorkloadPlan::init_word(const Buffer& b, uint64_t off) {
  if (off >= b.cpu_init_bytes) return 0;  // never written: reads as zero
  const uint32_t k = static_cast<uint32_t>(off / 4);
  return b.prefer_host ? 0xA0000000u + k : k;  // int[k] = k; tables are tagged
}

WorkloadPlan plan_workload(const WorkloadSpec& w, unsigned sms, unsigned compute_cycles) {
  WorkloadPlan p;
  p.spec = w;
  p.sms = sms;
  p.compute_per_chunk = std::max(1u, (w.gap_cycles + compute_cycles - 1) / std::max(1u, compute_cycles));
  const uint64_t buf = uint64_t(w.pages) * 4096;
  // Separate 2 MiB blocks, as separate allocations usually are.
  const uint64_t stride = ((buf + (2ull << 20) - 1) / (2ull << 20)) * (2ull << 20);
  p.buffers.push_back({"in", w.base_va, buf, uint64_t(w.cpu_init_pages) * 4096, false});
  p.buffers.push_back({"out", w.base_va + stride, buf, 0, false});
  if (w.lut_pages)
    p.buffers.push_back({"lut", w.base_va + 2 * stride, uint64_t(w.lut_pages) * 4096,
                         uint64_t(w.lut_cpu_init_pages) * 4096, true});
  const uint64_t chunks = buf / w.access_bytes;
  p.gpu_loads = chunks * (w.lut_pages ? 2 : 1);
  p.gpu_stores = chunks;
  p.stray_va = w.base_va + 3 * stride + (2ull << 20);
  return p;
}

namespace {

using hw::InstrClass;
using hw::WarpInstr;

// One step of a chunk's work. An access wider than 32 lanes x 16 bytes
// takes several instructions.
struct Step {
  enum Kind : uint8_t { LoadIn, LoadLut, Compute, StoreOut } kind;
  uint32_t sub;  // which 512-byte part of the chunk
};

std::vector<Step> chunk_program(const WorkloadPlan& p) {
  const uint32_t subs = (p.spec.access_bytes + 511) / 512;
  std::vector<Step> v;
  for (uint32_t i = 0; i < subs; ++i) v.push_back({Step::LoadIn, i});
  if (p.spec.lut_pages)
    for (uint32_t i = 0; i < subs; ++i) v.push_back({Step::LoadLut, i});
  for (unsigned i = 0; i < p.compute_per_chunk; ++i) v.push_back({Step::Compute, 0});
  for (uint32_t i = 0; i < subs; ++i) v.push_back({Step::StoreOut, i});
  return v;
}

// Lanes over `bytes` (at most 512) starting at va: 4-byte lanes while they
// fit in 32, else 32 lanes of bytes / 32.
void access(WarpInstr& out, uint64_t va, uint32_t bytes, InstrClass cls) {
  out = WarpInstr{};
  out.cls = cls;
  const unsigned lanes = std::min<uint32_t>(hw::kWarpSize, std::max<uint32_t>(1, bytes / 4));
  out.width = static_cast<uint8_t>(bytes / lanes);
  out.mask = lanes == 32 ? ~0u : (1u << lanes) - 1;
  for (unsigned i = 0; i < lanes; ++i) out.addr[i] = va + uint64_t(i) * out.width;
}

// One warp's slice [c0, c1) of chunks, generated one instruction at a time.
class VectorUpdateWarp : public hw::IWarpStream {
 public:
  VectorUpdateWarp(const WorkloadPlan& p, const std::vector<Step>& prog, uint64_t c0, uint64_t c1,
                   uint32_t strays)
      : m_p(p), m_prog(prog), m_chunk(c0), m_end(c1), m_strays(strays) {}

  bool next(WarpInstr& out) override {
    const WorkloadSpec& w = m_p.spec;
    if (m_chunk >= m_end) {
      if (m_stray == m_strays) return false;
      access(out, m_p.stray_va + uint64_t(m_stray++) * 4096, 4, InstrClass::Load);
      out.opcode = 1;
      return true;
    }
    const Step st = m_prog[m_step];
    const uint64_t chunk_off = m_chunk * w.access_bytes;
    if (++m_step == m_prog.size()) m_step = 0, ++m_chunk;
    const uint64_t off = chunk_off + uint64_t(st.sub) * 512;
    const uint32_t bytes = std::min<uint32_t>(512, w.access_bytes - st.sub * 512);
    switch (st.kind) {
      case Step::LoadIn:
        access(out, m_p.buffers[0].va + off, bytes, InstrClass::Load);
        out.opcode = 1;
        out.ndst = 1;
        out.dst[0] = 1;
        break;
      case Step::LoadLut: {
        const Buffer& t = m_p.buffers[2];
        access(out, t.va + off % t.bytes, bytes, InstrClass::Load);
        out.opcode = 1;
        out.ndst = 1;
        out.dst[0] = 2;
        break;
      }
      case Step::Compute:
        out = WarpInstr{};
        out.mask = ~0u;
        out.opcode = 3;
        out.nsrc = out.ndst = 1;
        out.src[0] = 1;
        out.dst[0] = 3;
        break;
      case Step::StoreOut: {
        access(out, m_p.buffers[1].va + off, bytes, InstrClass::Store);
        out.opcode = 2;
        out.nsrc = 1;
        out.src[0] = 3;
        const Buffer& in = m_p.buffers[0];
        out.has_value = true;
        out.value = WorkloadPlan::init_word(in, off) + 1;
        out.stride = off < in.cpu_init_bytes ? 1 : 0;
        break;
      }
    }
    return true;
  }

 private:
  const WorkloadPlan& m_p;
  const std::vector<Step>& m_prog;
  uint64_t m_chunk, m_end;
  uint32_t m_strays, m_stray = 0;
  size_t m_step = 0;
};

class VectorUpdateKernel : public hw::IKernelSource {
 public:
  explicit VectorUpdateKernel(const WorkloadPlan& p) : m_p(p), m_prog(chunk_program(p)) {
    m_info.name = "vector_update";
    m_info.grid = {p.sms, 1, 1};
    m_info.block = {p.spec.warps_per_sm * hw::kWarpSize, 1, 1};
    m_info.opcodes = {"", "LDG.E", "STG.E", "IADD"};
  }
  const hw::KernelInfo& info() const override { return m_info; }
  bool next_cta(hw::CtaWork& out) override {
    if (m_cta == m_p.sms) return false;
    const WorkloadSpec& w = m_p.spec;
    const uint64_t chunks = uint64_t(w.pages) * 4096 / w.access_bytes;
    const uint64_t nwarps = uint64_t(m_p.sms) * w.warps_per_sm;
    out.id = {m_cta, 0, 0};
    out.warps.clear();
    for (unsigned i = 0; i < w.warps_per_sm; ++i) {
      const uint64_t g = uint64_t(m_cta) * w.warps_per_sm + i;
      out.warps.push_back(std::make_unique<VectorUpdateWarp>(m_p, m_prog, chunks * g / nwarps, chunks * (g + 1) / nwarps,
                                                             g == 0 ? w.stray_loads : 0));
    }
    ++m_cta;
    return true;
  }

 private:
  const WorkloadPlan& m_p;
  const std::vector<Step> m_prog;
  hw::KernelInfo m_info;
  uint32_t m_cta = 0;
};

}  // namespace

std::unique_ptr<hw::IKernelSource> make_vector_update(const WorkloadPlan& plan) {
  return std::make_unique<VectorUpdateKernel>(plan);
}

}  // namespace hmmsim::sim
