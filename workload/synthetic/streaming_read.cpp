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

  uint64_t warp_length(uint64_t cta, unsigned warp) const override { return gs_length(cta, warp, m_elems); }

  void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& o) const override {
    emit_gs(cta, warp, k, m_elems, false, o, [this](uint64_t c, unsigned w, unsigned lane, const Pos& p) {
      return m_spec.base_va + gs_unit(c, w, lane, p.step) * m_spec.width;
    });
  }
};

}  // namespace

void register_streaming_read(Registry& r) {
  r.add("streaming_read", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<StreamingRead>(s);
  });
}

}  // namespace hmmsim::workload::synth
