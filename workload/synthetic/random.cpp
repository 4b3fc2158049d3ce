// random: every lane reads (or, for a write_ratio share of instructions,
// writes) a uniformly random element. Addresses come from a hash of (seed,
// CTA, warp, memory op, lane), so streams are independent of each other and
// of the order they are drained in. One access per thread per element per
// pass, as in a grid-stride loop; or `accesses` lanes a pass, each at a
// random element, to sample a large footprint sparsely.
#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload::synth {
namespace {

class Random final : public SynthKernel {
 public:
  explicit Random(const SyntheticSpec& s) : SynthKernel(s) {
    add_array("data", s.footprint, true, s.write_ratio > 0);
    m_lanes = s.accesses ? s.accesses : m_elems;
    launch(m_lanes);
  }

  uint64_t warp_length(uint64_t cta, unsigned warp) const override { return gs_length(cta, warp, m_lanes); }

  void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& o) const override {
    emit_gs(cta, warp, k, m_lanes, true, o, [this](uint64_t c, unsigned w, unsigned lane, const Pos& p) {
      return m_spec.base_va + hash_of(m_spec.seed, kSaltAddr, c, w, p.mem, lane) % m_elems * m_spec.width;
    });
  }

 private:
  uint64_t m_lanes = 0;
};

}  // namespace

void register_random(Registry& r) {
  r.add("random", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<Random>(s);
  });
}

}  // namespace hmmsim::workload::synth
