#include "host/gpu_driver/device_page_table.h"

#include <vector>

namespace hmmsim::host {

namespace pt = hwref::pt;

DevicePageTable::DevicePageTable(DeviceBus& bus, VramAllocator& vram) : m_bus(bus), m_vram(vram) {}

void DevicePageTable::write_entry(uint64_t pa, uint64_t value) { m_bus.vram_write(pa, &value, 8); }

bool DevicePageTable::init() {
  m_root = m_vram.alloc();
  if (m_root == VramAllocator::kNone) return false;
  ++s_tables;
  // Freshly allocated VRAM may hold old bytes: clear the directory.
  std::vector<uint8_t> zero(pt::table_bytes(0), 0);
  m_bus.vram_write(m_root, zero.data(), zero.size());
  return true;
}

uint64_t DevicePageTable::table_for(uint64_t va, bool create) {
  uint64_t table = m_root;
  for (unsigned level = 1; level < pt::kLevels; ++level) {
    const uint64_t key = (uint64_t(level) << 56) | (va >> pt::kLevel[level - 1].lo_bit);
    auto it = m_tables.find(key);
    if (it != m_tables.end()) {
      table = it->second;
      continue;
    }
    if (!create) return VramAllocator::kNone;
    uint64_t next = m_vram.alloc();
    if (next == VramAllocator::kNone) return VramAllocator::kNone;
    ++s_tables;
    std::vector<uint8_t> zero(pt::table_bytes(level), 0);
    m_bus.vram_write(next, zero.data(), zero.size());
    // Link the new table into its parent (PD0 uses the small-page half).
    write_entry(table + pt::entry_offset(level - 1, va), pt::make_pde(next));
    ++s_pde_writes;
    m_tables[key] = next;
    table = next;
  }
  return table;
}

bool DevicePageTable::map(uint64_t va, uint64_t pa, pt::Aperture ap, bool writable) {
  uint64_t table = table_for(va, true);
  if (table == VramAllocator::kNone) return false;
  const uint64_t e = pt::make_pte(pa, ap, writable);
  write_entry(table + pt::entry_offset(pt::kLevels - 1, va), e);
  ++s_pte_writes;
  m_ptes[va >> 12] = e;
  return true;
}

bool DevicePageTable::unmap(uint64_t va) {
  auto it = m_ptes.find(va >> 12);
  if (it == m_ptes.end()) return false;
  uint64_t table = table_for(va, false);
  write_entry(table + pt::entry_offset(pt::kLevels - 1, va), 0);
  ++s_pte_writes;
  m_ptes.erase(it);
  return true;
}

std::vector<uint64_t> DevicePageTable::unmap_range(uint64_t start, uint64_t end) {
  std::vector<uint64_t> vas;
  for (auto it = m_ptes.lower_bound(start >> 12); it != m_ptes.end() && it->first < (end >> 12); ++it)
    vas.push_back(it->first << 12);
  for (uint64_t va : vas) unmap(va);
  return vas;
}

std::vector<uint64_t> DevicePageTable::writable_sysmem_in(uint64_t start, uint64_t end) const {
  std::vector<uint64_t> vas;
  for (auto it = m_ptes.lower_bound(start >> 12); it != m_ptes.end() && it->first < (end >> 12); ++it)
    if (pt::pte_writable(it->second) && pt::aperture(it->second) != pt::Aperture::Vram) vas.push_back(it->first << 12);
  return vas;
}

bool DevicePageTable::ensure_tables(uint64_t start, uint64_t end) {
  // One leaf table covers 2 MiB: touch each 2 MiB step once.
  const uint64_t step = 1ull << pt::kLevel[pt::kLevels - 2].lo_bit;
  for (uint64_t va = start & ~(step - 1); va < end; va += step)
    if (table_for(va, true) == VramAllocator::kNone) return false;
  return true;
}

uint64_t DevicePageTable::pte(uint64_t va) const {
  auto it = m_ptes.find(va >> 12);
  return it == m_ptes.end() ? 0 : it->second;
}

uint64_t DevicePageTable::mapped_in(uint64_t start, uint64_t end) const {
  uint64_t n = 0;
  for (auto it = m_ptes.lower_bound(start >> 12); it != m_ptes.end() && it->first < (end >> 12); ++it)
    ++n;
  return n;
}

}  // namespace hmmsim::host
