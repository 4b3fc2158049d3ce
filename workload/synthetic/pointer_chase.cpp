// pointer_chase: the elements form one cycle in a seeded pseudo-random
// order P (a bijection): element P(q) points to P(q + 1 mod N). Thread t of
// T walks the stretch of that cycle from position floor(t N / T) to the next
// thread's start, so one pass visits every element exactly once, and each
// of its loads takes its address from the one before (src register = the
// previous load's dst). Each pass restarts at the thread's first element.
#include <algorithm>

#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload::synth {
namespace {

__extension__ typedef unsigned __int128 u128;

// With grid.x == 0, one thread per this many elements: a chase needs long
// chains, not one element per thread.
constexpr uint64_t kMinChain = 32;

class PointerChase final : public SynthKernel {
 public:
  explicit PointerChase(const SyntheticSpec& s) : SynthKernel(s), m_perm(m_elems, s.seed) {
    add_array("chain", s.footprint, true, false);
    launch((m_elems + kMinChain - 1) / kMinChain);
  }

  uint64_t warp_length(uint64_t cta, unsigned warp) const override {
    return m_spec.iterations * warp_steps(cta, warp) * (m_c + 1);
  }

  void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& o) const override {
    const Pos p = locate(k, warp_steps(cta, warp), 1, m_c);
    const uint64_t t0 = first_thread(cta, warp);
    const uint32_t lanes = warp_lanes(warp);
    uint32_t mask = 0;
    for (unsigned i = 0; i < lanes; ++i)
      if (start(t0 + i + 1) - start(t0 + i) > p.step) mask |= 1u << i;
    if (p.sub != 0) return after_load(o, p.sub, kRegPtr, mask, p.body);
    set_mem(o, hw::InstrClass::Load, hw::MemSpace::Global, kOpLdg, m_spec.width, mask, p.body);
    set_regs(o, {kRegPtr}, {kRegPtr});  // p = *p
    for (unsigned i = 0; i < kLanes; ++i)
      if (mask >> i & 1) o.addr[i] = m_spec.base_va + m_perm(start(t0 + i) + p.step) * m_spec.width;
  }

 private:
  // Position in the cycle where thread t starts (t may be T: the end).
  uint64_t start(uint64_t t) const { return static_cast<uint64_t>(u128(t) * m_elems / m_threads); }
  uint64_t warp_steps(uint64_t cta, unsigned warp) const {
    const uint64_t t0 = first_thread(cta, warp);
    uint64_t most = 0;
    for (unsigned i = 0; i < warp_lanes(warp); ++i) most = std::max(most, start(t0 + i + 1) - start(t0 + i));
    return most;
  }

  Permutation m_perm;
};

}  // namespace

void register_pointer_chase(Registry& r) {
  r.add("pointer_chase", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<PointerChase>(s);
  });
}

}  // namespace hmmsim::workload::synth
