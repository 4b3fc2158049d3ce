// strided: consecutive threads are `stride` bytes apart, as when threads
// walk down the columns of a row-major matrix whose rows are `stride`
// bytes: thread u reads row u % R, element u / R of that row (R = rows =
// footprint / stride). For the first R threads this is base + u * stride;
// the column shift after each wrap makes a pass touch every element once
// instead of the first element of each row R-fold. Poorly coalesced: a
// warp touches up to 32 lines and, for stride >= 4 KiB, up to 32 pages.
#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload::synth {
namespace {

class Strided final : public SynthKernel {
 public:
  explicit Strided(const SyntheticSpec& s) : SynthKernel(s) {
    if (s.stride < s.width || s.stride % s.width != 0 || s.stride > s.footprint)
      fail(s, "stride " + std::to_string(s.stride) + " must be a multiple of width " + std::to_string(s.width) +
                  " and at most footprint " + std::to_string(s.footprint));
    m_rows = s.footprint / s.stride;
    m_units = m_rows * (s.stride / s.width);
    add_array("data", m_rows * s.stride, true, s.write_ratio > 0);
    launch(m_units);
  }

  uint64_t warp_length(uint64_t cta, unsigned warp) const override { return gs_length(cta, warp, m_units); }

  void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& o) const override {
    emit_gs(cta, warp, k, m_units, true, o, [this](uint64_t c, unsigned w, unsigned lane, const Pos& p) {
      const uint64_t u = gs_unit(c, w, lane, p.step);
      return m_spec.base_va + u % m_rows * m_spec.stride + u / m_rows * m_spec.width;
    });
  }

 private:
  uint64_t m_rows = 0, m_units = 0;
};

}  // namespace

void register_strided(Registry& r) {
  r.add("strided", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<Strided>(s);
  });
}

}  // namespace hmmsim::workload::synth
