// random: every lane reads (or, for a write_ratio share of instructions,
// writes) a uniformly random element. Addresses come from a hash of (seed,
// CTA, warp, memory op, lane), so streams are independent of each other and
// of the order they are drained in. One access per thread per element per
// pass, as in a grid-stride loop.
#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload::synth {
namespace {

class Random final : public SynthKernel {
 public:
  explicit Random(const SyntheticSpec& s) : SynthKernel(s) {
    add_array("data", s.footprint, true, s.write_ratio > 0);
    launch(m_elems);
  }

  uint64_t warp_length(uint64_t cta, unsigned warp) const override {
    return m_spec.iterations * gs_steps(cta, warp, m_elems) * (m_c + 1);
  }

  void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& o) const override {
    const Pos p = locate(k, gs_steps(cta, warp, m_elems), 1, m_c);
    const uint32_t mask = gs_mask(cta, warp, m_elems, p.step);
    const uint16_t v = static_cast<uint16_t>(kRegVal + p.step % 4);
    const bool store = is_store(cta, warp, p.mem);
    if (p.sub != 0) return store ? after_store(o, mask, p.body) : after_load(o, p.sub, v, mask, p.body);
    set_mem(o, store ? hw::InstrClass::Store : hw::InstrClass::Load, hw::MemSpace::Global,
            store ? kOpStg : kOpLdg, m_spec.width, mask, p.body);
    if (store)
      set_regs(o, {}, {kRegAddr, kRegAcc});
    else
      set_regs(o, {v}, {kRegAddr});
    for (unsigned i = 0; i < kLanes; ++i)
      if (mask >> i & 1)
        o.addr[i] = m_spec.base_va + hash_of(m_spec.seed, kSaltAddr, cta, warp, p.mem, i) % m_elems * m_spec.width;
  }
};

}  // namespace

void register_random(Registry& r) {
  r.add("random", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<Random>(s);
  });
}

}  // namespace hmmsim::workload::synth
