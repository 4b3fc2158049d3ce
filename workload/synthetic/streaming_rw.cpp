// streaming_rw: out[i] = f(in[i]) over two equal arrays, grid-stride; the
// store reads the register the load wrote, so it waits for the load.
#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload::synth {
namespace {

class StreamingRw final : public SynthKernel {
 public:
  explicit StreamingRw(const SyntheticSpec& s) : SynthKernel(s) {
    // Halves rounded down to whole pages, so no page is shared by both.
    const uint64_t half = s.footprint / 2 / kPage * kPage;
    if (half == 0) fail(s, "footprint " + std::to_string(s.footprint) + " too small: needs 8192 bytes (in and out)");
    m_in = add_array("in", half, true, false);
    m_out = add_array("out", half, false, true);
    m_units = half / s.width;
    launch(m_units);
  }

  uint64_t warp_length(uint64_t cta, unsigned warp) const override {
    return gs_length(cta, warp, m_units, 2);
  }

  void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& o) const override {
    const Pos p = locate(k, gs_steps(cta, warp, m_units), 2, m_c);
    const uint32_t mask = gs_mask(cta, warp, m_units, p.step);
    const uint16_t v = static_cast<uint16_t>(kRegVal + p.step % 4);
    if (p.sub != 0) {
      // f applied in place on the loaded value; after the store, the index step.
      if (p.op == 0) return set_compute(o, kOpFfma, mask, p.body, v, {v});
      return after_store(o, mask, p.body);
    }
    const bool store = p.op == 1;
    set_mem(o, store ? hw::InstrClass::Store : hw::InstrClass::Load, hw::MemSpace::Global,
            store ? kOpStg : kOpLdg, m_spec.width, mask, p.body);
    if (store)
      set_regs(o, {}, {kRegAddr, v});
    else
      set_regs(o, {v}, {kRegAddr});
    const uint64_t base = m_spec.base_va + (store ? m_out : m_in);
    for (unsigned i = 0; i < kLanes; ++i)
      if (mask >> i & 1) o.addr[i] = base + gs_unit(cta, warp, i, p.step) * m_spec.width;
  }

 private:
  uint64_t m_in = 0, m_out = 0, m_units = 0;
};

}  // namespace

void register_streaming_rw(Registry& r) {
  r.add("streaming_rw", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<StreamingRw>(s);
  });
}

}  // namespace hmmsim::workload::synth
