// streaming_read: a grid-stride loop reading every element once per pass;
// consecutive lanes read consecutive elements (fully coalesced).
#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload::synth {
namespace {

class StreamingRead final : public SynthKernel {
 public:
  explicit StreamingRead(const SyntheticSpec& s) : SynthKernel(s) {
    add_array("data", s.footprint, true, false);
    launch(m_elems);
  }

  uint64_t warp_length(uint64_t cta, unsigned warp) const override {
    return m_spec.iterations * gs_steps(cta, warp, m_elems) * (m_c + 1);
  }

  void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& o) const override {
    const Pos p = locate(k, gs_steps(cta, warp, m_elems), 1, m_c);
    const uint32_t mask = gs_mask(cta, warp, m_elems, p.step);
    const uint16_t v = static_cast<uint16_t>(kRegVal + p.step % 4);
    if (p.sub != 0) return after_load(o, p.sub, v, mask, p.body);
    set_mem(o, hw::InstrClass::Load, hw::MemSpace::Global, kOpLdg, m_spec.width, mask, p.body);
    set_regs(o, {v}, {kRegAddr});
    for (unsigned i = 0; i < kLanes; ++i)
      if (mask >> i & 1) o.addr[i] = m_spec.base_va + gs_unit(cta, warp, i, p.step) * m_spec.width;
  }
};

}  // namespace

void register_streaming_read(Registry& r) {
  r.add("streaming_read", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<StreamingRead>(s);
  });
}

}  // namespace hmmsim::workload::synth
