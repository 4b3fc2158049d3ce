#pragma once
// Physical address -> channel, bank, row under a DramSpec's mapping (the
// orders are drawn in docs/vram.md). Bank indices run bank group fastest:
// bank b is in group b % bank_groups, so consecutive banks alternate groups.
#include <cstdint>

#include "hw/dram/dram_spec.h"

namespace hmmsim::hw {

struct DramLocation {
  uint32_t channel;
  uint32_t bank;  // 0 .. banks_per_channel - 1
  int64_t row;
};

// Division by a geometry number, a shift and a mask when it is a power of
// two (it nearly always is): decode runs once per line access.
class DramDivisor {
 public:
  explicit DramDivisor(uint64_t d) : m_d(d), m_pow2(d && !(d & (d - 1))), m_shift(m_pow2 ? __builtin_ctzll(d) : 0) {}
  uint64_t value() const { return m_d; }
  uint64_t div(uint64_t x) const { return m_pow2 ? x >> m_shift : x / m_d; }
  uint64_t mod(uint64_t x) const { return m_pow2 ? x & (m_d - 1) : x % m_d; }

 private:
  uint64_t m_d;
  bool m_pow2;
  unsigned m_shift;
};

class DramAddressMap {
 public:
  explicit DramAddressMap(const DramSpec& s);
  DramLocation decode(uint64_t pa) const;
  uint32_t group_of(uint32_t bank) const { return uint32_t(m_groups.mod(bank)); }

 private:
  DramMapping m_map;
  DramDivisor m_channels, m_banks, m_groups, m_row, m_chunk, m_burst, m_per_row, m_sets, m_set_bytes;
};

}  // namespace hmmsim::hw
