#pragma once
// Set-associative TLB with LRU replacement: a plain C++ core (no SystemC),
// so it is testable on its own and cheap on the hit path.
#include <cstdint>
#include <optional>
#include <vector>

namespace hmmsim::hw {

struct TlbSpec {
  uint32_t entries = 64;
  uint32_t ways = 4;
  uint32_t hit_cycles = 1;
};

struct Translation {
  uint64_t pa = 0;       // page frame address
  uint8_t aperture = 0;  // hwref::pt::Aperture
  bool writable = false;
};

class Tlb {
 public:
  explicit Tlb(const TlbSpec& spec);
  const TlbSpec& spec() const { return m_spec; }
  // Looks up the 4 KiB page number; updates LRU and hit/miss counts.
  std::optional<Translation> lookup(uint64_t vpn);
  void insert(uint64_t vpn, const Translation& t);
  // Drops entries with vpn in [vpn, vpn + pages); pages == 0 flushes all.
  void invalidate(uint64_t vpn, uint64_t pages);
  uint64_t valid_entries() const;

  uint64_t s_hits = 0, s_misses = 0, s_evictions = 0, s_invalidated = 0;

 private:
  struct Entry {
    bool valid = false;
    uint64_t vpn = 0;
    uint64_t lru = 0;
    Translation t;
  };
  const TlbSpec m_spec;
  uint32_t m_sets;
  std::vector<Entry> m_e;
  uint64_t m_tick = 0;
};

}  // namespace hmmsim::hw
