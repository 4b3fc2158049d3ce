// pingpong: the GPU side of a page ping-pong. Every warp, in each pass,
// loads and then stores a word in every page of the (small) footprint, in
// page order; thread t uses element t of each page (modulo the page), so
// with the automatic grid one pass covers each page's elements exactly
// once. A CPU thread, modelled elsewhere, touches the same pages meanwhile.
#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload::synth {
namespace {

class Pingpong final : public SynthKernel {
 public:
  explicit Pingpong(const SyntheticSpec& s) : SynthKernel(s) {
    add_array("pages", s.footprint, true, true);
    m_pages = s.footprint / kPage;
    launch(kPage / s.width);
  }

  uint64_t warp_length(uint64_t, unsigned) const override {
    return m_spec.iterations * m_pages * 2 * (m_c + 1);
  }

  void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& o) const override {
    const Pos p = locate(k, m_pages, 2, m_c);  // step = page
    const uint32_t mask = low_mask(warp_lanes(warp));
    const bool store = p.op == 1;
    if (p.sub != 0) {
      // v + 1 in place after the load; index arithmetic after the store.
      if (!store) return set_compute(o, kOpFfma, mask, p.body, kRegVal, {kRegVal});
      return after_store(o, mask, p.body);
    }
    set_mem(o, store ? hw::InstrClass::Store : hw::InstrClass::Load, hw::MemSpace::Global,
            store ? kOpStg : kOpLdg, m_spec.width, mask, p.body);
    if (store)
      set_regs(o, {}, {kRegAddr, kRegVal});
    else
      set_regs(o, {kRegVal}, {kRegAddr});
    const uint64_t page = m_spec.base_va + p.step * kPage;
    for (unsigned i = 0; i < kLanes; ++i)
      if (mask >> i & 1) o.addr[i] = page + (first_thread(cta, warp) + i) * m_spec.width % kPage;
  }

 private:
  uint64_t m_pages = 0;
};

}  // namespace

void register_pingpong(Registry& r) {
  r.add("pingpong", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<Pingpong>(s);
  });
}

}  // namespace hmmsim::workload::synth
