#pragma once
// Set-associative storage of translations, shared by the TLB organisations.
// An entry's tag is its VA shifted by its own page size, so pages of
// different sizes may share one array (the set comes from that tag).
// Wide sets (fully associative TLBs of hundreds of entries) keep a hash
// index so that a lookup does not scan every way.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "hw/tlb/tlb_replacement.h"
#include "hw/tlb/translation.h"

namespace hmmsim::hw {

class TlbSetArray {
 public:
  // ways == 0: fully associative. Throws std::invalid_argument on a bad
  // geometry or an unknown replacement name.
  TlbSetArray(uint32_t entries, uint32_t ways, const std::string& replacement, uint64_t seed);

  // The entry of size 2^shift covering `va`, or null; a hit updates the
  // replacement state.
  const Translation* find(uint64_t va, unsigned shift);
  // Returns true if a valid entry of another page was evicted.
  bool insert(uint64_t va, const Translation& t);
  // Drops entries overlapping [va, va + bytes); bytes == 0 drops all.
  uint64_t invalidate(uint64_t va, uint64_t bytes);
  uint64_t valid() const;
  uint32_t count(unsigned size_index) const { return m_count[size_index]; }
  uint32_t entries() const { return static_cast<uint32_t>(m_e.size()); }

 private:
  struct Entry {
    uint64_t tag = 0;
    bool valid = false;
    Translation t;
  };
  static constexpr uint32_t kScanWays = 16;  // wider sets use the hash index
  static uint64_t key(uint64_t tag, unsigned shift) { return (tag << 2) | page_size_index(shift); }
  Entry* way_of(uint64_t tag, unsigned shift, uint32_t set, uint32_t& way);
  void drop(uint32_t idx);

  uint32_t m_sets, m_ways;
  std::vector<Entry> m_e;
  std::unique_ptr<ITlbReplacement> m_repl;
  std::unordered_map<uint64_t, uint32_t> m_index;  // wide sets only
  uint32_t m_count[kPageSizes] = {};
};

// A lookup as both organisations make it: one probe per page size that has
// entries, smallest first, in the array `array_of(size index)`; counts the
// hit (by size) or the miss in `c`.
template <class Counters, class ArrayOf>
const Translation* probe_sizes(Counters& c, uint64_t va, ArrayOf array_of) {
  for (unsigned i = 0; i < kPageSizes; ++i) {
    TlbSetArray& a = array_of(i);
    if (!a.count(i)) continue;
    if (const Translation* t = a.find(va, kPageShifts[i])) {
      ++c.hits;
      ++c.hits_by_size[i];
      return t;
    }
  }
  ++c.misses;
  return nullptr;
}

}  // namespace hmmsim::hw
