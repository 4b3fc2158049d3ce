#include "hw/tlb/tlb_set_array.h"

#include <stdexcept>

namespace hmmsim::hw {

TlbSetArray::TlbSetArray(uint32_t entries, uint32_t ways, const std::string& replacement, uint64_t seed) {
  if (ways == 0) ways = entries;
  if (entries == 0 || entries % ways)
    throw std::invalid_argument("TLB entries must be a non-zero multiple of ways");
  m_ways = ways;
  m_sets = entries / ways;
  m_e.resize(entries);
  m_repl = tlb_replacement_registry().make(replacement, ReplacementGeometry{m_sets, m_ways, seed});
}

TlbSetArray::Entry* TlbSetArray::way_of(uint64_t tag, unsigned shift, uint32_t set, uint32_t& way) {
  if (m_ways > kScanWays) {
    auto it = m_index.find(key(tag, shift));
    if (it == m_index.end()) return nullptr;
    way = it->second - set * m_ways;
    return &m_e[it->second];
  }
  Entry* s = &m_e[size_t(set) * m_ways];
  for (uint32_t w = 0; w < m_ways; ++w)
    if (s[w].valid && s[w].tag == tag && s[w].t.shift == shift) {
      way = w;
      return &s[w];
    }
  return nullptr;
}

const Translation* TlbSetArray::find(uint64_t va, unsigned shift) {
  const uint64_t tag = va >> shift;
  const uint32_t set = static_cast<uint32_t>(tag % m_sets);
  uint32_t way = 0;
  Entry* e = way_of(tag, shift, set, way);
  if (!e) return nullptr;
  m_repl->on_hit(set, way);
  return &e->t;
}

void TlbSetArray::drop(uint32_t idx) {
  Entry& e = m_e[idx];
  if (m_ways > kScanWays) m_index.erase(key(e.tag, e.t.shift));
  --m_count[page_size_index(e.t.shift)];
  e.valid = false;
}

bool TlbSetArray::insert(uint64_t va, const Translation& t) {
  const uint64_t tag = va >> t.shift;
  const uint32_t set = static_cast<uint32_t>(tag % m_sets);
  uint32_t way = 0;
  if (Entry* e = way_of(tag, t.shift, set, way)) {  // refill of a cached page
    e->t = t;
    m_repl->on_fill(set, way);
    return false;
  }
  Entry* s = &m_e[size_t(set) * m_ways];
  bool evicted = false;
  way = m_ways;
  for (uint32_t w = 0; w < m_ways && way == m_ways; ++w)
    if (!s[w].valid) way = w;
  if (way == m_ways) {
    way = m_repl->victim(set);
    drop(set * m_ways + way);
    evicted = true;
  }
  s[way] = Entry{tag, true, t};
  ++m_count[page_size_index(t.shift)];
  if (m_ways > kScanWays) m_index[key(tag, t.shift)] = set * m_ways + way;
  m_repl->on_fill(set, way);
  return evicted;
}

uint64_t TlbSetArray::invalidate(uint64_t va, uint64_t bytes) {
  uint64_t n = 0;
  for (uint32_t i = 0; i < m_e.size(); ++i) {
    const Entry& e = m_e[i];
    if (!e.valid) continue;
    const uint64_t lo = e.tag << e.t.shift, hi = lo + e.t.bytes();
    if (bytes == 0 || (lo < va + bytes && va < hi)) {
      drop(i);
      ++n;
    }
  }
  return n;
}

uint64_t TlbSetArray::valid() const {
  uint64_t n = 0;
  for (uint32_t c : m_count) n += c;
  return n;
}

}  // namespace hmmsim::hw
