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

class DramAddressMap {
 public:
  explicit DramAddressMap(const DramSpec& s);
  DramLocation decode(uint64_t pa) const;
  uint32_t group_of(uint32_t bank) const { return bank % m_groups; }

 private:
  DramMapping m_map;
  uint64_t m_channels, m_banks, m_groups, m_row, m_chunk, m_burst;
};

}  // namespace hmmsim::hw
