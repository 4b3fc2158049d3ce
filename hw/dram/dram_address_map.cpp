#include "hw/dram/dram_address_map.h"

namespace hmmsim::hw {

DramAddressMap::DramAddressMap(const DramSpec& s)
    : m_map(s.mapping),
      m_channels(s.channels),
      m_banks(s.banks_per_channel),
      m_groups(s.bank_groups),
      m_row(s.row_bytes),
      m_chunk(s.interleave_bytes),
      m_burst(s.burst_bytes),
      m_per_row(s.row_bytes / s.interleave_bytes),  // chunks in one row
      m_sets(s.bank_groups ? s.banks_per_channel / s.bank_groups : 0),
      m_set_bytes(uint64_t(s.row_bytes) * s.bank_groups) {}

DramLocation DramAddressMap::decode(uint64_t pa) const {
  const uint64_t chunk = m_chunk.div(pa), off = m_chunk.mod(pa);
  switch (m_map) {
    case DramMapping::RoBaCoCh: {
      const uint64_t in_ch = m_channels.div(chunk) * m_chunk.value() + off;
      const uint64_t row_global = m_row.div(in_ch);
      return {uint32_t(m_channels.mod(chunk)), uint32_t(m_banks.mod(row_global)), int64_t(m_banks.div(row_global))};
    }
    case DramMapping::RoCoBaCh: {
      const uint64_t k = m_channels.div(chunk);  // the channel's own chunk number
      return {uint32_t(m_channels.mod(chunk)), uint32_t(m_banks.mod(k)), int64_t(m_per_row.div(m_banks.div(k)))};
    }
    case DramMapping::RoBaChCo: {
      const uint64_t r = m_per_row.div(chunk);  // rows of chunks, rotating over channels
      return {uint32_t(m_channels.mod(r)), uint32_t(m_banks.mod(m_channels.div(r))),
              int64_t(m_banks.div(m_channels.div(r)))};
    }
    case DramMapping::RoBaCoChBg: {
      // A chunk's bursts go to bank groups in turn (same bank index within
      // the group, same row), so a set of bank_groups banks shares each row.
      const uint64_t in_ch = m_channels.div(chunk) * m_chunk.value() + off;
      const uint64_t group = m_groups.mod(m_burst.div(off));
      const uint64_t set = m_set_bytes.div(in_ch);
      return {uint32_t(m_channels.mod(chunk)), uint32_t(m_sets.mod(set) * m_groups.value() + group),
              int64_t(m_sets.div(set))};
    }
  }
  return {0, 0, 0};
}

}  // namespace hmmsim::hw
