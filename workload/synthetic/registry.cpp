// The registry of synthetic kernels and the public entry points.
#include <algorithm>
#include <stdexcept>

#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload {
namespace synth {

void Registry::add(const std::string& name, KernelFactory f) {
  if (!m_factories.emplace(name, f).second)
    throw std::logic_error("synthetic kernel '" + name + "' registered twice");
  m_names.insert(std::lower_bound(m_names.begin(), m_names.end(), name), name);
}

KernelFactory Registry::find(const std::string& name) const {
  auto it = m_factories.find(name);
  return it == m_factories.end() ? nullptr : it->second;
}

const Registry& registry() {
  // Built on first use (thread-safe static): adding a kernel means adding
  // its register_<name>() here.
  static const Registry r = [] {
    Registry reg;
    register_streaming_read(reg);
    register_streaming_rw(reg);
    register_strided(reg);
    register_random(reg);
    register_pointer_chase(reg);
    register_stencil2d(reg);
    register_gemm_tiled(reg);
    register_graph(reg);
    register_pingpong(reg);
    register_tlb_chase(reg);
    return reg;
  }();
  return r;
}

std::shared_ptr<const SynthKernel> build_kernel(const SyntheticSpec& s) {
  KernelFactory f = registry().find(s.kernel);
  if (!f) {
    std::string known;
    for (const std::string& n : registry().names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown synthetic kernel '" + s.kernel + "' (known: " + known + ")");
  }
  return f(s);
}

namespace {

// One warp: a kernel reference and a position. O(1) state.
class WarpStream final : public hw::IWarpStream {
 public:
  WarpStream(std::shared_ptr<const SynthKernel> k, uint64_t cta, unsigned warp)
      : m_kernel(std::move(k)), m_cta(cta), m_warp(warp), m_len(m_kernel->warp_length(cta, warp)) {}
  bool next(hw::WarpInstr& out) override {
    if (m_pos >= m_len) return false;
    m_kernel->emit(m_cta, m_warp, m_pos++, out);
    return true;
  }

 private:
  std::shared_ptr<const SynthKernel> m_kernel;
  uint64_t m_cta;
  unsigned m_warp;
  uint64_t m_len, m_pos = 0;
};

class Source final : public hw::IKernelSource {
 public:
  explicit Source(std::shared_ptr<const SynthKernel> k) : m_kernel(std::move(k)) {}
  const hw::KernelInfo& info() const override { return m_kernel->info(); }
  bool next_cta(hw::CtaWork& out) override {
    if (m_next >= m_kernel->ctas()) return false;
    const hw::Dim3& g = m_kernel->info().grid;
    const uint64_t c = m_next++;
    out.id.x = static_cast<uint32_t>(c % g.x);
    out.id.y = static_cast<uint32_t>(c / g.x % g.y);
    out.id.z = static_cast<uint32_t>(c / (uint64_t(g.x) * g.y));
    out.warps.clear();
    const unsigned warps = m_kernel->info().warps_per_cta();
    for (unsigned w = 0; w < warps; ++w) out.warps.push_back(std::make_unique<WarpStream>(m_kernel, c, w));
    return true;
  }

 private:
  std::shared_ptr<const SynthKernel> m_kernel;
  uint64_t m_next = 0;
};

}  // namespace
}  // namespace synth

std::unique_ptr<hw::IKernelSource> make_synthetic(const SyntheticSpec& spec) {
  return std::make_unique<synth::Source>(synth::build_kernel(spec));
}

const std::vector<std::string>& synthetic_kernels() { return synth::registry().names(); }

std::vector<SyntheticArray> synthetic_layout(const SyntheticSpec& spec) {
  return synth::build_kernel(spec)->layout();
}

}  // namespace hmmsim::workload
