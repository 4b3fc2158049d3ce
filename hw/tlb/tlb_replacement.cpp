#include "hw/tlb/tlb_replacement.h"

#include <vector>

namespace hmmsim::hw {

namespace {

// Age stamps per way: LRU stamps on hit and fill, FIFO on fill only.
class StampReplacement : public ITlbReplacement {
 public:
  StampReplacement(const ReplacementGeometry& g, bool stamp_hits)
      : m_ways(g.ways), m_stamp(size_t(g.sets) * g.ways, 0), m_stamp_hits(stamp_hits) {}
  void on_hit(uint32_t set, uint32_t way) override {
    if (m_stamp_hits) m_stamp[size_t(set) * m_ways + way] = ++m_tick;
  }
  void on_fill(uint32_t set, uint32_t way) override { m_stamp[size_t(set) * m_ways + way] = ++m_tick; }
  uint32_t victim(uint32_t set) override {
    const uint64_t* s = &m_stamp[size_t(set) * m_ways];
    uint32_t v = 0;
    for (uint32_t w = 1; w < m_ways; ++w)
      if (s[w] < s[v]) v = w;
    return v;
  }

 private:
  uint32_t m_ways;
  std::vector<uint64_t> m_stamp;
  uint64_t m_tick = 0;
  bool m_stamp_hits;
};

// Uniform victim from a seeded xorshift: deterministic for a given seed.
class RandomReplacement : public ITlbReplacement {
 public:
  explicit RandomReplacement(const ReplacementGeometry& g) : m_ways(g.ways), m_state(g.seed * 0x9E3779B97F4A7C15ull | 1) {}
  void on_hit(uint32_t, uint32_t) override {}
  void on_fill(uint32_t, uint32_t) override {}
  uint32_t victim(uint32_t) override {
    m_state ^= m_state << 13;
    m_state ^= m_state >> 7;
    m_state ^= m_state << 17;
    return static_cast<uint32_t>(m_state % m_ways);
  }

 private:
  uint32_t m_ways;
  uint64_t m_state;
};

}  // namespace

TlbReplacementRegistry& tlb_replacement_registry() {
  static TlbReplacementRegistry r = [] {
    TlbReplacementRegistry reg("TLB replacement policy");
    reg.add("lru", [](const ReplacementGeometry& g) { return std::make_unique<StampReplacement>(g, true); });
    reg.add("fifo", [](const ReplacementGeometry& g) { return std::make_unique<StampReplacement>(g, false); });
    reg.add("random", [](const ReplacementGeometry& g) { return std::make_unique<RandomReplacement>(g); });
    return reg;
  }();
  return r;
}

}  // namespace hmmsim::hw
