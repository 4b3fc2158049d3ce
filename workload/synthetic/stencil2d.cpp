// stencil2d: a 5-point stencil on an nx x ny grid, out = f(in). Each
// thread takes one point per grid-stride step (consecutive threads along
// x, so every load is a coalesced row segment): loads of the centre, north
// (y - 1), south (y + 1), east (x + 1) and west (x - 1) neighbours,
// clamped at the edges, then one store. nx is the largest multiple of 32
// with nx * nx <= the elements of half the footprint (at least 32), and ny
// as many rows as fit.
#include <algorithm>
#include <cmath>

#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload::synth {
namespace {

constexpr uint32_t kLoads = 5;

uint64_t isqrt(uint64_t v) {
  uint64_t r = static_cast<uint64_t>(std::sqrt(static_cast<double>(v)));
  while (r * r > v) --r;
  while ((r + 1) * (r + 1) <= v) ++r;
  return r;
}

class Stencil2d final : public SynthKernel {
 public:
  explicit Stencil2d(const SyntheticSpec& s) : SynthKernel(s) {
    const uint64_t half = s.footprint / 2 / kPage * kPage;
    if (half == 0) fail(s, "footprint " + std::to_string(s.footprint) + " too small: needs 8192 bytes (in and out)");
    const uint64_t cells = half / s.width;
    m_nx = std::max<uint64_t>(32, isqrt(cells) / 32 * 32);
    m_ny = cells / m_nx;
    m_in = add_array("in", m_nx * m_ny * s.width, true, false);
    m_out = add_array("out", m_nx * m_ny * s.width, false, true);
    launch(m_nx * m_ny);
  }

  uint64_t warp_length(uint64_t cta, unsigned warp) const override {
    return gs_length(cta, warp, m_nx * m_ny, kLoads + 1);
  }

  void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& o) const override {
    const uint64_t points = m_nx * m_ny;
    const Pos p = locate(k, gs_steps(cta, warp, points), kLoads + 1, m_c);
    const uint32_t mask = gs_mask(cta, warp, points, p.step);
    const bool store = p.op == kLoads;
    const uint16_t v = static_cast<uint16_t>(kRegVal + p.op);
    if (p.sub != 0) return store ? after_store(o, mask, p.body) : after_load(o, p.sub, v, mask, p.body);
    set_mem(o, store ? hw::InstrClass::Store : hw::InstrClass::Load, hw::MemSpace::Global,
            store ? kOpStg : kOpLdg, m_spec.width, mask, p.body);
    if (!store)
      set_regs(o, {v}, {kRegAddr});
    else if (m_c > 0)
      set_regs(o, {}, {kRegAddr, kRegAcc});  // the accumulator has folded in all five loads
    else
      set_regs(o, {}, {kRegAddr, kRegVal, kRegVal + 1, kRegVal + 2, kRegVal + 3, kRegVal + 4});
    for (unsigned i = 0; i < kLanes; ++i) {
      if (!(mask >> i & 1)) continue;
      const uint64_t pt = gs_unit(cta, warp, i, p.step);
      uint64_t x = pt % m_nx, y = pt / m_nx;
      switch (p.op) {
        case 1: y = y == 0 ? 0 : y - 1; break;                // north
        case 2: y = y + 1 == m_ny ? y : y + 1; break;         // south
        case 3: x = x + 1 == m_nx ? x : x + 1; break;         // east
        case 4: x = x == 0 ? 0 : x - 1; break;                // west
        default: break;                                        // centre, and the store
      }
      o.addr[i] = m_spec.base_va + (store ? m_out : m_in) + (y * m_nx + x) * m_spec.width;
    }
  }

 private:
  uint64_t m_nx = 0, m_ny = 0, m_in = 0, m_out = 0;
};

}  // namespace

void register_stencil2d(Registry& r) {
  r.add("stencil2d", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<Stencil2d>(s);
  });
}

}  // namespace hmmsim::workload::synth
