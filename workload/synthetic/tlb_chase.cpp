// tlb_chase: the classic TLB microbenchmark (Saavedra & Smith; Mei & Chu;
// Karnagel et al.). One thread (one warp, one active lane) makes a
// dependent chain of loads: hop i reads base + (i * stride mod footprint),
// and each load's address register is the previous load's destination, so
// nothing overlaps and every hop exposes its whole latency, translation
// included. A pass is footprint / stride hops; `iterations` passes.
// Swept over footprints at a fixed stride, the time per hop steps up where
// the pages touched outgrow a TLB level (docs/translation.md). The launch
// is always one CTA of one thread: grid and block are not used.
#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload::synth {
namespace {

class TlbChase final : public SynthKernel {
 public:
  explicit TlbChase(const SyntheticSpec& s) : SynthKernel(s) {
    if (s.stride < s.width || s.stride % s.width != 0 || s.stride > s.footprint || s.footprint % s.stride != 0)
      fail(s, "stride " + std::to_string(s.stride) + " must be a multiple of width " + std::to_string(s.width) +
                  " and divide footprint " + std::to_string(s.footprint));
    m_hops = s.footprint / s.stride;
    add_array("chain", s.footprint, true, false);
    launch(hw::Dim3{1, 1, 1}, hw::Dim3{1, 1, 1});
  }

  uint64_t warp_length(uint64_t, unsigned) const override { return m_spec.iterations * m_hops * (m_c + 1); }

  void emit(uint64_t, unsigned, uint64_t k, hw::WarpInstr& o) const override {
    const Pos p = locate(k, m_hops, 1, m_c);
    if (p.sub != 0) return after_load(o, p.sub, kRegPtr, 1, p.body);
    set_mem(o, hw::InstrClass::Load, hw::MemSpace::Global, kOpLdg, m_spec.width, 1, p.body);
    set_regs(o, {kRegPtr}, {kRegPtr});  // p = *p: the next address waits for this load
    o.addr[0] = m_spec.base_va + p.step * m_spec.stride;  // p.step = i mod hops
  }

 private:
  uint64_t m_hops = 0;  // loads per pass
};

}  // namespace

void register_tlb_chase(Registry& r) {
  r.add("tlb_chase", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<TlbChase>(s);
  });
}

}  // namespace hmmsim::workload::synth
