#include "hw/tlb.h"

#include <stdexcept>

namespace hmmsim::hw {

Tlb::Tlb(const TlbSpec& spec) : m_spec(spec), m_sets(spec.ways ? spec.entries / spec.ways : 0) {
  if (spec.ways == 0 || spec.entries == 0 || spec.entries % spec.ways)
    throw std::invalid_argument("TLB entries must be a non-zero multiple of ways");
  m_e.resize(spec.entries);
}

std::optional<Translation> Tlb::lookup(uint64_t vpn) {
  Entry* set = &m_e[(vpn % m_sets) * m_spec.ways];
  for (uint32_t w = 0; w < m_spec.ways; ++w)
    if (set[w].valid && set[w].vpn == vpn) {
      set[w].lru = ++m_tick;
      ++s_hits;
      return set[w].t;
    }
  ++s_misses;
  return std::nullopt;
}

void Tlb::insert(uint64_t vpn, const Translation& t) {
  Entry* set = &m_e[(vpn % m_sets) * m_spec.ways];
  Entry* victim = &set[0];
  for (uint32_t w = 0; w < m_spec.ways; ++w) {
    if (set[w].valid && set[w].vpn == vpn) {
      victim = &set[w];
      break;
    }
    if (!set[w].valid) {
      if (victim->valid) victim = &set[w];
    } else if (victim->valid && set[w].lru < victim->lru) {
      victim = &set[w];
    }
  }
  if (victim->valid && victim->vpn != vpn) ++s_evictions;
  *victim = Entry{true, vpn, ++m_tick, t};
}

void Tlb::invalidate(uint64_t vpn, uint64_t pages) {
  for (auto& e : m_e)
    if (e.valid && (pages == 0 || (e.vpn >= vpn && e.vpn - vpn < pages))) {
      e.valid = false;
      ++s_invalidated;
    }
}

uint64_t Tlb::valid_entries() const {
  uint64_t n = 0;
  for (auto& e : m_e) n += e.valid;
  return n;
}

}  // namespace hmmsim::hw
