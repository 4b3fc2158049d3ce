// gemm_tiled: C = A x B for n x n row-major matrices with shared-memory
// tiling. n is the largest multiple of the tile T with A, B and C (each
// n * n * width bytes, page aligned) inside the footprint. One CTA per
// T x T tile of C (grid n/T x n/T, blockIdx.x = tile column), block
// T x T/4 threads; thread (tx, ty) owns C rows ty + r T/4 (r = 0..3),
// column tx. Per k-tile, each warp:
//   4 LDG of A rows and 4 LDG of B rows (coalesced row segments),
//   4 STS of A and 4 STS of B into shared memory,
//   then for each kk < T: LDS B[kk][tx], 4 LDS A[row][kk] (broadcast),
//   and 4 x compute_per_access FFMA into the four C registers;
// at the end 4 STG of C rows. The spec's grid and block are not used.
// There is no barrier instruction in WarpInstr, so the STS/LDS phases are
// not synchronised across warps.
#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload::synth {
namespace {

constexpr uint32_t kRows = 4;               // C rows per thread
constexpr uint32_t kStage = 4 * kRows;      // LDG A, LDG B, STS A, STS B
constexpr uint16_t kRegA = kRegVal;         // R8..R11: A values from global
constexpr uint16_t kRegB = kRegVal + 4;     // R12..R15: B values from global
constexpr uint16_t kRegBs = 16;             // B[kk][tx] from shared
constexpr uint16_t kRegAs = 17;             // R17..R20: A[row][kk] from shared
constexpr uint16_t kRegC = 24;              // R24..R27: C accumulators

class GemmTiled final : public SynthKernel {
 public:
  explicit GemmTiled(const SyntheticSpec& s) : SynthKernel(s), m_t(s.tile) {
    if (m_t < 4 || m_t > 64 || m_t % 4 != 0)
      fail(s, "tile " + std::to_string(m_t) + " must be a multiple of 4 from 4 to 64");
    const uint64_t e = s.width, fp = s.footprint;
    auto need = [&](uint64_t n) { return 3 * ((n * n * e + kPage - 1) / kPage * kPage); };
    uint64_t n = 0;
    while (n < (uint64_t(1) << 32) && need(n + m_t) <= fp) n += m_t;
    if (n == 0)
      fail(s, "footprint " + std::to_string(fp) + " too small for one " + std::to_string(m_t) + "x" +
                  std::to_string(m_t) + " tile of A, B and C (needs " + std::to_string(need(m_t)) + " bytes)");
    m_n = n;
    m_a = add_array("A", n * n * e, true, false);
    m_b = add_array("B", n * n * e, true, false);
    m_cc = add_array("C", n * n * e, false, true);
    const uint32_t tiles = static_cast<uint32_t>(n / m_t);
    launch(hw::Dim3{tiles, tiles, 1}, hw::Dim3{m_t, m_t / 4, 1});
    m_info.shmem_bytes = 2 * m_t * m_t * s.width;
    m_inner = 1 + kRows + kRows * m_c;
    m_per_kt = kStage + uint64_t(m_t) * m_inner;
    m_per_iter = (n / m_t) * m_per_kt + kRows;
  }

  uint64_t warp_length(uint64_t, unsigned) const override { return m_spec.iterations * m_per_iter; }

