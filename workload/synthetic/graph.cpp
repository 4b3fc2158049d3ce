// graph: an irregular gather with power-law page popularity, as in a CSR
// traversal. Per edge (grid-stride over the edge list): a coalesced load of
// edges[i], then an access to a vertex whose address depends on it (src =
// the edge load's dst). Each lane picks the vertex page by popularity rank
// drawn from Zipf(zipf_alpha) over the vertex pages, mapped to a page by a
// seeded permutation so hot pages are scattered, and a random element in
// it. The vertex access is a store for a write_ratio share of instructions.
// Layout: edges = a quarter of the footprint (at least a page), vertices
// the rest.
#include <algorithm>
#include <cmath>

#include "workload/synthetic/kernel_base.h"

namespace hmmsim::workload::synth {
namespace {

class Graph final : public SynthKernel {
 public:
  explicit Graph(const SyntheticSpec& s) : SynthKernel(s) {
    if (!(s.zipf_alpha >= 0 && s.zipf_alpha <= 16))
      fail(s, "zipf_alpha " + std::to_string(s.zipf_alpha) + " must be in [0, 16]");
    const uint64_t pages = s.footprint / kPage;
    if (pages < 2) fail(s, "footprint " + std::to_string(s.footprint) + " too small: needs 8192 bytes (edges and vertices)");
    const uint64_t edge_pages = std::max<uint64_t>(1, pages / 4);
    m_vpages = pages - edge_pages;
    m_edges = add_array("edges", edge_pages * kPage, true, false);
    m_vertices = add_array("vertices", m_vpages * kPage, true, s.write_ratio > 0);
    m_units = edge_pages * kPage / s.width;
    m_perm = std::make_unique<Permutation>(m_vpages, s.seed);
    // CDF of rank popularity 1 / (rank + 1)^alpha; O(pages) memory, bounded by the footprint.
    m_cdf.resize(m_vpages);
    double sum = 0;
    for (uint64_t r = 0; r < m_vpages; ++r) m_cdf[r] = sum += std::pow(double(r + 1), -s.zipf_alpha);
    for (double& c : m_cdf) c /= sum;
    m_cdf.back() = 1.0;  // every draw in [0, 1) finds a rank
    launch(m_units);
  }

  uint64_t warp_length(uint64_t cta, unsigned warp) const override {
    return gs_length(cta, warp, m_units, 2);
  }

  void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& o) const override {
    const Pos p = locate(k, gs_steps(cta, warp, m_units), 2, m_c);
    const uint32_t mask = gs_mask(cta, warp, m_units, p.step);
    const uint32_t e = m_spec.width;
    if (p.op == 0) {  // the edge list
      if (p.sub != 0) return set_compute(o, kOpIadd, mask, p.body, kRegIdx, {kRegIdx});  // index -> address
      set_mem(o, hw::InstrClass::Load, hw::MemSpace::Global, kOpLdg, e, mask, p.body);
      set_regs(o, {kRegIdx}, {kRegAddr});
      for (unsigned i = 0; i < kLanes; ++i)
        if (mask >> i & 1) o.addr[i] = m_spec.base_va + m_edges + gs_unit(cta, warp, i, p.step) * e;
      return;
    }
    const bool store = is_store(cta, warp, p.mem);
    const uint16_t v = static_cast<uint16_t>(kRegVal + p.step % 4);
    if (p.sub != 0) return store ? after_store(o, mask, p.body) : after_load(o, p.sub, v, mask, p.body);
    set_mem(o, store ? hw::InstrClass::Store : hw::InstrClass::Load, hw::MemSpace::Global,
            store ? kOpStg : kOpLdg, e, mask, p.body);
    if (store)
      set_regs(o, {}, {kRegIdx, kRegAcc});
    else
      set_regs(o, {v}, {kRegIdx});
    const uint64_t per_page = kPage / e;
    for (unsigned i = 0; i < kLanes; ++i) {
      if (!(mask >> i & 1)) continue;
      const double u = unit_interval(hash_of(m_spec.seed, kSaltPage, cta, warp, p.mem, i));
      const uint64_t rank = static_cast<uint64_t>(std::upper_bound(m_cdf.begin(), m_cdf.end(), u) - m_cdf.begin());
      const uint64_t page = (*m_perm)(rank);
      const uint64_t elem = hash_of(m_spec.seed, kSaltElem, cta, warp, p.mem, i) % per_page;
      o.addr[i] = m_spec.base_va + m_vertices + page * kPage + elem * e;
    }
  }

 private:
  uint64_t m_edges = 0, m_vertices = 0, m_vpages = 0, m_units = 0;
  std::unique_ptr<Permutation> m_perm;
  std::vector<double> m_cdf;
};

}  // namespace

void register_graph(Registry& r) {
  r.add("graph", [](const SyntheticSpec& s) -> std::shared_ptr<const SynthKernel> {
    return std::make_shared<Graph>(s);
  });
}

}  // namespace hmmsim::workload::synth
