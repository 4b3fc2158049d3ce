#include "hw/gmmu/translation_path.h"

#include <stdexcept>

namespace hmmsim::hw {

std::optional<common::SpecError> TlbHierarchySpec::validate() const {
  auto in = [](const char* level, std::optional<common::SpecError> e) -> std::optional<common::SpecError> {
    if (e) e->key = std::string(level) + "." + e->key;
    return e;
  };
  if (auto e = in("l1", l1.validate())) return e;
  if (l15_enabled) {
    if (l15_cluster == 0) return common::SpecError{"l15.cluster", "must be at least 1"};
    if (auto e = in("l15", l15.validate())) return e;
  }
  if (l2_enabled)
    if (auto e = in("l2", l2.validate())) return e;
  return std::nullopt;
}

TlbLevel::TlbLevel(const TlbSpec& s, double cycle_ns)
    : spec(s), tlb(make_tlb(s)), mshr(s.mshrs), port(cycle_ns, s.lookups_per_cycle), hit_ns(s.hit_cycles * cycle_ns) {}

TranslationPath::TranslationPath(const TlbHierarchySpec& spec, const WalkerSpec& walker, unsigned utlbs,
                                 double cycle_ns, ITableMemory& mem)
    : m_spec(spec), m_walker(walker, cycle_ns, mem) {
  if (auto e = spec.validate()) throw std::invalid_argument("TLB hierarchy " + e->key + ": " + e->message);
  for (unsigned i = 0; i < utlbs; ++i) {
    TlbSpec s = spec.l1;
    s.seed += i;  // random replacement: each SM its own stream
    m_l1.push_back(std::make_unique<TlbLevel>(s, cycle_ns));
  }
  if (spec.l15_enabled)
    for (unsigned i = 0; i < (utlbs + spec.l15_cluster - 1) / spec.l15_cluster; ++i)
      m_l15.push_back(std::make_unique<TlbLevel>(spec.l15, cycle_ns));
  if (spec.l2_enabled) m_l2 = std::make_unique<TlbLevel>(spec.l2, cycle_ns);
}

XlateResult TranslationPath::translate(unsigned utlb, uint64_t va, Access a, double t) {
  Hop chain[3];
  unsigned n = 0;
  chain[n++] = {m_l1[utlb].get(), XlateLevel::L1};
  if (!m_l15.empty()) chain[n++] = {m_l15[utlb / m_spec.l15_cluster].get(), XlateLevel::L15};
  if (m_l2) chain[n++] = {m_l2.get(), XlateLevel::L2};
  return descend(chain, n, 0, va, a, t);
}

XlateResult TranslationPath::descend(const Hop* chain, unsigned n, unsigned i, uint64_t va, Access a, double t) {
  TlbLevel& L = *chain[i].level;
  const XlateLevel here = chain[i].kind;
  // The private L1's port is modelled by its SM (pages of one instruction
  // start lookups_per_cycle at a time); shared levels count per cycle.
  if (i > 0) t = L.port.reserve(t);
  t += L.hit_ns;
  if (const Translation* e = L.tlb->lookup(va)) {
    // The entry is there, but its fill may still be on its way.
    const double ready = L.mshr.pending(va, t);
    if (ready > t) {
      ++L.s_merges;
      t = ready;
    }
    if (e->permits(a)) return XlateResult{true, *e, hwref::FaultType::InvalidPte, here, t};
    // Cached without the permission asked for: the PTE may have been
    // upgraded since, so look further down (the driver invalidates too).
    L.tlb->invalidate(va & ~(e->bytes() - 1), e->bytes());
  } else if (const double ready = L.mshr.pending(va, t); ready > t) {
    // A miss to a page whose walk is in flight (it faulted, or its entry
    // was already evicted): wait for it, then try on our own.
    ++L.s_merges;
    t = ready;
  }
  const uint64_t id = L.mshr.allocate(va, t);
  XlateResult r;
  if (i + 1 < n) {
    r = descend(chain, n, i + 1, va, a, t);
  } else {
    WalkResult w = m_walker.walk(va, t);
    r = XlateResult{w.valid, w.t, w.fault, XlateLevel::Walk, t};
  }
  if (r.valid) L.tlb->insert(va, r.t);
  const unsigned shift = r.valid ? r.t.shift : 12;
  L.mshr.complete(id, va & ~((1ull << shift) - 1), shift, r.done);
  return r;
}

void TranslationPath::invalidate(uint64_t va, uint64_t bytes, bool directories) {
  for (auto& l : m_l1) l->tlb->invalidate(va, bytes);
  for (auto& l : m_l15) l->tlb->invalidate(va, bytes);
  if (m_l2) m_l2->tlb->invalidate(va, bytes);
  if (directories) m_walker.pwc().invalidate(va, bytes);
}

}  // namespace hmmsim::hw