  void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& o) const override {
    const uint32_t mask = low_mask(warp_lanes(warp));
    const uint64_t trow = cta / (m_n / m_t), tcol = cta % (m_n / m_t);  // tile of C
    const uint64_t w = k % m_per_iter, kt = w / m_per_kt, b = w % m_per_kt;
    const uint32_t q = m_t / 4, e = m_spec.width;
    // Static code: the k-tile loop body is pc 0.., its inner kk loop after
    // the 16 staging instructions, the epilogue after that.
    if (kt == m_n / m_t) {  // epilogue: store the four C rows
      const uint32_t r = static_cast<uint32_t>(b);
      set_mem(o, hw::InstrClass::Store, hw::MemSpace::Global, kOpStg, e, mask, kStage + m_inner + r);
      set_regs(o, {}, {kRegAddr, static_cast<uint16_t>(kRegC + r)});
      return lanes(o, warp, [&](uint64_t tx, uint64_t ty) {
        return m_spec.base_va + m_cc + ((trow * m_t + ty + r * q) * m_n + tcol * m_t + tx) * e;
      });
    }
    if (b < kStage) {
      const uint32_t r = static_cast<uint32_t>(b % kRows);
      const bool is_b = b / kRows % 2 == 1;
      const uint16_t reg = static_cast<uint16_t>((is_b ? kRegB : kRegA) + r);
      if (b < 2 * kRows) {  // global tile loads
        set_mem(o, hw::InstrClass::Load, hw::MemSpace::Global, kOpLdg, e, mask, static_cast<uint32_t>(b));
        set_regs(o, {reg}, {kRegAddr});
        return lanes(o, warp, [&](uint64_t tx, uint64_t ty) {
          const uint64_t row = ty + r * q;
          return m_spec.base_va + (is_b ? m_b + ((kt * m_t + row) * m_n + tcol * m_t + tx) * e
                                        : m_a + ((trow * m_t + row) * m_n + kt * m_t + tx) * e);
        });
      }
      set_mem(o, hw::InstrClass::Store, hw::MemSpace::Shared, kOpSts, e, mask, static_cast<uint32_t>(b));
      set_regs(o, {}, {kRegShm, reg});
      return lanes(o, warp, [&](uint64_t tx, uint64_t ty) {
        return (is_b ? uint64_t(m_t) * m_t * e : 0) + ((ty + r * q) * m_t + tx) * e;
      });
    }
    const uint64_t kk = (b - kStage) / m_inner;
    const uint32_t s = static_cast<uint32_t>((b - kStage) % m_inner), body = kStage + s;
    if (s == 0) {  // B[kk][tx]: one row of the B tile
      set_mem(o, hw::InstrClass::Load, hw::MemSpace::Shared, kOpLds, e, mask, body);
      set_regs(o, {kRegBs}, {kRegShm});
      return lanes(o, warp, [&](uint64_t tx, uint64_t) { return (uint64_t(m_t) * m_t + kk * m_t + tx) * e; });
    }
    if (s <= kRows) {  // A[row][kk]: the same word for all lanes of a row
      const uint32_t r = s - 1;
      set_mem(o, hw::InstrClass::Load, hw::MemSpace::Shared, kOpLds, e, mask, body);
      set_regs(o, {static_cast<uint16_t>(kRegAs + r)}, {kRegShm});
      return lanes(o, warp, [&](uint64_t, uint64_t ty) { return ((ty + r * q) * m_t + kk) * e; });
    }
    const uint32_t r = (s - 1 - kRows) / m_c;  // compute_per_access FFMAs per C register
    const uint16_t c = static_cast<uint16_t>(kRegC + r);
    set_compute(o, kOpFfma, mask, body, c, {static_cast<uint16_t>(kRegAs + r), kRegBs, c});
  }

 private:
  template <class F>
  void lanes(hw::WarpInstr& o, unsigned warp, F addr) const {
    for (unsigned i = 0; i < warp_lanes(warp); ++i) {
      const uint64_t l = uint64_t(warp) * kLanes + i;  // thread index in the block
      o.addr[i] = addr(l % m_t, l / m_t);
    }
  }

  uint32_t m_t;
  uint64_t m_n = 0, m_a = 0, m_b = 0, m_cc = 0;
  uint32_t m_inner = 0;                // instructions per kk
  uint64_t m_per_kt = 0, m_per_iter = 0;
};

}  // namespace

void register_gemm_tiled(Registry& r) {
  r.add("gemm_tiled", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<GemmTiled>(s);
  });
}

}  // namespace hmmsim::workload::synth
