#include "hw/dram/dram_address_map.h"

namespace hmmsim::hw {

DramAddressMap::DramAddressMap(const DramSpec& s)
    : m_map(s.mapping),
      m_channels(s.channels),
      m_banks(s.banks_per_channel),
      m_groups(s.bank_groups),
      m_row(s.row_bytes),
      m_chunk(s.interleave_bytes),
      m_burst(s.burst_bytes) {}

DramLocation DramAddressMap::decode(uint64_t pa) const {
  const uint64_t chunk = pa / m_chunk, off = pa % m_chunk;
  const uint64_t per_row = m_row / m_chunk;  // chunks in one row
  switch (m_map) {
    case DramMapping::RoBaCoCh: {
      const uint64_t in_ch = (chunk / m_channels) * m_chunk + off;
      const uint64_t row_global = in_ch / m_row;
      return {uint32_t(chunk % m_channels), uint32_t(row_global % m_banks), int64_t(row_global / m_banks)};
    }
    case DramMapping::RoCoBaCh: {
      const uint64_t k = chunk / m_channels;  // the channel's own chunk number
      return {uint32_t(chunk % m_channels), uint32_t(k % m_banks), int64_t(k / m_banks / per_row)};
    }
    case DramMapping::RoBaChCo: {
      const uint64_t r = chunk / per_row;  // rows of chunks, rotating over channels
      return {uint32_t(r % m_channels), uint32_t(r / m_channels % m_banks), int64_t(r / m_channels / m_banks)};
    }
    case DramMapping::RoBaCoChBg: {
      // A chunk's bursts go to bank groups in turn (same bank index within
      // the group, same row), so a set of bank_groups banks shares each row.
      const uint64_t in_ch = (chunk / m_channels) * m_chunk + off;
      const uint64_t group = (off / m_burst) % m_groups;
      const uint64_t set = in_ch / (m_row * m_groups), sets = m_banks / m_groups;
      return {uint32_t(chunk % m_channels), uint32_t((set % sets) * m_groups + group), int64_t(set / sets)};
    }
  }
  return {0, 0, 0};
}

}  // namespace hmmsim::hw
